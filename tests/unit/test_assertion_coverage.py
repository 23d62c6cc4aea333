"""Every assertion type promptfoo 0.123.1 knows is either implemented or refused by name."""

from __future__ import annotations

import pytest

from pytest_replicate.api import parse_assertions
from pytest_replicate.assertions.registry import ASSERTION_TYPES, WHY_UNSUPPORTED
from pytest_replicate.errors import ConfigError

# promptfoo 0.123.1's BaseAssertionTypesSchema and SpecialAssertionTypesSchema, as listed in its dist/.
_LISTED = """
agent-rubric answer-relevance bleu classifier contains contains-all contains-any contains-html contains-json
contains-sql contains-xml context-faithfulness context-recall context-relevance conversation-relevance cost equals
factuality finish-reason g-eval gleu guardrails icontains icontains-all icontains-any is-html is-json is-refusal
is-sql is-valid-function-call is-valid-openai-function-call is-valid-openai-tools-call is-xml javascript latency
levenshtein llm-rubric pi meteor model-graded-closedqa model-graded-factuality moderation perplexity
perplexity-score python regex rouge-n ruby similar similar:cosine similar:dot similar:euclidean starts-with
tool-call-f1 skill-used trajectory:goal-success trajectory:tool-args-match trajectory:step-count
trajectory:tool-sequence trajectory:tool-used trace-error-spans trace-span-count trace-span-duration search-rubric
webhook word-count select-best human max-score
"""
PROMPTFOO_TYPES = _LISTED.split()


def test_every_promptfoo_type_is_implemented_or_named() -> None:
    assert [name for name in PROMPTFOO_TYPES if name not in ASSERTION_TYPES and name not in WHY_UNSUPPORTED] == []
    assert not set(ASSERTION_TYPES) & set(WHY_UNSUPPORTED)


@pytest.mark.parametrize("name", sorted(WHY_UNSUPPORTED))
def test_a_type_needing_what_we_lack_is_refused_with_the_reason(name: str) -> None:
    with pytest.raises(ConfigError) as refused:
        parse_assertions({"type": f"not-{name}" if name == "classifier" else name, "value": "x"})
    assert refused.value.message.startswith("promptfoo's assertion type ")
    assert f"is not supported: {WHY_UNSUPPORTED[name]}" in refused.value.message
