"""The failure view of one case, in promptfoo's spirit: vars, prompt, output, verdicts."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ..assertions import GradingResult
from ..assertions.base import output_text
from ..results.case import CaseResult
from ..results.sampling import CONFIDENCE
from ..text import one_line, shorten

OUTPUT_LIMIT = 2000
PROMPT_LIMIT = 2000


def _truncate(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return f"{text[:limit]}\n... ({len(text) - limit} more characters; use -vv to see everything)"


def _indent(text: str, prefix: str = "    ") -> str:
    return "\n".join(prefix + line for line in (text.splitlines() or [""]))


def _format_value(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def format_verdicts(result: GradingResult, depth: int = 0) -> list[str]:
    lines = []
    for child in result.children:
        spec = child.assertion
        mark = "PASS" if child.passed else "FAIL"
        head = spec.display_type if spec else "?"
        if child.value is not None:
            head += f" {child.value!r}" if isinstance(child.value, str) else f" {_format_value(child.value)}"
        extras = [f"score {child.score:.2f}"]
        if spec and spec.weight != 1:
            extras.append(f"weight {spec.weight:g}")
        if spec and spec.metric:
            extras.append(f"metric {spec.metric}")
        lines.append(f"{'  ' * depth}  [{mark}] {head} ({', '.join(extras)}): {child.reason}")
        lines.extend(format_verdicts(child, depth + 1))
    return lines


def format_failure(result: CaseResult, *, verbose: bool = False) -> str:
    """The failure view of an eval item (and of ``run_case`` in a test function)."""
    case = result.case
    if result.verdict is not None:
        return format_samples(result, verbose=verbose)
    return format_report(
        result.grading, result.output, error=result.error, provider=case.provider.id, vars=case.vars,
        prompt=result.prompt, verbose=verbose,
    )


def format_samples(result: CaseResult, *, verbose: bool = False) -> str:
    """A repeated case: its verdict (or why its samples stopped), the tally, then each failing
    sample's output and why, one line each (in full, with every assertion's verdict, under -vv)."""
    verdict = result.verdict
    assert verdict is not None
    case = result.case
    headline = result.error if result.error is not None else verdict.reason
    parts = [headline.splitlines()[0], f"provider: {case.provider.id}"]
    if case.vars:
        parts.append("vars:")
        parts.extend(f"    {key}: {_truncate(_format_value(value), 200)}" for key, value in case.vars.items())
    if result.prompt is not None:
        parts.append("prompt:")
        parts.append(_indent(result.prompt if verbose else _truncate(result.prompt, PROMPT_LIMIT)))
    if result.error is not None:
        parts.append("error:")
        parts.append(_indent(result.error))
    if verdict.ran:
        low, high = verdict.interval
        parts.append(f"samples: {verdict.passes} of {verdict.ran} passed ({verdict.reducer}), mean score "
                     f"{verdict.mean_score:.2f}, {CONFIDENCE:.0%} interval {low:.2f}-{high:.2f}"
                     + (", flaky" if verdict.flaky else ""))
    # Failing samples alike (same error, or same score, reason and output) share one entry.
    alike: dict[tuple[Any, ...], list[int]] = {}
    for number, sample in enumerate(result.samples, 1):
        if not sample.passed and (sample.error is None or sample.error != result.error):  # shown above
            key = (sample.error, sample.score, sample.reason, _format_value(sample.output))
            alike.setdefault(key, []).append(number)
    for numbers in alike.values():
        parts.extend(_failed_samples(numbers, result.samples[numbers[0] - 1], verbose))
    return "\n".join(parts)


def _failed_samples(numbers: list[int], sample: CaseResult, verbose: bool) -> list[str]:
    which = f"sample {numbers[0]}" if len(numbers) == 1 else "samples " + ", ".join(map(str, numbers))
    if sample.error is not None:
        lines = [f"  {which} [ERROR]: {sample.error.splitlines()[0]}"]
    else:
        lines = [f"  {which} [FAIL] score {sample.score or 0.0:.2f}: {sample.reason}"]
    text = output_text(sample.output) if sample.output is not None else None
    if not verbose:
        return lines + ([f"      output: {shorten(one_line(text), 200)}"] if text is not None else [])
    if text is not None:
        lines += ["      output:", _indent(text, " " * 8)]
    if sample.grading is not None:
        lines += ["    " + line for line in format_verdicts(sample.grading)]
    return lines


def format_report(
    grading: GradingResult | None,
    output: Any,
    *,
    error: str | None = None,
    provider: str | None = None,
    vars: Mapping[str, Any] | None = None,
    prompt: str | None = None,
    verbose: bool = False,
) -> str:
    """Headline, provider, vars, prompt, output and each verdict: what an eval item and
    ``assert_output`` both show, so a check reads the same from YAML and from Python."""
    limit = None if verbose else OUTPUT_LIMIT
    # The first line is what pytest's short summary shows after "FAILED ... - ".
    headline = error.splitlines()[0] if error is not None else (grading.reason if grading else "failed")
    parts = [headline]
    if provider is not None:
        parts.append(f"provider: {provider}")
    if vars:
        parts.append("vars:")
        parts.extend(f"    {key}: {_truncate(_format_value(value), 200)}" for key, value in vars.items())
    if prompt is not None:
        parts.append("prompt:")
        parts.append(_indent(prompt if limit is None else _truncate(prompt, PROMPT_LIMIT)))
    if error is not None:
        if output is not None:  # e.g. an assertion raised: the output helps to see why
            parts.append("output:")
            text = output_text(output)
            parts.append(_indent(text if limit is None else _truncate(text, OUTPUT_LIMIT)))
        parts.append("error:")
        parts.append(_indent(error))
        return "\n".join(parts)
    parts.append("output:")
    text = output_text(output)
    parts.append(_indent(text if limit is None else _truncate(text, OUTPUT_LIMIT)))
    if grading is not None:
        parts.append("assertions:")
        parts.extend(format_verdicts(grading))
    return "\n".join(parts)
