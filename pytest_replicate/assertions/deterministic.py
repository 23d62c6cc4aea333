"""Checks computed from the output alone (promptfoo's deterministic assertions)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import jsonschema

from ..errors import TemplateError
from .base import AssertionContext, Verdict, output_text
from .js_regex import JsRegexError, compile_js
from .registry import assertion
from .spec import AssertionSpec

_PREVIEW = 60


def _short(text: str) -> str:
    return repr(text if len(text) <= _PREVIEW else text[:_PREVIEW] + "...")


def _as_list(value: Any) -> list[str]:
    """contains-any/-all accept a list or, as in promptfoo, a comma-separated string."""
    if isinstance(value, list):
        return [str(item) for item in value]
    return [part.strip() for part in str(value).split(",") if part.strip()]


def _needs_list(value: Any) -> str | None:
    if isinstance(value, (list, str)) and _as_list(value):
        return None
    return "value must be a list of strings (or a comma-separated string)"


def _valid_regex(value: Any) -> str | None:
    if not isinstance(value, str):
        return "value must be a regular expression string"
    if not value:
        return "value must not be empty (promptfoo rejects an empty regex)"
    if "{{" in value or "{%" in value:
        return None  # checked once vars are rendered
    try:
        compile_js(value)
    except JsRegexError as error:
        return str(error)
    return None


@assertion("equals")
def check_equals(output: Any, value: Any, spec: AssertionSpec, ctx: AssertionContext) -> Verdict:
    if not isinstance(value, str):  # a YAML mapping, list, number or boolean: compare as JSON
        try:
            actual = json.loads(output) if isinstance(output, str) else output
        except json.JSONDecodeError:
            return Verdict(False, "output is not JSON, so it cannot equal the expected JSON value")
        same = actual == value
        return Verdict(same, "output equals the expected JSON" if same else f"output JSON differs from {json.dumps(value)}")
    text, expected = output_text(output), str(value)
    same = text == expected
    return Verdict(same, f"output equals {_short(expected)}" if same else f"output {_short(text)} does not equal {_short(expected)}")


def _containment(found: bool, text_value: str, *, case: str = "") -> Verdict:
    verb = "contains" if found else "does not contain"
    return Verdict(found, f"output {verb} {_short(text_value)}{case}")


@assertion("contains")
def check_contains(output: Any, value: Any, spec: AssertionSpec, ctx: AssertionContext) -> Verdict:
    return _containment(str(value) in output_text(output), str(value))


@assertion("icontains")
def check_icontains(output: Any, value: Any, spec: AssertionSpec, ctx: AssertionContext) -> Verdict:
    return _containment(str(value).lower() in output_text(output).lower(), str(value), case=" (ignoring case)")


def _contains_many(output: Any, value: Any, *, every: bool, ignore_case: bool) -> Verdict:
    text = output_text(output)
    wanted = _as_list(value)
    fold = (lambda s: s.lower()) if ignore_case else (lambda s: s)
    present = [item for item in wanted if fold(item) in fold(text)]
    missing = [item for item in wanted if item not in present]
    passed = not missing if every else bool(present)
    if every:
        reason = "output contains all of " + repr(wanted) if passed else f"output is missing {missing!r}"
    else:
        reason = f"output contains {present!r}" if passed else f"output contains none of {wanted!r}"
    return Verdict(passed, reason + (" (ignoring case)" if ignore_case else ""))


def _register_contains_many(name: str, *, every: bool, ignore_case: bool) -> None:
    @assertion(name, validate_value=_needs_list, list_value=True)
    def check(output: Any, value: Any, spec: AssertionSpec, ctx: AssertionContext) -> Verdict:
        return _contains_many(output, value, every=every, ignore_case=ignore_case)


for _name, _every, _ignore_case in [
    ("contains-all", True, False),
    ("contains-any", False, False),
    ("icontains-all", True, True),
    ("icontains-any", False, True),
]:
    _register_contains_many(_name, every=_every, ignore_case=_ignore_case)


@assertion("starts-with")
def check_starts_with(output: Any, value: Any, spec: AssertionSpec, ctx: AssertionContext) -> Verdict:
    found = output_text(output).startswith(str(value))
    return Verdict(found, f"output {'starts' if found else 'does not start'} with {_short(str(value))}")


@assertion("regex", validate_value=_valid_regex)
def check_regex(output: Any, value: Any, spec: AssertionSpec, ctx: AssertionContext) -> Verdict:
    try:
        found = compile_js(value).test(output_text(output))
    except JsRegexError as error:
        # Only reachable when vars made the pattern invalid. An error, not a verdict:
        # a failed verdict would make not-regex pass.
        raise TemplateError(f"regex value {value!r} is not a valid regular expression once vars are rendered: {error}") from None
    return Verdict(found, f"output {'matches' if found else 'does not match'} /{value}/")


def _schema_problem(document: Any, schema: Any) -> str | None:
    error = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(schema).iter_errors(document))
    if error is None:
        return None
    where = "/".join(str(part) for part in error.absolute_path) or "(root)"
    return f"{where}: {error.message}"


def _valid_schema(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        return "value must be a JSON Schema object (or omitted)"
    try:
        jsonschema.Draft202012Validator.check_schema(value)
    except jsonschema.SchemaError as error:
        return f"value is not a valid JSON Schema: {error.message}"
    return None


@assertion("is-json", needs_value=False, validate_value=_valid_schema, render_value=False)
def check_is_json(output: Any, value: Any, spec: AssertionSpec, ctx: AssertionContext) -> Verdict:
    if isinstance(output, str):
        try:
            document = json.loads(output)
        except json.JSONDecodeError as error:
            return Verdict(False, f"output is not valid JSON ({error.msg} at position {error.pos})")
    else:
        document = output
    if value is not None:
        problem = _schema_problem(document, value)
        if problem:
            return Verdict(False, f"output JSON does not match the schema: {problem}")
    return Verdict(True, "output is valid JSON" + (" matching the schema" if value is not None else ""))


def _json_candidates(text: str) -> Iterator[Any]:
    """Every JSON object or array embedded in ``text``, left to right."""
    decoder = json.JSONDecoder()
    for match in re.finditer(r"[\[{]", text):
        try:
            document, _ = decoder.raw_decode(text, match.start())
        except json.JSONDecodeError:
            continue
        yield document


@assertion("contains-json", needs_value=False, validate_value=_valid_schema, render_value=False)
def check_contains_json(output: Any, value: Any, spec: AssertionSpec, ctx: AssertionContext) -> Verdict:
    last_problem = None
    for document in _json_candidates(output_text(output)):
        if value is None:
            return Verdict(True, "output contains JSON")
        last_problem = _schema_problem(document, value)
        if last_problem is None:
            return Verdict(True, "output contains JSON matching the schema")
    if last_problem:
        return Verdict(False, f"output contains JSON, but none matches the schema: {last_problem}")
    return Verdict(False, "output contains no JSON")


@assertion("python", render_value=False)
def check_python(output: Any, value: Any, spec: AssertionSpec, ctx: AssertionContext) -> Verdict:
    assert spec.code is not None  # compiled when the file was loaded
    result = spec.code(output, ctx.as_user_context())
    if isinstance(result, dict):
        passed = bool(result.get("pass", result.get("pass_", False)))
        try:
            score = float(result.get("score", 1.0 if passed else 0.0))
        except (TypeError, ValueError):
            return Verdict(False, f"python check returned a score that is not a number: {result.get('score')!r}")
        return Verdict(passed, str(result.get("reason", "python check returned " + ("pass" if passed else "fail"))), score)
    if isinstance(result, bool):
        return Verdict(result, f"python check returned {result}")
    if isinstance(result, (int, float)):
        score = float(result)
        passed = score >= spec.threshold if spec.threshold is not None else score > 0
        bound = f">= {spec.threshold}" if spec.threshold is not None else "> 0"
        return Verdict(passed, f"python check scored {score:g} (needs {bound})", score)
    return Verdict(False, f"python check must return a bool, a number or {{pass, score, reason}}, got {type(result).__name__}")


def levenshtein_distance(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        current = [i]
        for j, char_b in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b)))
        previous = current
    return previous[-1]


@assertion("levenshtein")
def check_levenshtein(output: Any, value: Any, spec: AssertionSpec, ctx: AssertionContext) -> Verdict:
    limit = spec.threshold if spec.threshold is not None else 5
    distance = levenshtein_distance(output_text(output), str(value))
    return Verdict(distance <= limit, f"Levenshtein distance {distance} (at most {limit:g} allowed)")


def _valid_word_count(value: Any) -> str | None:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return None
    if isinstance(value, dict) and value and set(value) <= {"min", "max"} and all(
        isinstance(v, int) and not isinstance(v, bool) for v in value.values()
    ):
        if value.get("min", 0) > value.get("max", value.get("min", 0)):
            return f"min {value['min']} is greater than max {value['max']}"
        return None
    return "value must be a word count or {min: N, max: M}"


@assertion("word-count", validate_value=_valid_word_count, render_value=False)
def check_word_count(output: Any, value: Any, spec: AssertionSpec, ctx: AssertionContext) -> Verdict:
    count = len(output_text(output).split())
    if isinstance(value, dict):
        low, high = value.get("min"), value.get("max")
        passed = (low is None or count >= low) and (high is None or count <= high)
        bounds = " and ".join(part for part in (f"at least {low}" if low is not None else "", f"at most {high}" if high is not None else "") if part)
        return Verdict(passed, f"output has {count} words (expected {bounds})")
    return Verdict(count == value, f"output has {count} words (expected exactly {value})")
