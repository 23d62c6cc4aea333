"""promptfoo's scoring rules: negation, weights, metrics, thresholds and assert-sets.

As in promptfoo 0.123.1 (``runAssertions`` and ``AssertionsResult``):

- a case's score is the weighted mean of its assertions' scores, 0 when every weight is 0;
- without ``threshold`` the case passes when no assertion failed; with one, when the score
  reaches it (failures then only lower the score);
- an assertion with ``weight: 0`` never fails its case; it is reported and feeds its metric;
- an ``assert-set`` is graded like a case of its own (its own ``threshold``) and then counts
  as one assertion of its ``weight``; plain assertions are added up first, then the sets;
- a metric is the weighted mean of the scores reported under its (rendered) name.

- ``max-score`` is graded after the others, from their results on each of the test's
  outputs (the case's own, and its siblings' graded here); it adds nothing to the mean:
  it passes the case or fails it with score 0.

Where we differ on purpose: a weight-0 ``assert-set`` never fails its case either (promptfoo
lets it fail the case), and a metric fed only by weight-0 assertions is their plain mean
(promptfoo reports 0, which says nothing).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from ..errors import TemplateError, TransformError
from ..templating import render, render_value
from .base import AssertionContext, GradingResult, VerdictReached
from .registry import ASSERTION_TYPES
from .spec import AssertionSpec


def grade(
    asserts: Sequence[AssertionSpec], output: Any, ctx: AssertionContext, threshold: float | None = None
) -> GradingResult:
    """Grade ``output`` against ``asserts`` (see the module docstring for the rules)."""
    comparisons = [spec for spec in asserts if spec.type == "max-score"]
    if not comparisons:
        return _grade_group(asserts, output, ctx, threshold)[0]
    result = _grade_group([spec for spec in asserts if spec.type != "max-score"], output, ctx, threshold)[0]
    if ctx.compared is not None:
        siblings, index = ctx.compared
        # The siblings' select-best verdicts would need their own siblings and count for nothing here.
        counted = [spec for spec in asserts if spec.type not in ("max-score", "select-best")]
        ctx = replace(ctx, compared_results=[
            result.children if i == index else _grade_group(counted, sibling.output, sibling.context, None)[0].children
            for i, sibling in enumerate(siblings)])
    for spec in comparisons:
        comparison = _grade_one(spec, output, ctx)[0]
        result = GradingResult(
            result.passed and comparison.passed,
            result.score if comparison.passed else comparison.score,
            comparison.reason if result.passed and not comparison.passed else result.reason,
            children=[*result.children, comparison], named_scores=result.named_scores)
    return result


@dataclass
class _Metric:
    weighted: float = 0.0
    weight: float = 0.0
    scores: list[float] = field(default_factory=list)  # unweighted, for the all-weight-0 case

    def add(self, score: float, weight: float) -> None:
        self.weighted += score * weight
        self.weight += weight
        self.scores.append(score)

    @property
    def value(self) -> float:
        if self.weight > 0:
            return self.weighted / self.weight
        return sum(self.scores) / len(self.scores) if self.scores else 0.0


def _grade_group(
    asserts: Sequence[AssertionSpec], output: Any, ctx: AssertionContext, threshold: float | None
) -> tuple[GradingResult, dict[str, float]]:
    """The result of a list of assertions, and the weight behind each of its named scores."""
    if not asserts:
        return GradingResult(True, 1.0, "no assertions"), {}
    results: list[GradingResult] = []
    child_weights: list[dict[str, float]] = []
    for spec in asserts:
        result, weights = _grade_one(spec, output, ctx)
        results.append(result)
        child_weights.append(weights)
    # promptfoo adds the plain assertions first, then each assert-set; float sums follow suit.
    order = [i for i, spec in enumerate(asserts) if spec.type != "assert-set"]
    order += [i for i, spec in enumerate(asserts) if spec.type == "assert-set"]
    total = total_weight = 0.0
    metrics: dict[str, _Metric] = {}
    for index in order:
        spec, result = asserts[index], results[index]
        total += result.score * spec.weight
        total_weight += spec.weight
        name = _metric_name(spec, ctx)
        if name:
            metrics.setdefault(name, _Metric()).add(result.score, spec.weight)
        for inner_name, inner_score in result.named_scores.items():
            if inner_name != name:
                inner_weight = child_weights[index].get(inner_name, 1.0) * spec.weight
                metrics.setdefault(inner_name, _Metric()).add(inner_score, inner_weight)
    score = total / total_weight if total_weight > 0 else 0.0
    failed = [result for result in results if not result.passed]
    if threshold is not None:
        passed = score >= threshold
        reason = f"weighted score {score:.2f} {'>=' if passed else '<'} threshold {threshold:g}"
    else:
        passed = not failed
        reason = "all assertions passed" if passed else "; ".join(result.reason for result in failed)
    named = {name: metric.value for name, metric in metrics.items()}
    weights = {name: metric.weight for name, metric in metrics.items()}
    return GradingResult(passed, score, reason, children=results, named_scores=named), weights


def _metric_name(spec: AssertionSpec, ctx: AssertionContext) -> str | None:
    """promptfoo renders a metric name with the case's vars (``metric: "{{ lang }}-quality"``)."""
    if not spec.metric:
        return spec.metric
    try:
        return render(spec.metric, ctx.vars, what="metric name")
    except TemplateError:
        return spec.metric  # as promptfoo does when a metric name cannot be rendered


def _value_from_script(spec: AssertionSpec, output: Any, ctx: AssertionContext) -> Any:
    """promptfoo's valueFromScript: what ``value: file://x.js`` returns for this output is the value;
    a verdict (a boolean, a function, a GradingResult) belongs to javascript and python assertions only."""
    assert spec.value_code is not None
    value = spec.value_code(output, ctx.as_user_context(spec))
    if isinstance(value, bool) or (isinstance(value, dict) and "pass" in value):
        what = "a boolean" if isinstance(value, bool) else "a GradingResult"
        raise TransformError(f"the script for this {spec.display_type} assertion returned {what}: only javascript "
                             "and python assertions take verdicts; return the expected value")
    return value


def _grade_one(spec: AssertionSpec, output: Any, ctx: AssertionContext) -> tuple[GradingResult, dict[str, float]]:
    if spec.transform is not None:
        output = spec.transform(output, ctx.as_user_context())
    if spec.type == "assert-set":
        inner, weights = _grade_group(spec.children, output, ctx, spec.threshold)
        result = GradingResult(inner.passed, inner.score, inner.reason, spec, None, inner.children, inner.named_scores)
    else:
        kind = ASSERTION_TYPES[spec.type]
        value = spec.value if spec.value_code is None else _value_from_script(spec, output, ctx)
        if kind.render_value and value is not None and spec.value_code is None:
            value = render_value(value, ctx.vars, what=f"{spec.display_type} value")
        try:
            verdict = kind.check(output, value, spec, ctx)
        except VerdictReached as reached:
            verdict = reached.verdict
        passed = verdict.passed != spec.negate
        if verdict.final:  # the check applied (or, as promptfoo, ignores) the negation itself
            passed = verdict.passed
            score = verdict.score if verdict.score is not None else float(passed)
        elif verdict.score is None or (spec.negate and not kind.inverse_score):
            score = 1.0 if passed else 0.0
        else:
            score = 1.0 - verdict.score if spec.negate else verdict.score
        result, weights = GradingResult(passed, score, verdict.reason, spec, value), {}
    if spec.weight == 0 and not result.passed:
        result.passed = True
        result.reason += " (weight 0: reported, never fails the case)"
    return result, weights
