"""Schema validation of eval files, with errors explained in a user's words.

jsonschema's own messages name schema internals (``oneOf``, ``$defs``); these name the
YAML path, say what was expected and, for typos, suggest the nearest valid key.
"""

from __future__ import annotations

import difflib
import json
import math
from collections.abc import Iterable, Iterator
from functools import cache
from importlib import resources
from typing import Any

import jsonschema
from jsonschema import TypeChecker
from jsonschema.exceptions import best_match, relevance

from ..errors import ConfigError
from ..text import shorten
from .source import Document

# promptfoo keys we recognise but do not implement: say so instead of "unknown key".
_UNSUPPORTED = {
    "extensions": "its extension hooks (beforeAll, afterEach...) run code around the whole evaluation, which "
                  "pytest fixtures and conftest.py hooks do here",
    "redteam": "red-team configs generate attack tests with promptfoo's own service; run `promptfoo redteam generate` "
               "and name the tests file it writes",
    "providerPromptMap": "it is promptfoo's internal form; give a provider its prompts with the provider's 'prompts' key",
}


_SHORTHAND = "an assertion needs a 'type'"


@cache
def _schema() -> dict[str, Any]:
    return json.loads(resources.files(__package__).joinpath("schema.json").read_text(encoding="utf-8"))


def _finite_number(checker: TypeChecker, value: Any) -> bool:
    """JSON's numbers, which have no NaN or infinity: YAML's ``.nan`` and ``.inf`` are none."""
    return _number(value)


# A validator whose "number" excludes NaN (which passes every minimum) and infinities.
_Validator = jsonschema.validators.extend(
    jsonschema.Draft202012Validator,
    type_checker=jsonschema.Draft202012Validator.TYPE_CHECKER.redefine("number", _finite_number))


def problems(doc: Document, definition: str | None = None) -> list[ConfigError]:
    """Every way ``doc.data`` breaks the schema (or one of its ``$defs``), each explained with its
    YAML path and line, in file order: one run shows them all."""
    schema = _schema() if definition is None else {"$ref": f"#/$defs/{definition}", "$defs": _schema()["$defs"]}
    data, kept = _skip_plain_tests(doc.data, definition)
    found: list[tuple[tuple, str, str | None]] = []
    for error in _separate(_Validator(schema).iter_errors(data)):
        for path, message, hint in _explain(error):
            found.append((path, message, hint or _schema_hint(error)))
    # One problem, one message: "unknown key 'promts'" (did you mean 'prompts'?) says what "missing
    # required key 'prompts'" would, and "an assertion needs a 'type' (got 'contains' as a key)" what
    # "unknown key 'contains'" would.
    suggested = {(path[:-1], hint) for path, message, hint in found if message.startswith("unknown key")}
    shorthands = {path for path, message, _ in found if message.startswith(_SHORTHAND)}
    errors = []
    for path, message, hint in found:
        if message.startswith("missing required key") and \
                (path, f"did you mean {message.rsplit(' ', 1)[-1]}?") in suggested:
            continue
        if message.startswith("unknown key") and path[:-1] in shorthands:
            continue
        if kept is not None:  # back to the test's index in the file
            at = 0 if definition == "testList" else 1
            if len(path) > at and (at == 0 or path[0] == "tests") and isinstance(path[at], int):
                path = path[:at] + (kept[path[at]],) + path[at + 1 :]
        errors.append(doc.error(path, message, hint))
    return sorted(errors, key=lambda error: error.line or 0)


def _separate(errors: Iterable[jsonschema.ValidationError]) -> Iterator[jsonschema.ValidationError]:
    """One error per problem: the best of those at each node (schema branches the value could not
    take are dropped, see :func:`_branch`), for every node that has one."""
    by_node: dict[tuple, list[jsonschema.ValidationError]] = {}
    for error in errors:
        # Missing keys and unknown keys of one mapping are problems of their own, not alternatives.
        kind = id(error) if error.validator in ("required", "additionalProperties") else None
        by_node.setdefault((tuple(error.absolute_path), kind), []).append(error)
    for group in by_node.values():
        error = max(group, key=relevance)
        inner = _branch(error)
        if inner is None:  # no branch is clearly meant: jsonschema's heuristic picks the error to show
            error = best_match([error])
            inner = _branch(error)
        if inner is None:
            yield error
        else:
            yield from _separate(inner)


