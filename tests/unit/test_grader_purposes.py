"""Which provider kind grades which purpose is one table (providers/purposes.py) that the rest reads."""

from __future__ import annotations

import pytest

from pytest_replicate.errors import ConfigError
from pytest_replicate.providers.purposes import GRADER_KINDS, grader_purpose
from pytest_replicate.run.graders import SessionGraders
from pytest_replicate.run.settings import DEFAULT_GRADERS


def test_every_purpose_has_a_default_grader_of_its_kind() -> None:
    assert set(DEFAULT_GRADERS) == set(GRADER_KINDS)
    assert {purpose: grader_purpose(grader) for purpose, grader in DEFAULT_GRADERS.items()} == {
        purpose: purpose for purpose in GRADER_KINDS}


@pytest.mark.parametrize(("provider_id", "purpose"), [
    ("replicate:embedding:a/b", "embedding"),
    ("replicate:moderation:meta/llama-guard-3-8b", "moderation"),
    ("replicate:meta/meta-llama-3-8b-instruct", "text"),
    ("echo", "text"),
])
def test_a_provider_ids_kind_decides_its_purpose(provider_id: str, purpose: str) -> None:
    assert grader_purpose(provider_id) == purpose


@pytest.mark.parametrize(("purpose", "hint"), [
    ("embedding", "use a replicate:embedding:OWNER/MODEL[:VERSION] id, or a map such as {text: ..., embedding: ...}"),
    ("moderation", "use a replicate:moderation:OWNER/MODEL[:VERSION] id, or a map such as {text: ..., moderation: ...}"),
    ("text", f"use a language model id such as {DEFAULT_GRADERS['text']}"),
])
def test_a_grader_of_the_wrong_kind_gets_the_hint_of_its_purpose(purpose: str, hint: str) -> None:
    graders = SessionGraders(lambda *args, **kwargs: pytest.fail("no provider is made"))
    wrong = "replicate:embedding:a/b" if purpose != "embedding" else "replicate:a/b"
    with pytest.raises(ConfigError) as error:
        graders.grader(purpose, wrong)
    assert error.value.hint == hint
