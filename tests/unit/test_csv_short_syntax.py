"""promptfoo's CSV ``__expected`` syntax, read against the assertion registry."""

from __future__ import annotations

import pytest

from pytest_replicate.assertions.registry import ASSERTION_TYPES
from pytest_replicate.suite.csv_tests import assertion_from_string


@pytest.mark.parametrize("name", sorted(name for name, kind in ASSERTION_TYPES.items() if not kind.needs_value))
def test_every_value_less_type_is_an_assertion_not_an_equals(name: str) -> None:
    # promptfoo's assertionFromString gives cost, latency and the RAG checks (among others) threshold 0.75.
    with_threshold = ("cost", "latency", "answer-relevance", "context-faithfulness", "context-relevance")
    default = {"threshold": 0.75} if name in with_threshold else {}
    assert assertion_from_string(name) == {"type": name, **default}
    assert assertion_from_string(f"not-{name}") == {"type": f"not-{name}", **default}


def test_is_image_cell() -> None:
    assert assertion_from_string("is-image") == {"type": "is-image"}


@pytest.mark.parametrize("name", sorted(name for name, kind in ASSERTION_TYPES.items() if kind.list_value))
def test_list_types_split_on_commas(name: str) -> None:
    assert assertion_from_string(f"{name}: a, b") == {"type": name, "value": ["a", "b"]}


def test_a_type_that_needs_a_value_without_one_is_an_equals() -> None:
    assert assertion_from_string("contains") == {"type": "equals", "value": "contains"}
