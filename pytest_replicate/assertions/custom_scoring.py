"""A test's ``assertScoringFunction``: the user's own verdict from the graded assertions.

As promptfoo 0.123.1's ``AssertionsResult.testResult`` calls it: with the named scores and
``{threshold, componentResults, parentAssertionSet, tokensUsed}``; it returns a grading result
(``{pass, score, reason}``, and optionally ``namedScores``) that replaces the case's. A
function that raises, or returns anything else, fails the case with score 0 and says why.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..errors import ReplicateEvalError
from .base import GradingResult


def scored(function: Callable[[Any, Any], Any], grading: GradingResult, threshold: float | None) -> GradingResult:
    """``grading`` as the scoring ``function`` decides it."""
    context = {
        "threshold": threshold,
        "parentAssertionSet": None,
        "componentResults": [_component(child) for child in grading.children],
        "tokensUsed": {"total": 0, "prompt": 0, "completion": 0},
    }
    try:
        found = function(dict(grading.named_scores), context)
    except ReplicateEvalError as error:
        return _failed(grading, f"Scoring function error: {error}")
    if not _grading_result(found):
        return _failed(grading, "Scoring function error: assertion scoring function must return a GradingResult "
                                f"({{pass: bool, score: number, reason: str}}), got {found!r:.100}")
    named = found.get("namedScores")
    return GradingResult(found["pass"], float(found["score"]), found["reason"], children=grading.children,
                         named_scores=dict(named) if isinstance(named, dict) else grading.named_scores)


def _grading_result(value: Any) -> bool:
    """promptfoo's ``isGradingResult``."""
    return (isinstance(value, dict) and isinstance(value.get("pass"), bool)
            and isinstance(value.get("score"), (int, float)) and not isinstance(value.get("score"), bool)
            and isinstance(value.get("reason"), str)
            and (value.get("namedScores") is None or isinstance(value["namedScores"], dict)))


def _component(result: GradingResult) -> dict[str, Any]:
    spec = result.assertion
    return {"pass": result.passed, "score": result.score, "reason": result.reason,
            "assertion": None if spec is None else {"type": spec.display_type, "value": result.value,
                                                   "metric": spec.metric, "weight": spec.weight}}


def _failed(grading: GradingResult, reason: str) -> GradingResult:
    return GradingResult(False, 0.0, reason, children=grading.children, named_scores=grading.named_scores)
