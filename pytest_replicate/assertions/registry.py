"""The assertion-type registry: names, their check functions and load-time value checks."""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .base import AssertionContext, Verdict
from .spec import AssertionSpec

Check = Callable[[Any, Any, AssertionSpec, AssertionContext], Verdict]


@dataclass(frozen=True)
class AssertionType:
    name: str
    check: Check
    needs_value: bool
    validate_value: Callable[[Any], str | None] | None = None  # returns an error message
    render_value: bool = True  # whether vars are rendered into the value first
    provider_prefix: str | None = None  # what an assertion-level ``provider`` id must start with
    list_value: bool = False  # the value is a list; promptfoo's CSV syntax gives it comma-separated
    # A threshold is required (promptfoo throws without one); this names its unit for the message.
    threshold_unit: str | None = None
    # The score is a measure (BLEU, ROUGE...): negated, promptfoo scores it 1 - score, not 0/1.
    inverse_score: bool = False


ASSERTION_TYPES: dict[str, AssertionType] = {}
# promptfoo assertion types we do not implement (yet): named as such instead of "unknown".
PROMPTFOO_ONLY_TYPES = frozenset({
    "javascript",
    "perplexity", "perplexity-score", "meteor", "webhook",
    "classifier", "is-valid-openai-tools-call", "is-valid-openai-function-call", "is-sql",
    "contains-sql", "is-xml", "contains-xml", "is-html", "contains-html", "trace-span-count",
    "finish-reason", "is-refusal", "pi", "guardrails", "ruby", "human",
})
# Why some of them cannot be offered at all: said at collection instead of "not supported yet".
WHY_UNSUPPORTED = {
    "perplexity": "it needs the log-probabilities of the output tokens, which neither Replicate "
                  "predictions nor the echo provider return",
    "meteor": "promptfoo 0.123.1's own meteor fails on every input (its 'natural' import finds no "
              "PorterStemmer), and its WordNet synonyms need data no PyPI package ships; use bleu, "
              "gleu or rouge-n",
}
WHY_UNSUPPORTED["perplexity-score"] = WHY_UNSUPPORTED["perplexity"]


def assertion(
    name: str,
    *,
    needs_value: bool = True,
    validate_value: Callable[[Any], str | None] | None = None,
    render_value: bool = True,
    provider_prefix: str | None = None,
    list_value: bool = False,
    threshold_unit: str | None = None,
    inverse_score: bool = False,
) -> Callable[[Check], Check]:
    """Register a check under a promptfoo assertion type name."""

    def register(check: Check) -> Check:
        ASSERTION_TYPES[name] = AssertionType(name, check, needs_value, validate_value, render_value, provider_prefix,
                                              list_value, threshold_unit, inverse_score)
        return check

    return register


def suggest_type(name: str) -> str | None:
    """The valid type closest to a misspelled ``name`` (``not-`` forms included)."""
    known = list(ASSERTION_TYPES) + ["assert-set"] + [f"not-{n}" for n in ASSERTION_TYPES]
    matches = difflib.get_close_matches(name, known, n=1, cutoff=0.5)
    return matches[0] if matches else None


def _load_checks() -> None:
    # Importing the modules registers their checks.
    from . import comparison, deterministic, image, metrics, model_graded, moderation, rag, similarity  # noqa: F401


_load_checks()
