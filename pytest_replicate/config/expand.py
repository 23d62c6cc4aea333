"""Expand a suite into cases: tests x var combinations x prompts x providers.

Names are derived from content (description, vars, prompt and provider labels), never
from list positions alone, so adding a case does not rename the others or their cassettes.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections import Counter
from collections.abc import Iterator
from typing import Any

from .model import Case, EvalSuite, TestCase

_LABEL_LIMIT = 60


def expand(suite: EvalSuite) -> list[Case]:
    cases = []
    for test in suite.tests:
        combinations = list(_var_combinations(test.vars))
        expanded_keys = [key for key, value in test.vars.items() if isinstance(value, list)]
        for variables in combinations:
            label = _case_label(test, variables, expanded_keys if len(combinations) > 1 else [])
            for prompt in suite.prompts:
                for provider in suite.providers:
                    if provider.runs_prompt(prompt):
                        cases.append(Case(label, suite, test, variables, prompt, provider))
    _make_unique(cases)
    return cases


def _var_combinations(variables: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """A list value gives one case per element; several lists combine as a cartesian product."""
    keys = list(variables)
    choices = [value if isinstance(value, list) else [value] for value in variables.values()]
    for combination in itertools.product(*choices):
        yield dict(zip(keys, combination, strict=False))


def _format_vars(variables: dict[str, Any], keys: list[str]) -> str:
    return ", ".join(f"{key}={_scalar(variables[key])}" for key in keys)


def _scalar(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return " ".join(text.split())


def _case_label(test: TestCase, variables: dict[str, Any], expanded_keys: list[str]) -> str:
    if test.description:
        label = test.description + (f" ({_format_vars(variables, expanded_keys)})" if expanded_keys else "")
    else:
        label = _format_vars(variables, list(variables)) or "default"
    label = " ".join(label.split())  # one line, as node ids are listed one per line
    return label if len(label) <= _LABEL_LIMIT else label[: _LABEL_LIMIT - 3] + "..."


def _fingerprint(case: Case) -> str:
    content = {
        "vars": case.vars,
        "assert": [(a.display_type, a.value) for a in case.test.asserts],
        "metadata": case.test.metadata,
    }
    return hashlib.sha1(json.dumps(content, sort_keys=True, default=str).encode()).hexdigest()[:6]


def _make_unique(cases: list[Case]) -> None:
    """Cases that share a name get a short content hash, then (if still equal) a counter."""
    counts = Counter(case.name for case in cases)
    for case in cases:
        if counts[case.name] > 1:
            case.label = f"{case.label} #{_fingerprint(case)}"
    seen: Counter[str] = Counter()
    for case in cases:
        seen[case.name] += 1
        if seen[case.name] > 1:
            case.label = f"{case.label} ~{seen[case.name]}"
