"""Reading Replicate's answers, and the words for each way a call can go wrong.

One place for these, so every message has the same shape: what was expected, what came,
the URL, and the cassette when the answer was replayed from one. Messages pass through
:func:`~pytest_replicate.redaction.hide_tokens`, since servers echo input back.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import httpx

from ...errors import ProviderError, display_path
from ...http.extensions import REPLAYED
from ...redaction import hide_tokens

# Every status a prediction can have; the last four are final.
STATUSES = ("starting", "processing", "succeeded", "failed", "canceled", "aborted")
TERMINAL = ("succeeded", "failed", "canceled", "aborted")


def origin_note(response: httpx.Response) -> str:
    """`` (replayed from cassette X)`` when the response came from a cassette, else ``""``."""
    cassette = response.extensions.get(REPLAYED)
    return f" (replayed from cassette {display_path(cassette)})" if cassette else ""


def _body_sample(response: httpx.Response) -> str:
    text = response.content[:120].decode("utf-8", "replace")
    kind = response.headers.get("Content-Type", "no Content-Type").split(";")[0]
    if not text.strip():
        return f"an empty body ({kind})"
    return f"{kind} {text!r}" + ("..." if len(response.content) > 120 else "")


def unexpected(response: httpx.Response, expected: str, came: str, secrets: Iterable[str | None] = ()) -> ProviderError:
    """A :class:`ProviderError` for an answer of the wrong shape."""
    request = response.request
    return ProviderError(hide_tokens(
        f"expected {expected} from {request.method} {request.url}, got {came} (HTTP {response.status_code})"
        + origin_note(response), secrets))


# No answer Replicate gives nests this deep; everything that walks a value (redaction, results,
# reports, assertions) may recurse once or twice per level, within Python's recursion limit.
MAX_JSON_DEPTH = 200
TOO_DEEP = "the server's answer is nested too deeply to read"


def _too_deep(value: Any, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether ``value`` nests lists and dicts more than ``limit`` levels deep (walked without recursion)."""
    pending: list[tuple[Any, int]] = [(value, 0)]
    while pending:
        item, depth = pending.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is None:
            continue
        if depth >= limit:
            return True
        pending.extend((child, depth + 1) for child in children)
    return False


def too_deep_error(response: httpx.Response, secrets: Iterable[str | None] = ()) -> ProviderError:
    request = response.request
    return ProviderError(hide_tokens(
        f"{TOO_DEEP}: {request.method} {request.url} answered JSON nested more than {MAX_JSON_DEPTH} levels "
        f"deep (HTTP {response.status_code})" + origin_note(response), secrets))


def parse_json(response: httpx.Response, secrets: Iterable[str | None] = ()) -> Any:
    """``response``'s JSON body; ValueError when it is not JSON, :class:`ProviderError` when it
    nests too deeply to read or walk (``json`` would raise RecursionError, or code after it)."""
    try:
        data = response.json()
    except RecursionError:
        raise too_deep_error(response, secrets) from None
    content = response.content
    # Each level opens a bracket: a body with no more brackets than the limit cannot nest deeper.
    if content.count(b"[") + content.count(b"{") > MAX_JSON_DEPTH and _too_deep(data):
        raise too_deep_error(response, secrets)
    return data


def read_json(response: httpx.Response, expected: str, secrets: Iterable[str | None] = ()) -> Any:
    try:
        return parse_json(response, secrets)
    except ValueError:
        raise unexpected(response, expected, _body_sample(response), secrets) from None


def read_prediction(response: httpx.Response, secrets: Iterable[str | None] = ()) -> dict[str, Any]:
    """The prediction object in ``response``, checked for the fields the client relies on."""
    expected = "a prediction object (JSON with id and status)"
    data = read_json(response, expected, secrets)
    if not isinstance(data, dict):
        raise unexpected(response, expected, f"JSON {type(data).__name__} {str(data)[:60]!r}", secrets)
    missing = [key for key in ("id", "status") if not isinstance(data.get(key), str) or not data[key]]
    if missing:
        raise unexpected(response, expected, f"an object without {' and '.join(missing)} "
                                             f"(keys: {', '.join(sorted(data)[:8]) or 'none'})", secrets)
    if data["status"] not in STATUSES:
        raise unexpected(response, expected, f"unknown status {data['status']!r}", secrets)
    return data


def api_error(response: httpx.Response) -> tuple[str, str, dict[str, Any]]:
    """(title, detail, whole body) of a Replicate error answer ``{"title", "detail", "status"}``;
    :class:`ProviderError` when it nests too deeply to read."""
    try:
        body = parse_json(response)
    except ValueError:
        return response.reason_phrase, response.text[:200].strip(), {}
    if not isinstance(body, dict):
        return response.reason_phrase, str(body)[:200], {}
    return str(body.get("title") or response.reason_phrase), str(body.get("detail") or ""), body


def rejected_parameters(body: dict[str, Any], detail: str) -> list[tuple[str, str]]:
    """(parameter, reason) pairs from a 422: ``invalid_fields`` when given, else ``input.x: ...`` lines."""
    found: list[tuple[str, str]] = []
    for field in body.get("invalid_fields") or []:
        if isinstance(field, dict) and field.get("field"):
            found.append((str(field["field"]).removeprefix("input."), str(field.get("description") or "")))
    if not found:
        for match in re.finditer(r"(?m)^[-\s]*input\.([\w.\[\]]+):\s*(.+)$", detail):
            found.append((match.group(1), match.group(2).strip()))
    return found


def status_error(status: str, prediction: dict[str, Any], slug: str) -> str | None:
    """The item's error for a prediction that ended without output; None when it succeeded."""
    pid = prediction.get("id")
    if status == "failed":
        return f"prediction {pid} of {slug} failed: {prediction.get('error')}"
    if status == "canceled":
        return f"prediction {pid} of {slug} was canceled (by Replicate, its Cancel-After deadline, or someone else)"
    if status == "aborted":
        return (f"prediction {pid} of {slug} was aborted: its deadline (Cancel-After) passed before it "
                "started, usually because the model was still booting; raise 'timeout' or try again")
    return None