# jsonschema needs ~150 us per test; a suite of 100,000 tests would spend most of its
# collection here. Tests in the everyday shape are recognised by the check below, which
# accepts only what the schema surely accepts, and are left out of the schema's input
# (error paths are mapped back to the file's indices). Anything unusual still goes through it.
_TEST_KEYS = frozenset({"description", "vars", "assert", "options", "threshold", "metadata"})
_ASSERTION_KEYS = frozenset({"type", "value", "threshold", "weight", "metric", "transform"})
_OPTION_KEYS = frozenset({"transform", "transformVars", "prefix", "suffix"})


def _number(value: Any) -> bool:
    """A finite int or float (bool is no number here, as in JSON)."""
    return type(value) is int or (type(value) is float and math.isfinite(value))


def _at_least_zero(value: Any) -> bool:
    return _number(value) and value >= 0


def _plain_assertion(item: Any) -> bool:
    if type(item) is not dict or not item.keys() <= _ASSERTION_KEYS:
        return False
    kind = item.get("type")
    return (
        type(kind) is str and kind != "" and not kind.endswith("assert-set")
        and ("threshold" not in item or _at_least_zero(item["threshold"]))
        and ("weight" not in item or _at_least_zero(item["weight"]))
        and ("metric" not in item or type(item["metric"]) is str)
        and ("transform" not in item or type(item["transform"]) is str)
    )


def plain_test(item: Any) -> bool:
    """True only for a test the schema accepts (the converse need not hold)."""
    if type(item) is not dict or not item.keys() <= _TEST_KEYS:
        return False
    if "description" in item and type(item["description"]) is not str:
        return False
    if "vars" in item:
        variables = item["vars"]
        if type(variables) is not dict and not (type(variables) is str and variables.startswith("file://")):
            return False
    if "metadata" in item and type(item["metadata"]) is not dict:
        return False
    if "threshold" in item and not _at_least_zero(item["threshold"]):
        return False
    if "options" in item:
        options = item["options"]
        if type(options) is not dict or not options.keys() <= _OPTION_KEYS:
            return False
        if any(type(value) is not str for value in options.values()):
            return False
    if "assert" in item:
        asserts = item["assert"]
        if type(asserts) is not list or not all(_plain_assertion(a) for a in asserts):
            return False
    return True


def _skip_plain_tests(data: Any, definition: str | None) -> tuple[Any, list[int] | None]:
    """``data`` without the tests :func:`plain_test` vouches for, and the kept tests' indices."""
    if definition is None and type(data) is dict and type(data.get("tests")) is list:
        tests = data["tests"]
    elif definition == "testList" and type(data) is list:
        tests = data
    else:
        return data, None
    kept = [index for index, item in enumerate(tests) if not plain_test(item)]
    rest = [tests[index] for index in kept]
    return ({**data, "tests": rest} if definition is None else rest), kept


def _branch(error: jsonschema.ValidationError) -> list[jsonschema.ValidationError] | None:
    """For a ``oneOf`` failure, the errors of the one branch whose type the value has (the real
    problems); None when no single branch fits."""
    if error.validator not in ("oneOf", "anyOf") or not error.context:
        return None
    branches = [i for i, sub in enumerate(error.validator_value) if _accepts_type(sub, error.instance)]
    if len(branches) != 1:
        return None
    inner = [e for e in error.context if e.schema_path and e.schema_path[0] == branches[0]]
    return inner or None


def _schema_hint(error: jsonschema.ValidationError) -> str | None:
    """The ``x-hint`` of the innermost schema on the failing path: how to write such a value."""
    node: Any = _schema()
    hint = None
    for part in error.absolute_schema_path:
        if isinstance(node, dict) and "$ref" in node and part not in node:  # the path goes on in the referred schema
            node = _schema()["$defs"].get(node["$ref"].rsplit("/", 1)[-1], {})
        if isinstance(node, dict):
            hint = node.get("x-hint", hint)
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            break
    return hint


def _accepts_type(schema: Any, instance: Any) -> bool:
    if isinstance(schema, dict) and "$ref" in schema:
        schema = _schema()["$defs"].get(schema["$ref"].rsplit("/", 1)[-1], {})
    kind = schema.get("type") if isinstance(schema, dict) else None
    python_types = {"object": dict, "array": list, "string": str}
    return kind in python_types and isinstance(instance, python_types[kind])


