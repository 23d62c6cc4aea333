"""``webhook``: a service of the user's grades the output, as in promptfoo 0.123.1.

The check POSTs ``{"output": ..., "context": {"prompt": ..., "vars": {...}}}`` as JSON to the
URL in ``value`` and reads ``{"pass": bool, "score"?: number, "reason"?: text}`` back. Within
``WEBHOOK_TIMEOUT`` milliseconds (default 5000), as in promptfoo. A non-2xx answer, an
unreachable URL or a reply without a boolean ``pass`` fails the assertion (negated too).
Inside an eval item the request goes through the item's cassette like a grader call, so a
recorded suite replays offline without the service.
"""

from __future__ import annotations

import os
from typing import Any

import httpx

from ...jscompat.values import is_js_number
from ..base import AssertionContext, Verdict
from ..declare import assertion
from ..spec import AssertionSpec

_DEFAULT_TIMEOUT_MS = 5000


def _url_problem(value: Any) -> str | None:
    if isinstance(value, str) and value.strip():
        return None
    return "value must be the URL of the webhook (http:// or https://)"


def _timeout() -> float:
    try:
        return int(os.environ.get("WEBHOOK_TIMEOUT", _DEFAULT_TIMEOUT_MS)) / 1000
    except ValueError:
        return _DEFAULT_TIMEOUT_MS / 1000


def _post(url: str, body: dict[str, Any], ctx: AssertionContext) -> httpx.Response:
    if ctx.call_context is not None and ctx.call_context.http is not None:
        return ctx.call_context.http.post(url, json=body, timeout=_timeout())
    with httpx.Client() as client:  # the Python API without a session: no cassette to go through
        return client.post(url, json=body, timeout=_timeout())


@assertion("webhook", validate_value=_url_problem, inverse_score=True)
def check_webhook(output: Any, value: Any, spec: AssertionSpec, ctx: AssertionContext) -> Verdict:
    body = {"output": output, "context": {"prompt": ctx.prompt, "vars": dict(ctx.vars)}}
    try:
        response = _post(value, body, ctx)
    except (httpx.HTTPError, ValueError) as error:  # ValueError: httpx refuses a URL it cannot use
        return Verdict(False, f"Webhook error: {error or type(error).__name__}", final=True)
    if not response.is_success:
        return Verdict(False, f"Webhook error: Webhook response status: {response.status_code}", final=True)
    try:
        answer = response.json()
    except ValueError:
        answer = None
    if not isinstance(answer, dict) or not isinstance(answer.get("pass"), bool):
        return Verdict(False, 'Webhook error: Webhook response must be a JSON object with a boolean "pass" property',
                       final=True)
    score = answer.get("score")
    if score is not None and not is_js_number(score):
        return Verdict(False, f"Webhook error: the score must be a number, got {score!r}", final=True)
    reason = answer.get("reason") or ("Webhook returned true" if answer["pass"] else "Webhook returned false")
    return Verdict(answer["pass"], str(reason), None if score is None else float(score))
