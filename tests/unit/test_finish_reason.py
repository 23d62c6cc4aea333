"""Replicate states no finish reason; the provider infers promptfoo's ``stop``/``length`` only when it can."""

from __future__ import annotations

import pytest

from pytest_replicate.providers.replicate.text import finish_reason


def prediction(status: str = "succeeded", count: object = 10, **model_input: object) -> dict:
    return {"status": status, "input": {"prompt": "hi", **model_input}, "metrics": {"output_token_count": count}}


@pytest.mark.parametrize(("made", "expected"), [
    (prediction(max_tokens=100), "stop"),
    (prediction(count=100, max_tokens=100), "length"),
    (prediction(count=128, max_new_tokens=128), "length"),
    (prediction(count=20, max_length=20), "length"),
    (prediction(count=50, max_tokens=512, max_new_tokens=50), "length"),  # the tighter limit bounds the output
    (prediction(), None),  # the model's own default limit is not shown
    (prediction(count=None, max_tokens=100), None),  # no token count in the metrics
    (prediction(max_tokens=True), None),
    (prediction("failed", max_tokens=100), None),
    ({"status": "succeeded", "input": {"max_tokens": 5}}, None),
])
def test_finish_reason_is_inferred_only_from_what_replicate_shows(made: dict, expected: str | None) -> None:
    assert finish_reason(made) == expected