def _explain(error: jsonschema.ValidationError) -> list[tuple[tuple, str, str | None]]:
    """(YAML path, message, hint) for each problem ``error`` stands for: one, or one per unknown key."""
    if error.validator == "additionalProperties":
        known = list(error.schema.get("properties", {}))
        found: list[tuple[tuple, str, str | None]] = []
        for key in [key for key in error.instance if key not in known]:  # in the file's order
            if key in _UNSUPPORTED:
                found.append((tuple(error.absolute_path) + (key,),
                              f"promptfoo's {key} is not supported: {_UNSUPPORTED[key]}", None))
                continue
            close = difflib.get_close_matches(key, known, n=1)
            hint = f"did you mean {close[0]!r}?" if close else f"allowed keys here: {', '.join(known)}"
            found.append((tuple(error.absolute_path) + (key,), f"unknown key {key!r}", hint))
        return found
    return [_explain_one(error)]


def _explain_one(error: jsonschema.ValidationError) -> tuple[tuple, str, str | None]:
    path = tuple(error.absolute_path)
    if error.validator == "required":
        missing = next(key for key in error.validator_value if key not in error.instance)
        if missing == "type" and len(error.instance) == 1:
            shorthand = next(iter(error.instance))
            return path, f"{_SHORTHAND} (got {shorthand!r} as a key)", \
                f"write it as: {{type: {shorthand}, value: ...}}"
        return path, f"missing required key {missing!r}", None
    remote = remote_source(error.instance) if error.validator in ("pattern", "oneOf") else None
    if remote is not None:  # where a file:// reference was expected
        return (path, *remote_refusal(remote))
    if error.validator == "pattern" and error.schema.get("pattern") == "^file://" and error.parent is not None:
        error = error.parent  # a string where a file:// reference or something else was allowed
    if error.validator in ("oneOf", "anyOf"):
        expected = " or ".join(dict.fromkeys(_describe(sub) for sub in error.validator_value))
        return path, f"expected {expected}, got {_describe_instance(error.instance)}", None
    if error.validator == "pattern" and error.schema.get("pattern") == "^file://":
        return path, f"expected a file:// reference, got {error.instance!r}", None
    if error.validator == "type" and isinstance(error.instance, float) and error.schema.get("type") == "number":
        return path, f"expected a finite number, got {error.instance}", None
    if error.validator == "type":
        return path, f"expected {_describe(error.schema)}, got {_describe_instance(error.instance)}", None
    if error.validator == "not" and isinstance(error.instance, dict) and "assert" in error.instance:
        kind = error.instance.get("type")
        if kind == "not-assert-set":
            return path + ("type",), "assert-set cannot be negated", "negate the assertions inside it instead"
        return path + ("assert",), f"only an assert-set can hold 'assert' (this is a {kind!r} assertion)", \
            "use type: assert-set to group assertions"
    return path, error.message, None


# promptfoo's tests from elsewhere than a local file, by how their reference starts.
_REMOTE_TESTS = {"huggingface://": "Hugging Face dataset tests", "hf://": "Hugging Face dataset tests",
                 "az://": "Azure Blob Storage tests", "https://docs.google.com/spreadsheets/": "Google Sheets tests",
                 "https://": "tests from a URL", "http://": "tests from a URL"}


def remote_source(value: Any) -> str | None:
    """What kind of remote tests a string names, if it names some (promptfoo fetches them, we do not)."""
    if isinstance(value, str):
        return next((kind for prefix, kind in _REMOTE_TESTS.items() if value.startswith(prefix)), None)
    return None


def remote_refusal(kind: str) -> tuple[str, str]:
    """The message and hint for remote tests of ``kind``."""
    return (f"promptfoo's {kind} are not supported: this plugin reads tests from local files",
            "download them and save them as a CSV, JSON, JSONL or YAML file beside the eval file")


_TYPE_NAMES = {"string": "a string", "array": "a list", "object": "a mapping", "number": "a number",
               "integer": "an integer", "boolean": "true or false", "null": "nothing"}


def _describe(schema: Any) -> str:
    """What a (sub)schema accepts, in words: ``a list``, ``a file:// reference``..."""
    if not isinstance(schema, dict):
        return "something else"
    if "$ref" in schema:
        schema = _schema()["$defs"].get(schema["$ref"].rsplit("/", 1)[-1], {})
    if schema.get("pattern") == "^file://":
        return "a file:// reference"
    if "oneOf" in schema or "anyOf" in schema:
        return " or ".join(dict.fromkeys(_describe(sub) for sub in schema.get("oneOf", schema.get("anyOf"))))
    kind = schema.get("type")
    if isinstance(kind, list):
        return " or ".join(_TYPE_NAMES.get(k, str(k)) for k in kind)
    return _TYPE_NAMES.get(kind, str(kind)) if isinstance(kind, str) else "something else"


def _describe_instance(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return shorten(repr(value), 60)
