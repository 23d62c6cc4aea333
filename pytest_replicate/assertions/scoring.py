"""promptfoo's scoring rules: negation, weights, metrics, thresholds and assert-sets."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..templating import render_value
from .base import AssertionContext, GradingResult
from .registry import ASSERTION_TYPES
from .spec import AssertionSpec


def grade(
    asserts: Sequence[AssertionSpec], output: Any, ctx: AssertionContext, threshold: float | None = None
) -> GradingResult:
    """Grade ``output`` against ``asserts``.

    Without ``threshold`` every assertion must pass; with it, the weighted mean score must
    reach it. ``named_scores`` holds the mean score per ``metric``.
    """
    results = [_grade_one(spec, output, ctx) for spec in asserts]
    if not results:
        return GradingResult(True, 1.0, "no assertions")
    total_weight = sum(result.assertion.weight for result in results if result.assertion)
    score = (
        sum(result.score * result.assertion.weight for result in results if result.assertion) / total_weight
        if total_weight
        else 1.0
    )
    failed = [result for result in results if not result.passed]
    if threshold is not None:
        passed = score >= threshold
        reason = f"weighted score {score:.2f} {'>=' if passed else '<'} threshold {threshold:g}"
    else:
        passed = not failed
        reason = "all assertions passed" if passed else "; ".join(result.reason for result in failed)
    return GradingResult(passed, score, reason, children=results, named_scores=_named_scores(results))


def _named_scores(results: list[GradingResult]) -> dict[str, float]:
    buckets: dict[str, list[float]] = {}
    for result in results:
        if result.assertion and result.assertion.metric:
            buckets.setdefault(result.assertion.metric, []).append(result.score)
        for name, value in result.named_scores.items():
            buckets.setdefault(name, []).append(value)
    return {name: sum(values) / len(values) for name, values in buckets.items()}


def _grade_one(spec: AssertionSpec, output: Any, ctx: AssertionContext) -> GradingResult:
    if spec.transform is not None:
        output = spec.transform(output, ctx.as_user_context())
    if spec.type == "assert-set":
        inner = grade(spec.children, output, ctx, spec.threshold)
        return GradingResult(inner.passed, inner.score, inner.reason, spec, None, inner.children, inner.named_scores)
    kind = ASSERTION_TYPES[spec.type]
    value = spec.value
    if kind.render_value and value is not None:
        value = render_value(value, ctx.vars, what=f"{spec.display_type} value")
    verdict = kind.check(output, value, spec, ctx)
    passed = verdict.passed != spec.negate
    if verdict.score is None or (spec.negate and not kind.inverse_score):
        score = 1.0 if passed else 0.0
    else:
        score = 1.0 - verdict.score if spec.negate else verdict.score
    return GradingResult(passed, score, verdict.reason, spec, value)
