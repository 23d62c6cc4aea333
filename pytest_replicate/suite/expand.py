"""Expand a suite into cases: tests x var combinations x prompts x providers.

Names are derived from content (description, vars, prompt and provider labels), never
from list positions alone, so adding a case does not rename the others or their cassettes.

Vars follow promptfoo's rules (0.123.1, ``generateVarCombinations`` and ``renderPrompt`` in
its evaluator):

- a list expands into one case per element only when its first element is a string; a
  list of numbers or of objects (a chat history) is one value, and ``[]`` is one case;
- a ``file://`` glob expands into one case per matching file;
- a ``file://x.py`` var is ``get_var(var_name, prompt, other_vars)["output"]``, trimmed;
- every string var loses one trailing newline;
- a string var is a template rendered with the other vars (after the vars it uses), unless
  it names a variable the case does not have: then it stays as written.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import replace
from functools import lru_cache
from typing import Any

import jinja2
import jinja2.meta

from ..errors import ConfigError, ReplicateEvalError
from ..jscompat.engine import JsError
from ..templating import has_template_syntax, render
from ..text import one_line, shorten
from .limits import DEFAULT_MAX_CASES, MAX_CASES_OPTION
from .model import Case, EvalSuite, FileChoices, FileVar, Prompt, ProviderSpec, TestCase
from .prompts import called

_LABEL_LIMIT = 60



def expand(suite: EvalSuite, *, max_cases: int | None = None, redact: Callable[[str], str] | None = None) -> list[Case]:
    """All cases of ``suite``; a ConfigError naming the vars if there would be more than ``max_cases``.

    ``redact`` hides secrets in case labels: a label is built from var values, which may hold a
    token (read from a file, say), and it becomes the item's name and its cassette's file name.
    """
    limit = DEFAULT_MAX_CASES if max_cases is None else max_cases
    pairs = [(prompt, provider) for prompt in suite.prompts for provider in suite.providers if provider.runs_prompt(prompt)]
    tests = [_transform_vars(test) for test in suite.tests]
    axes_of = [_axes(test) for test in tests]
    _check_size(suite, tests, axes_of, len(pairs), limit)
    cases: list[Case] = []
    specs = _Specs()
    # Prompt functions and configs, a test's own provider and filters: the everyday file has none.
    special_pairs = any(prompt.function is not None or prompt.config for prompt, _ in pairs)
    for test, axes in zip(tests, axes_of, strict=True):
        expanded_keys = [key for key, values in axes.items() if len(values) > 1] if axes else []
        several = bool(expanded_keys)
        special = special_pairs or test.provider is not None or test.prompts is not None or test.providers is not None
        for combination in _combinations(test.vars, axes):
            label = _case_label(test, combination, expanded_keys if several else [], redact)
            per_prompt = _needs_prompt(combination)
            shared = None if per_prompt else _case_vars(test, combination, None)
            for prompt, provider in pairs:
                case_test, variables = shared if shared is not None else _case_vars(test, combination, prompt)
                if special:
                    if not test.runs_on(prompt, provider):
                        continue
                    prompt, provider, case_test = _answered(specs, case_test, variables, prompt, provider)
                cases.append(Case(label, suite, case_test, variables, prompt, provider))
    _make_unique(cases)
    return cases


def _case_vars(test: TestCase, combination: dict[str, Any], prompt: Prompt | None) -> tuple[TestCase, dict[str, Any]]:
    """The test and final vars of a case; a var that cannot be made (a get_var that raised, a var
    template that cannot render) fails that case alone: it gets a copy of the test with the problem."""
    if test.problem is not None:
        return test, combination  # its vars as written: the case fails before they are used
    try:
        return test, _final_vars(test, combination, prompt)
    except ConfigError as error:
        return replace(test, asserts=[], problem=error), combination


def _transform_vars(test: TestCase) -> TestCase:
    """The test with ``options.transformVars`` applied, as promptfoo does before expanding vars:
    the code gets the vars as written (a file var as its ``file://`` reference) and what it
    returns is merged over them. Code that raises, or returns no object, fails the test's cases."""
    code = test.options.get("transformVars")
    if code is None or test.problem is not None:
        return test
    written = {name: value.reference if isinstance(value, FileVar) else value for name, value in test.vars.items()}
    try:
        result = code(written, {"prompt": {}, "uuid": hashlib.sha1(test.location.encode()).hexdigest()})
    except ReplicateEvalError as error:
        return replace(test, asserts=[], problem=_problem(test, "options", f"{error}"))
    if not isinstance(result, dict):
        return replace(test, asserts=[], problem=_problem(
            test, "options", f"transformVars returned {_short(result)}, not an object of vars",
            "return the vars to set, e.g. ({...vars, topic: vars.topic.toUpperCase()})"))
    variables = dict(test.vars)
    for name, value in result.items():
        if not (isinstance(variables.get(name), FileVar) and value == written[name]):
            variables[name] = value
    return replace(test, vars=variables)


def _problem(test: TestCase, key: str, message: str, hint: str | None = None) -> ConfigError:
    return ConfigError(message, file=test.file, path=test.path + (key, "transformVars"), line=test.line, hint=hint)


def _test_error(test: TestCase, message: str) -> ConfigError:
    return ConfigError(message, file=test.file, path=test.path, line=test.line)


class _Specs:
    """The provider that answers a case: the column's, or the test's own ``provider``, with the
    prompt's ``config`` merged over its config; one object per combination, shared by its cases."""

    def __init__(self) -> None:
        self._made: dict[tuple[int, int, int], ProviderSpec] = {}

    def answering(self, test: TestCase, prompt: Prompt, provider: ProviderSpec) -> ProviderSpec:
        if test.provider is None and not prompt.config:
            return provider
        key = (id(test.provider), id(prompt), id(provider))
        spec = self._made.get(key)
        if spec is None:
            spec = provider
            own = test.provider
            if own is not None and own.id == ProviderSpec.OVERRIDE:  # no id: the column's, with this config
                spec = replace(provider, config={**provider.config, **own.config}, transform=own.transform or provider.transform,
                               env={**provider.env, **own.env})
            elif own is not None:  # promptfoo calls the test's provider in the column's place
                spec = replace(own, label=provider.label, prompts=provider.prompts)
            if prompt.config:
                spec = replace(spec, config={**spec.config, **prompt.config})
            self._made[key] = spec
        return spec


def _answered(specs: _Specs, test: TestCase, variables: dict[str, Any], prompt: Prompt,
              provider: ProviderSpec) -> tuple[Prompt, ProviderSpec, TestCase]:
    """The prompt, provider and test of a case whose prompt or test asks for more than the column's pair."""
    spec = specs.answering(test, prompt, provider)
    if prompt.function is not None and test.problem is None:
        return _called(test, variables, prompt, spec)
    return prompt, spec, test


def _called(test: TestCase, variables: dict[str, Any], prompt: Prompt,
            spec: ProviderSpec) -> tuple[Prompt, ProviderSpec, TestCase]:
    """A prompt function's prompt for this case; the config it returns is merged over the provider's;
    a function that fails fails this case alone."""
    try:
        made = called(prompt, variables, spec.id, spec.label)
    except ConfigError as error:
        return prompt, spec, replace(test, asserts=[], problem=_test_error(test, error.message))
    if made.config and made.config != prompt.config:
        spec = replace(spec, config={**spec.config, **made.config})
    return made, spec, test


# -- expansion ----------------------------------------------------------------------------


def _axes(test: TestCase) -> dict[str, list[Any]]:
    """The vars that expand, with their values (promptfoo: lists whose first item is a string),
    unless the test's ``options.disableVarExpansion`` keeps lists whole."""
    if test.options.get("disableVarExpansion"):
        return {}
    return {key: list(value) for key, value in test.vars.items() if _expands(value)}


def _expands(value: Any) -> bool:
    if isinstance(value, FileChoices):
        return True
    return isinstance(value, list) and bool(value) and isinstance(value[0], (str, FileVar))


def _combinations(variables: dict[str, Any], axes: dict[str, list[Any]]) -> Iterator[dict[str, Any]]:
    if not axes:
        yield variables  # shared, not copied: nothing in it changes per case
        return
    keys = list(axes)
    for values in itertools.product(*axes.values()):
        combination = dict(variables)
        combination.update(zip(keys, values, strict=True))
        yield combination


def _check_size(suite: EvalSuite, tests: list[TestCase], axes_of: list[dict[str, list[Any]]], pairs: int,
                limit: int) -> None:
    counts = [math.prod(len(values) for values in axes.values()) for axes in axes_of]
    total = sum(counts) * pairs
    if total <= limit:
        return
    worst = max(range(len(counts)), key=counts.__getitem__)
    test, axes = tests[worst], axes_of[worst]
    factors = [f"{key} ({len(values)} values)" for key, values in axes.items() if len(values) > 1]
    if pairs > 1:
        factors.append(f"{pairs} prompt/provider pairs")
    why = " x ".join(factors) if factors else "its tests"
    where = f"this test expands to {counts[worst] * pairs:,} cases: {why}; " if counts[worst] > 1 else ""
    raise ConfigError(
        f"{where}the file would have {total:,} cases, more than the limit of {limit:,}",
        file=test.file if counts[worst] > 1 else suite.file,
        path=test.path if counts[worst] > 1 else (),
        line=test.line if counts[worst] > 1 else None,
        hint=f"shorten the lists or split them across tests; to run this many, raise the limit with "
        f"the ini option {MAX_CASES_OPTION} (e.g. -o {MAX_CASES_OPTION}={_round_up(total)})",
    )


def _round_up(number: int) -> int:
    scale = 10 ** max(0, len(str(number)) - 2)
    return -(-number // scale) * scale


# -- final var values ---------------------------------------------------------------------


def _needs_prompt(variables: dict[str, Any]) -> bool:
    return any(isinstance(value, FileVar) and value.get_var is not None for value in variables.values())


def _simple(value: Any) -> bool:
    """A value no rule changes: not a file, not a template, no trailing newline."""
    if isinstance(value, str):
        return not value.endswith("\n") and not has_template_syntax(value)
    if isinstance(value, list):
        return not any(isinstance(item, FileVar) for item in value)
    return not isinstance(value, FileVar)


def _final_vars(test: TestCase, combination: dict[str, Any], prompt: Prompt | None) -> dict[str, Any]:
    if all(_simple(value) for value in combination.values()):
        return combination
    variables: dict[str, Any] = {}
    for key, value in combination.items():
        if isinstance(value, list):
            value = [str(item) if isinstance(item, FileVar) else item for item in value]
        elif isinstance(value, FileVar):
            value = value.text if value.get_var is None else _code_var(test, key, value, prompt, {**combination, **variables})
        variables[key] = value
    for key, value in variables.items():
        if isinstance(value, str) and value.endswith("\n"):
            variables[key] = value[:-1]
    _render_vars(test, variables)
    return variables


def _code_var(test: TestCase, key: str, var: FileVar, prompt: Prompt | None, other: dict[str, Any]) -> Any:
    """A Python or JavaScript var file's ``output``, called as promptfoo calls it: (var name, raw prompt, vars)."""
    raw_prompt = ""
    if prompt is not None:
        options = test.options
        raw_prompt = f"{options.get('prefix', '')}{prompt.raw}{options.get('suffix', '')}"
    # Vars before this one are final; a later file var is its text, a later code var is
    # still its file:// reference (promptfoo resolves them in order, in place).
    other = {name: (value.reference if value.get_var else value.text) if isinstance(value, FileVar) else value
             for name, value in other.items()}
    get_var = var.get_var
    assert get_var is not None
    try:
        result = get_var(key, raw_prompt, other)
    except JsError as error:
        raise _error(test, key, f"{var.reference} raised {error}") from None
    except Exception as error:  # the user's code
        raise _error(test, key, f"{var.reference}: get_var raised {type(error).__name__}: {error}") from None
    if isinstance(result, dict) and result.get("error"):
        raise _error(test, key, f"{var.reference}: get_var returned an error: {result['error']}")
    output = result.get("output") if isinstance(result, dict) else None
    if not var.trimmed and output:  # promptfoo takes a JavaScript var's truthy output as it is
        return output
    if not isinstance(output, str) or not output:
        raise _error(test, key, f"{var.reference}: get_var returned {_short(result)}",
                     'get_var(var_name, prompt, other_vars) must return {"output": "<non-empty text>"} '
                     'or {"error": "<why>"}')
    return output.strip()


def _short(value: Any) -> str:
    return shorten(repr(value), 80)


def _error(test: TestCase, key: str, message: str, hint: str | None = None) -> ConfigError:
    if test.file is not None and test.file.suffix == ".csv" and test.path and isinstance(test.path[0], int):
        message = f"row {test.path[0] + 1}, column {key!r}: {message}"  # CSV: no YAML path
        return ConfigError(message, file=test.file, line=test.line, hint=hint)
    return ConfigError(message, file=test.file, path=test.path + ("vars", key), line=test.line, hint=hint)


_parser = jinja2.Environment()


@lru_cache(maxsize=4096)
def _names_used(template: str) -> frozenset[str] | None:
    """The variables a template reads; None if it is not valid template syntax."""
    try:
        return frozenset(jinja2.meta.find_undeclared_variables(_parser.parse(template)))
    except jinja2.TemplateSyntaxError:
        return None


def _render_vars(test: TestCase, variables: dict[str, Any]) -> None:
    """Render each template var with the others, each after the vars it uses.

    promptfoo leaves a var as written when it names a variable the case lacks (or when it
    refers to itself); a var in a cycle stays as written too.
    """
    templates = {key: value for key, value in variables.items() if isinstance(value, str) and has_template_syntax(value)}
    if not templates:
        return
    state: dict[str, str] = {}  # "busy" while its dependencies render, "done" after

    def visit(key: str) -> None:
        if state.get(key) is not None:
            return
        names = _names_used(templates[key])
        if names is None or any(name not in variables and name != "env" for name in names):
            state[key] = "done"  # not a template promptfoo would render: keep it
            return
        state[key] = "busy"
        for name in names:
            if name in templates and name != key:
                if state.get(name) == "busy":
                    state[key] = "done"  # a cycle: keep it as written
                    return
                visit(name)
        if key in names:
            state[key] = "done"
            return
        try:
            variables[key] = render(templates[key], variables, what=f"var {key!r}")
        except ReplicateEvalError as error:
            raise _error(test, key, str(error)) from None
        state[key] = "done"

    for key in templates:
        visit(key)


# -- names --------------------------------------------------------------------------------


def _format_vars(variables: dict[str, Any], keys: list[str]) -> str:
    return ", ".join(f"{key}={_scalar(variables[key])}" for key in keys)


def _scalar(value: Any) -> str:
    if isinstance(value, FileVar):
        value = value.reference if value.media else str(value)
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return " ".join(text.split())


def _case_label(test: TestCase, variables: dict[str, Any], expanded_keys: list[str],
                redact: Callable[[str], str] | None = None) -> str:
    if test.description:
        label = test.description + (f" ({_format_vars(variables, expanded_keys)})" if expanded_keys else "")
    else:
        label = _format_vars(variables, list(variables)) or "default"
    label = one_line(label)
    return shorten(redact(label) if redact is not None else label, _LABEL_LIMIT)


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
    if len(counts) == len(cases):  # the usual case: every name is unique already
        return
    for case in cases:
        if counts[case.name] > 1:
            case.label = f"{case.label} #{_fingerprint(case)}"
    seen: Counter[str] = Counter()
    for case in cases:
        seen[case.name] += 1
        if seen[case.name] > 1:
            case.label = f"{case.label} ~{seen[case.name]}"
