"""The failure view of one case, in promptfoo's spirit: vars, prompt, output, verdicts."""

from __future__ import annotations

import json
from typing import Any

from ..assertions import GradingResult
from ..assertions.base import output_text
from ..results import CaseResult

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
    limit = None if verbose else OUTPUT_LIMIT
    case = result.case
    # The first line is what pytest's short summary shows after "FAILED ... - ".
    if result.error is not None:
        parts = [result.error.splitlines()[0]]
    else:
        parts = [result.grading.reason if result.grading else "failed"]
    parts.append(f"provider: {case.provider.id}")
    if case.vars:
        parts.append("vars:")
        parts.extend(f"    {key}: {_truncate(_format_value(value), 200)}" for key, value in case.vars.items())
    if result.prompt is not None:
        parts.append("prompt:")
        parts.append(_indent(result.prompt if limit is None else _truncate(result.prompt, PROMPT_LIMIT)))
    if result.error is not None:
        if result.output is not None:  # e.g. an assertion raised: the output helps to see why
            parts.append("output:")
            text = output_text(result.output)
            parts.append(_indent(text if limit is None else _truncate(text, OUTPUT_LIMIT)))
        parts.append("error:")
        parts.append(_indent(result.error))
        return "\n".join(parts)
    parts.append("output:")
    text = output_text(result.output)
    parts.append(_indent(text if limit is None else _truncate(text, OUTPUT_LIMIT)))
    if result.grading is not None:
        parts.append("assertions:")
        parts.extend(format_verdicts(result.grading))
    return "\n".join(parts)
