"""The Python API: eval files and assertions from ordinary Python code and tests.

It uses the same loader, expander and scoring as the YAML items, so a check written in
Python gives the verdict the same check gives in an eval file.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .assertions import AssertionContext, GradingResult, grade
from .assertions.parse import parse_assertion
from .assertions.spec import AssertionSpec
from .config.expand import expand
from .config.loader import load_suite as _load_eval_file
from .config.model import Case
from .errors import ConfigError
from .providers.base import ProviderResponse
from .report.failure import format_verdicts
from .results import CaseResult

# What ``assert_output`` and ``grade_output`` accept: a type name (with ``value``), one
# ``{type, value, ...}`` mapping as in YAML, or a list of them.
AssertionInput = str | Mapping[str, Any] | Sequence[Mapping[str, Any]]


def load_suite(path: str | Path) -> list[Case]:
    """The expanded cases of an eval file, in collection order (one per pytest item)."""
    return expand(_load_eval_file(Path(path)))


def parse_assertions(assertions: AssertionInput, value: Any = None, *, base_dir: Path | None = None) -> list[AssertionSpec]:
    """YAML-shaped assertions from Python values, checked as the loader checks them."""
    if isinstance(assertions, str):
        raw: list[Mapping[str, Any]] = [{"type": assertions, **({"value": value} if value is not None else {})}]
    elif isinstance(assertions, Mapping):
        raw = [assertions]
    else:
        raw = list(assertions)
    folder = base_dir or Path.cwd()

    def load_file(at: Any, reference: str) -> Any:
        raise ConfigError(f"file:// values are read from eval files only, got {reference!r}", path=at)

    specs = []
    for index, item in enumerate(raw):
        if not isinstance(item, Mapping) or "type" not in item:
            raise ConfigError(f"an assertion is a mapping with a 'type', got {item!r}", path=(index,))
        specs.append(parse_assertion(dict(item), (index,), base_dir=folder, load_file=load_file))
    return specs


def grade_output(
    output: Any,
    assertions: AssertionInput,
    value: Any = None,
    *,
    vars: Mapping[str, Any] | None = None,
    prompt: str = "",
    threshold: float | None = None,
    response: ProviderResponse | None = None,
) -> GradingResult:
    """Grade ``output`` (text, data or a :class:`CaseResult`) with promptfoo's scoring rules."""
    if isinstance(output, CaseResult):
        response, prompt, output = output.response, output.prompt or prompt, output.output
    elif isinstance(output, ProviderResponse):
        response, output = output, output.output
    context = AssertionContext(vars=dict(vars or {}), prompt=prompt, base_dir=Path.cwd(), response=response)
    return grade(parse_assertions(assertions, value), output, context, threshold)


def assert_output(output: Any, assertions: AssertionInput, value: Any = None, **options: Any) -> GradingResult:
    """``grade_output``, raising ``AssertionError`` with every verdict when the output fails."""
    __tracebackhide__ = True
    result = grade_output(output, assertions, value, **options)
    if not result.passed:
        raise AssertionError(f"{result.reason}\n" + "\n".join(format_verdicts(result)))
    return result
