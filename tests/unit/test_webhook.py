"""``webhook`` asks a local grading service, with promptfoo's request, reply and verdict rules."""

from __future__ import annotations

import pytest
from helpers import closed_port, webhook_server

from pytest_replicate.api import grade_output


def grade(url: str, kind: str = "webhook", **options):
    return grade_output("The answer is 4", {"type": kind, "value": url}, vars={"q": "2+2"}, prompt="What is 2+2?",
                        **options).children[0]


def test_sends_the_output_and_context_and_reads_the_verdict() -> None:
    with webhook_server(lambda body: (200, {"pass": "4" in body["output"], "reason": "checked"})) as (url, received):
        result = grade(url)
    assert (result.passed, result.score, result.reason) == (True, 1.0, "checked")
    assert received == [{"output": "The answer is 4", "context": {"prompt": "What is 2+2?", "vars": {"q": "2+2"}}}]


@pytest.mark.parametrize(("reply", "kind", "expected"), [
    ({"pass": True}, "webhook", (True, 1.0, "Webhook returned true")),
    ({"pass": False}, "webhook", (False, 0.0, "Webhook returned false")),
    ({"pass": True, "score": 0.7}, "webhook", (True, 0.7, "Webhook returned true")),
    ({"pass": True, "score": 0.7}, "not-webhook", (False, pytest.approx(0.3), "Webhook returned true")),
    ({"pass": False}, "not-webhook", (True, 1.0, "Webhook returned false")),
    ({"pass": "yes"}, "webhook", (False, 0.0, 'Webhook error: Webhook response must be a JSON object with a boolean "pass" property')),
    ({"pass": "yes"}, "not-webhook", (False, 0.0, 'Webhook error: Webhook response must be a JSON object with a boolean "pass" property')),
    (["pass"], "webhook", (False, 0.0, 'Webhook error: Webhook response must be a JSON object with a boolean "pass" property')),
    (b"not json", "webhook", (False, 0.0, 'Webhook error: Webhook response must be a JSON object with a boolean "pass" property')),
])
def test_reply_rules(reply: object, kind: str, expected: tuple) -> None:
    with webhook_server(lambda body: (200, reply)) as (url, _):
        result = grade(url, kind)
    assert (result.passed, result.score, result.reason) == expected


def test_an_error_status_fails_even_negated() -> None:
    with webhook_server(lambda body: (500, {"pass": True})) as (url, _):
        result = grade(url, "not-webhook")
    assert (result.passed, result.reason) == (False, "Webhook error: Webhook response status: 500")


def test_an_unreachable_webhook_fails_with_the_reason() -> None:
    result = grade(f"http://127.0.0.1:{closed_port()}/grade")
    assert not result.passed
    assert result.reason.startswith("Webhook error: ")


def test_the_url_is_checked_when_the_assertion_is_read() -> None:
    with pytest.raises(Exception, match="URL of the webhook"):
        grade_output("x", {"type": "webhook", "value": 3})
