"""Checks computed from the output alone (promptfoo's deterministic assertions).

Each check gives the verdict promptfoo 0.123.1 gives on the same output and value; the
docs/migration.md lists the few places where we deliberately differ. Values promptfoo rejects
(an empty ``contains``, a ``starts-with`` number...) are reported when the file is
collected instead of when the first output arrives.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from typing import Any

import yaml

from ...errors import TemplateError, TransformError
from ...jscompat.regex import JsRegexError, JsRegexTimeout, compile_js, utf16_units
from ...jscompat.values import (
    JS_WHITESPACE_RUN,
    STRICT_JSON_DECODER,
    is_js_number,
    js_deep_equal,
    js_string,
    js_trim,
    strict_json,
)
from ...templating import has_template_syntax
from ...text import shorten
from ..base import AssertionContext, Verdict, output_text
from ..declare import assertion
from ..spec import AssertionSpec

_PREVIEW = 60


def _short(text: str) -> str:
    return repr(shorten(text, _PREVIEW + len("...")))


def _is_number_not_nan(value: Any) -> bool:
    return is_js_number(value) and not (isinstance(value, float) and math.isnan(value))


def parse_comma_separated(text: str) -> list[str]:
    """promptfoo's comma list: ``"a, b", c`` is two items; ``\"`` and ``""`` escape a quote.

    Repeated commas are skipped, unquoted items are trimmed, and a quoted item must be
    followed by a comma or the end (else ValueError, as promptfoo raises).
    """
    items: list[str] = []
    i, size = 0, len(text)
    while i < size:
        while i < size and (text[i] == "," or JS_WHITESPACE_RUN.match(text[i])):
            i += 1
        if i >= size:
            break
        if text[i] == '"':
            i += 1
            field, closed = "", False
            while i < size:
                if text[i] == "\\" and i + 1 < size and text[i + 1] in '"\\':
                    field += text[i + 1]
                    i += 2
                elif text[i] == '"' and i + 1 < size and text[i + 1] == '"':
                    field += '"'
                    i += 2
                elif text[i] == '"':
                    i += 1
                    closed = True
                    break
                else:
                    field += text[i]
                    i += 1
            if not closed:
                raise ValueError("unterminated quoted item (a \" without its closing \")")
            while i < size and JS_WHITESPACE_RUN.match(text[i]):
                i += 1
            if i < size and text[i] != ",":
                raise ValueError(f"expected a comma after the quoted item {field!r}")
            items.append(field)
        else:
            end = text.find(",", i)
            end = size if end < 0 else end
            items.append(js_trim(text[i:end]))
            i = end
    return items


def _as_list(value: Any) -> list[str]:
    """contains-any/-all accept a list or, as in promptfoo, a comma-separated string."""
    if isinstance(value, list):
        return [js_string(item) for item in value]
    return parse_comma_separated(js_string(value))


def _needs_list(value: Any) -> str | None:
    if isinstance(value, list):
        if not value:
            return "value must not be an empty list"
        if any(isinstance(item, (dict, list)) for item in value):
            return "value must be a list of strings"
        return None
    if isinstance(value, str):
        if has_template_syntax(value):
            return None  # split once vars are rendered
        try:
            items = parse_comma_separated(value)
        except ValueError as error:
            return f"{error} in the comma-separated value"
        return None if items else "value must name at least one string"
    return "value must be a list of strings (or a comma-separated string)"


def _needs_text(what: str, *, numbers: bool) -> Any:
    """A value check: a non-empty string (or, when ``numbers``, also a number), as promptfoo wants."""

    def validate(value: Any) -> str | None:
        if isinstance(value, str):
            return None if value else f"value must not be empty (promptfoo rejects an empty {what})"
        if numbers and _is_number_not_nan(value):
            return None
        return f"value must be {'a string or a number' if numbers else 'a string'}"

    return validate


def _rendered_text(value: Any, spec: AssertionSpec) -> str:
    text = js_string(value)
    if not text:  # vars rendered the value to nothing: promptfoo raises too
        raise TemplateError(f"{spec.display_type} value is empty once vars are rendered")
    return text


def _valid_regex(value: Any) -> str | None:
    if not isinstance(value, str):
        return "value must be a regular expression string"
    if not value:
        return "value must not be empty (promptfoo rejects an empty regex)"
    if has_template_syntax(value):
        return None  # checked once vars are rendered
    try:
        compile_js(value)
    except JsRegexError as error:
        return str(error)
    return None


# -- equals -------------------------------------------------------------------------------

@assertion("equals")
def check_equals(output: Any, value: Any, spec: AssertionSpec, ctx: AssertionContext) -> Verdict:
    text = output_text(output)
    if isinstance(value, (dict, list)):  # a YAML mapping or list: deep equality with the parsed output
        try:
            actual = strict_json(text)
        except ValueError:
            return Verdict(False, "output is not JSON, so it cannot equal the expected JSON value")
        same = js_deep_equal(value, actual)
        return Verdict(same, "output equals the expected JSON" if same else f"output JSON differs from {json.dumps(value, ensure_ascii=False)}")
    # A string, number or boolean is compared as text: 42 equals "42", true equals "true",
    # but neither equals "42.0" or "1" (promptfoo compares String(value) with the output).
    expected = js_string(value)
    same = text == expected
    return Verdict(same, f"output equals {_short(expected)}" if same else f"output {_short(text)} does not equal {_short(expected)}")


# -- contains and friends -----------------------------------------------------------------

def _containment(found: bool, text_value: str, *, case: str = "") -> Verdict:
    verb = "contains" if found else "does not contain"
    return Verdict(found, f"output {verb} {_short(text_value)}{case}")


@assertion("contains", validate_value=_needs_text("contains", numbers=True))
def check_contains(output: Any, value: Any, spec: AssertionSpec, ctx: AssertionContext) -> Verdict:
    wanted = _rendered_text(value, spec)
    return _containment(wanted in output_text(output), wanted)


@assertion("icontains", validate_value=_needs_text("icontains", numbers=True))
def check_icontains(output: Any, value: Any, spec: AssertionSpec, ctx: AssertionContext) -> Verdict:
    wanted = _rendered_text(value, spec)
    return _containment(wanted.lower() in output_text(output).lower(), wanted, case=" (ignoring case)")


def _contains_many(output: Any, value: Any, spec: AssertionSpec, *, every: bool, ignore_case: bool) -> Verdict:
    text = output_text(output)
    try:
        wanted = _as_list(value)
    except ValueError as error:  # only reachable when vars made the list malformed
        raise TemplateError(f"{spec.display_type} value {value!r} once vars are rendered: {error}") from None
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
        return _contains_many(output, value, spec, every=every, ignore_case=ignore_case)


for _name, _every, _ignore_case in [
    ("contains-all", True, False),
    ("contains-any", False, False),
    ("icontains-all", True, True),
    ("icontains-any", False, True),
]:
    _register_contains_many(_name, every=_every, ignore_case=_ignore_case)


@assertion("starts-with", validate_value=_needs_text("starts-with", numbers=False))
def check_starts_with(output: Any, value: Any, spec: AssertionSpec, ctx: AssertionContext) -> Verdict:
    wanted = _rendered_text(value, spec)
    found = output_text(output).startswith(wanted)
    return Verdict(found, f"output {'starts' if found else 'does not start'} with {_short(wanted)}")


@assertion("regex", validate_value=_valid_regex)
def check_regex(output: Any, value: Any, spec: AssertionSpec, ctx: AssertionContext) -> Verdict:
    if not value:
        raise TemplateError("regex value is empty once vars are rendered")
    try:
        found = compile_js(value).test(output_text(output))
    except JsRegexError as error:
        # Only reachable when vars made the pattern invalid. An error, not a verdict:
        # a failed verdict would make not-regex pass.
        raise TemplateError(f"regex value {value!r} is not a valid regular expression once vars are rendered: {error}") from None
    except JsRegexTimeout as error:  # fails under not-regex too: no verdict was reached
        return Verdict(False, f"the regex /{value}/ took longer than {error.seconds:g} s on this output: it may "
                       "backtrack catastrophically", final=True)
    return Verdict(found, f"output {'matches' if found else 'does not match'} /{value}/")


# -- JSON ---------------------------------------------------------------------------------

def _load_schema(value: Any) -> Any:
    """A schema given as a mapping, or as JSON/YAML text (promptfoo parses text as YAML)."""
    if isinstance(value, str):
        try:
            return yaml.safe_load(value)
        except yaml.YAMLError as error:
            raise ValueError(f"the schema text is not JSON or YAML: {error}") from None
    return value


def _valid_schema(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, (dict, str)):
        return "value must be a JSON Schema (a mapping, or JSON/YAML text), or omitted"
    try:
        schema = _load_schema(value)
    except ValueError as error:
        return str(error)
    if not isinstance(schema, dict):
        return "value must be a JSON Schema (a mapping, or JSON/YAML text), or omitted"
    from .json_schema import schema_problem  # jsonschema (~0.1 s to import) loads only where a schema is used

    problem = schema_problem(schema)
    return f"value is not a valid JSON Schema: {problem}" if problem else None


@assertion("is-json", needs_value=False, validate_value=_valid_schema, render_value=False)
def check_is_json(output: Any, value: Any, spec: AssertionSpec, ctx: AssertionContext) -> Verdict:
    if isinstance(output, str):
        try:
            document = strict_json(output)
        except json.JSONDecodeError as error:
            return Verdict(False, f"output is not valid JSON ({error.msg} at position {error.pos})")
        except ValueError as error:
            return Verdict(False, f"output is not valid JSON ({error})")
    else:
        document = output
    if value is not None:
        from .json_schema import validation_problem

        try:
            problem = validation_problem(document, _load_schema(value))
        except JsRegexTimeout as error:
            return _schema_timeout(error)
        if problem:
            return Verdict(False, f"output JSON does not match the schema: {problem}")
    return Verdict(True, "output is valid JSON" + (" matching the schema" if value is not None else ""))


def _schema_timeout(error: JsRegexTimeout) -> Verdict:
    """A schema ``pattern`` that ran too long: no verdict was reached, so it fails under ``not-`` too."""
    return Verdict(False, f"a pattern in the schema took longer than {error.seconds:g} s on this output: it may "
                   "backtrack catastrophically", final=True)


def _json_candidates(text: str) -> Iterator[Any]:
    """Every JSON object or array embedded in ``text``, left to right."""
    for match in re.finditer(r"[\[{]", text):
        try:
            document, _ = STRICT_JSON_DECODER.raw_decode(text, match.start())
        except (ValueError, RecursionError):  # RecursionError: nested too deeply to read
            continue
        yield document


@assertion("contains-json", needs_value=False, validate_value=_valid_schema, render_value=False)
def check_contains_json(output: Any, value: Any, spec: AssertionSpec, ctx: AssertionContext) -> Verdict:
    from .json_schema import validation_problem

    last_problem = None
    schema = _load_schema(value)
    for document in _json_candidates(output_text(output)):
        if value is None:
            return Verdict(True, "output contains JSON")
        try:
            last_problem = validation_problem(document, schema)
        except JsRegexTimeout as error:
            return _schema_timeout(error)
        if last_problem is None:
            return Verdict(True, "output contains JSON matching the schema")
    if last_problem:
        return Verdict(False, f"output contains JSON, but none matches the schema: {last_problem}")
    return Verdict(False, "output contains no JSON")


@assertion("python", render_value=False)
def check_python(output: Any, value: Any, spec: AssertionSpec, ctx: AssertionContext) -> Verdict:
    assert spec.code is not None  # compiled when the file was loaded
    try:
        result = spec.code(output, ctx.as_user_context(spec))
    except TransformError as error:  # as promptfoo 0.123.1: this assertion fails (not-python too), the rest are graded
        return Verdict(False, str(error), 0.0, final=True)
    if isinstance(result, dict):
        passed = bool(result.get("pass", result.get("pass_", False)))
        try:
            score = float(result.get("score", 1.0 if passed else 0.0))
        except (TypeError, ValueError):
            return Verdict(False, f"python check returned a score that is not a number: {result.get('score')!r}",
                           0.0, final=True)
        return Verdict(passed, str(result.get("reason", "python check returned " + ("pass" if passed else "fail"))), score)
    if isinstance(result, bool):
        return Verdict(result, f"python check returned {result}")
    if isinstance(result, (int, float)):
        score = float(result)
        passed = score >= spec.threshold if spec.threshold is not None else score > 0
        bound = f">= {spec.threshold}" if spec.threshold is not None else "> 0"
        return Verdict(passed, f"python check scored {score:g} (needs {bound})", score)
    return Verdict(False, f"python check must return a bool, a number or {{pass, score, reason}}, got {type(result).__name__}",
                   0.0, final=True)


def levenshtein_distance(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        current = [i]
        for j, char_b in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b)))
        previous = current
    return previous[-1]


@assertion("levenshtein", validate_value=_needs_text("levenshtein", numbers=False))
def check_levenshtein(output: Any, value: Any, spec: AssertionSpec, ctx: AssertionContext) -> Verdict:
    limit = spec.threshold if spec.threshold is not None else 5
    # promptfoo measures in UTF-16 code units, so an emoji is two edits away from nothing.
    distance = levenshtein_distance(utf16_units(output_text(output)), utf16_units(js_string(value)))
    return Verdict(distance <= limit, f"Levenshtein distance {distance} (at most {limit:g} allowed)")


def _word_count_number(value: Any) -> int | None:
    """An exact word count from a number or numeric text ("3"), as promptfoo accepts; else None."""
    if isinstance(value, str) and not has_template_syntax(value):
        try:
            value = float(value.strip()) if value.strip() else None
        except ValueError:
            return None
    if is_js_number(value) and math.isfinite(value) and float(value).is_integer() and value >= 0:
        return int(value)
    return None


def _valid_word_count(value: Any) -> str | None:
    if isinstance(value, str) and has_template_syntax(value):
        return None  # checked once vars are rendered
    if _word_count_number(value) is not None:
        return None
    if isinstance(value, dict) and value and set(value) <= {"min", "max"} and all(
        _word_count_number(v) is not None and not isinstance(v, str) for v in value.values()
    ):
        if value.get("min", 0) > value.get("max", value.get("min", 0)):
            return f"min {value['min']} is greater than max {value['max']}"
        return None
    return "value must be a word count or {min: N, max: M}"


@assertion("word-count", validate_value=_valid_word_count)
def check_word_count(output: Any, value: Any, spec: AssertionSpec, ctx: AssertionContext) -> Verdict:
    count = len([word for word in JS_WHITESPACE_RUN.split(output_text(output)) if word])
    if isinstance(value, dict):
        low, high = value.get("min"), value.get("max")
        passed = (low is None or count >= low) and (high is None or count <= high)
        bounds = " and ".join(part for part in (f"at least {low:g}" if low is not None else "", f"at most {high:g}" if high is not None else "") if part)
        return Verdict(passed, f"output has {count} words (expected {bounds})")
    expected = _word_count_number(value)
    if expected is None:
        raise TemplateError(f"word-count value {value!r} is not a word count once vars are rendered")
    return Verdict(count == expected, f"output has {count} words (expected exactly {expected})")
