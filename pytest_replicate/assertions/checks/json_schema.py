"""JSON Schema for ``is-json`` and ``contains-json``, as promptfoo's Ajv reads it.

promptfoo compiles schemas with Ajv 8 (draft-07) in strict mode and ajv-formats. So:

- the schema is draft-07 (``$defs`` and ``nullable`` are also understood, as Ajv does);
  another ``$schema`` is an error;
- strict mode: an unknown keyword (``example``, ``x-foo``, draft 2019+ keywords such as
  ``unevaluatedProperties``), ``if`` without ``then``/``else`` and ``additionalItems`` next to
  a non-array ``items`` are errors, as are unknown ``format`` names;
- formats are checked (``email``, ``date-time``, ``uri``...), with ajv-formats' rules;
- ``pattern`` and ``patternProperties`` are JavaScript regular expressions (Ajv adds ``u``);
  those keywords come from ``jscompat.json_schema``.

Schema problems are found when the eval file is collected, not when the output arrives.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
from collections.abc import Callable, Iterator
from typing import Any

import jsonschema
from jsonschema import Draft7Validator, FormatChecker
from jsonschema.exceptions import ValidationError, best_match

from ...jscompat.json_schema import PATTERN_KEYWORDS, compile_pattern, is_js_regex
from ...jscompat.regex import JsRegexError

__all__ = ["FORMATS", "schema_problem", "validation_problem"]

_DRAFT7_URIS = {"http://json-schema.org/draft-07/schema", "http://json-schema.org/draft-07/schema#"}
_KEYWORDS = frozenset({
    # draft-07 core, validation and metadata
    "$id", "$schema", "$ref", "$comment", "definitions", "title", "description", "default",
    "examples", "readOnly", "writeOnly", "contentMediaType", "contentEncoding", "type", "enum",
    "const", "multipleOf", "maximum", "exclusiveMaximum", "minimum", "exclusiveMinimum",
    "maxLength", "minLength", "pattern", "format", "items", "additionalItems", "maxItems",
    "minItems", "uniqueItems", "contains", "maxProperties", "minProperties", "required",
    "properties", "patternProperties", "additionalProperties", "dependencies", "propertyNames",
    "if", "then", "else", "allOf", "anyOf", "oneOf", "not",
    # accepted by Ajv 8 in draft-07 mode as well
    "$defs", "$vocabulary", "$async", "deprecated", "contentSchema", "nullable",
})
_SCHEMA_MAPS = ("properties", "patternProperties", "definitions", "$defs")
_SCHEMA_LISTS = ("allOf", "anyOf", "oneOf")
_SCHEMA_VALUES = ("additionalProperties", "additionalItems", "contains", "propertyNames", "if", "then",
                  "else", "not", "contentSchema")


# -- formats (the rules of ajv-formats' "full" mode, written for Python) ------------------

def _leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_TIME = re.compile(r"(\d{2}):(\d{2}):(\d{2}(?:\.\d+)?)([zZ]|([+-])(\d{2})(?::?(\d{2}))?)?")
_DAYS = [0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]


def _is_date(text: str) -> bool:
    match = _DATE.fullmatch(text)
    if not match:
        return False
    year, month, day = (int(part) for part in match.groups())
    return 1 <= month <= 12 and 1 <= day <= (29 if month == 2 and _leap(year) else _DAYS[month])


def _time_checker(zone_required: bool) -> Callable[[str], bool]:
    def is_time(text: str) -> bool:
        match = _TIME.fullmatch(text)
        if not match:
            return False
        hour, minute, second = int(match[1]), int(match[2]), float(match[3])
        zone_hour, zone_minute = int(match[6] or 0), int(match[7] or 0)
        if zone_hour > 23 or zone_minute > 59 or (zone_required and not match[4]):
            return False
        if hour <= 23 and minute <= 59 and second < 60:
            return True
        # a leap second is valid only at 23:59:60 UTC
        sign = -1 if match[5] == "-" else 1
        utc_minute = minute - zone_minute * sign
        utc_hour = hour - zone_hour * sign - (1 if utc_minute < 0 else 0)
        return utc_hour in (23, -1) and utc_minute in (59, -1) and second < 61
    return is_time


_DATE_TIME_SEPARATOR = re.compile(r"[tT\s]")


def _date_time_checker(zone_required: bool) -> Callable[[str], bool]:
    is_time = _time_checker(zone_required)

    def is_date_time(text: str) -> bool:
        parts = _DATE_TIME_SEPARATOR.split(text)  # exactly one "T" (or space) between the two
        return len(parts) == 2 and _is_date(parts[0]) and is_time(parts[1])
    return is_date_time


_HOST_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_EMAIL = re.compile(
    r"[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z0-9](?:[a-z0-9-]*[a-z0-9])?", re.IGNORECASE)
_HOSTNAME = re.compile(rf"(?=.{{1,253}}\.?\Z){_HOST_LABEL}(?:\.{_HOST_LABEL})*\.?", re.IGNORECASE)
_DURATION = re.compile(r"P(?!\Z)((\d+Y)?(\d+M)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+S)?)?|(\d+W)?)")
_UUID = re.compile(r"(?:urn:uuid:)?[0-9a-f]{8}-(?:[0-9a-f]{4}-){3}[0-9a-f]{12}", re.IGNORECASE)
_JSON_POINTER = re.compile(r"(?:/(?:[^~/]|~0|~1)*)*")
_JSON_POINTER_FRAGMENT = re.compile(r"#(?:/(?:[a-z0-9_\-.!$&'()*+,;:=@]|%[0-9a-f]{2}|~0|~1)*)*", re.IGNORECASE)
_RELATIVE_JSON_POINTER = re.compile(r"(?:0|[1-9][0-9]*)(?:#|(?:/(?:[^~/]|~0|~1)*)*)")
_IPV4 = re.compile(r"(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)")
# URI pieces after RFC 3986 (the grammar ajv-formats follows); ASCII only, case-insensitive.
_PCT = r"%[0-9a-f]{2}"
_UNRESERVED_SUB = r"a-z0-9\-._~!$&'()*+,;="
_PCHAR = rf"(?:[{_UNRESERVED_SUB}:@]|{_PCT})"
_AUTHORITY = (rf"(?:(?:[{_UNRESERVED_SUB}:]|{_PCT})*@)?"
              rf"(?:\[[0-9a-f:.v]+\]|(?:[{_UNRESERVED_SUB}]|{_PCT})*)(?::\d*)?")
_HIER = rf"(?://{_AUTHORITY}(?:/{_PCHAR}*)*|/(?:{_PCHAR}+(?:/{_PCHAR}*)*)?|{_PCHAR}+(?:/{_PCHAR}*)*|)"
_TAIL = rf"(?:\?(?:{_PCHAR}|[/?])*)?(?:#(?:{_PCHAR}|[/?])*)?"
_URI = re.compile(rf"[a-z][a-z0-9+\-.]*:{_HIER}{_TAIL}", re.IGNORECASE)
_URI_REFERENCE = re.compile(rf"(?:[a-z][a-z0-9+\-.]*:)?{_HIER}{_TAIL}", re.IGNORECASE)
_URI_TEMPLATE = re.compile(
    r"(?:(?:[^\x00-\x20\"'<>%\\^`{|}]|%[0-9a-f]{2})|\{[+#./;?&=,!@|]?(?:[a-z0-9_]|%[0-9a-f]{2})+"
    r"(?::[1-9][0-9]{0,3}|\*)?(?:,(?:[a-z0-9_]|%[0-9a-f]{2})+(?::[1-9][0-9]{0,3}|\*)?)*\})*", re.IGNORECASE)
_URL = re.compile(r"(?:https?|ftp)://(?:\S+(?::\S*)?@)?(?:[^\s:/?#]+)(?::\d{2,5})?(?:/\S*)?", re.IGNORECASE)


def _is_ipv6(text: str) -> bool:
    if "%" in text:  # zone ids are not in ajv-formats' grammar
        return False
    try:
        ipaddress.IPv6Address(text)
    except ValueError:
        return False
    return True


def _is_byte(text: str) -> bool:
    if len(text) % 4:
        return False
    try:
        base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return False
    return True


def _number_checker(bits: int | None) -> Callable[[Any], bool]:
    def check(value: Any) -> bool:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return True  # number formats only judge numbers
        if bits is None:
            return True
        if not float(value).is_integer():
            return False
        return bits == 64 or -(2 ** (bits - 1)) <= value <= 2 ** (bits - 1) - 1  # int64: any integer
    return check


def _matcher(pattern: re.Pattern[str]) -> Callable[[str], bool]:
    return lambda text: pattern.fullmatch(text) is not None


# name -> check of a string (or, for the number formats, of a number)
FORMATS: dict[str, Callable[[Any], bool]] = {
    "date": _is_date,
    "time": _time_checker(zone_required=True),
    "date-time": _date_time_checker(zone_required=True),
    "iso-time": _time_checker(zone_required=False),
    "iso-date-time": _date_time_checker(zone_required=False),
    "duration": _matcher(_DURATION),
    "uri": _matcher(_URI),
    "uri-reference": _matcher(_URI_REFERENCE),
    "uri-template": _matcher(_URI_TEMPLATE),
    "url": _matcher(_URL),
    "email": _matcher(_EMAIL),
    "hostname": _matcher(_HOSTNAME),
    "ipv4": _matcher(_IPV4),
    "ipv6": _is_ipv6,
    "regex": is_js_regex,
    "uuid": _matcher(_UUID),
    "json-pointer": _matcher(_JSON_POINTER),
    "json-pointer-uri-fragment": _matcher(_JSON_POINTER_FRAGMENT),
    "relative-json-pointer": _matcher(_RELATIVE_JSON_POINTER),
    "byte": _is_byte,
    "int32": _number_checker(32),
    "int64": _number_checker(64),
    "float": _number_checker(None),
    "double": _number_checker(None),
    "password": lambda _value: True,
    "binary": lambda _value: True,
}
_NUMBER_FORMATS = {"int32", "int64", "float", "double"}

_format_checker = FormatChecker(formats=())
for _name, _check in FORMATS.items():
    if _name in _NUMBER_FORMATS:
        _format_checker.checks(_name)(_check)
    else:
        _format_checker.checks(_name)(lambda value, check=_check: not isinstance(value, str) or check(value))


def _nullable_type(validator: Any, types: Any, instance: Any, schema: Any) -> Iterator[ValidationError]:
    if instance is None and schema.get("nullable") is True:
        return
    yield from Draft7Validator.VALIDATORS["type"](validator, types, instance, schema)


_Validator = jsonschema.validators.extend(Draft7Validator, {**PATTERN_KEYWORDS, "type": _nullable_type})


# -- checking a schema ----------------------------------------------------------------------

def _walk(schema: Any, where: str) -> Iterator[str]:
    """Ajv strict-mode problems in ``schema`` (a draft-07 schema that passed the meta-schema)."""
    if not isinstance(schema, dict):
        return
    for keyword in schema:
        if keyword not in _KEYWORDS:
            yield f"{where}: unknown keyword {keyword!r} (promptfoo's Ajv rejects unknown keywords)"
    if "if" in schema and "then" not in schema and "else" not in schema:
        yield f"{where}: 'if' without 'then' or 'else' has no effect (promptfoo's Ajv rejects it)"
    if "additionalItems" in schema and not isinstance(schema.get("items"), list):
        yield f"{where}: 'additionalItems' is ignored unless 'items' is a list (promptfoo's Ajv rejects it)"
    name = schema.get("format")
    if isinstance(name, str) and name not in FORMATS:
        yield f"{where}: unknown format {name!r}; known formats: {', '.join(sorted(FORMATS))}"
    for keyword in ("pattern",):
        if isinstance(schema.get(keyword), str):
            try:
                compile_pattern(schema[keyword])
            except JsRegexError as error:
                yield f"{where}/{keyword}: {error}"
    for keyword in _SCHEMA_MAPS:
        children = schema.get(keyword)
        if isinstance(children, dict):
            for key, child in children.items():
                if keyword == "patternProperties":
                    try:
                        compile_pattern(key)
                    except JsRegexError as error:
                        yield f"{where}/patternProperties: {error}"
                yield from _walk(child, f"{where}/{keyword}/{key}")
    for keyword in _SCHEMA_LISTS:
        for index, child in enumerate(schema.get(keyword) or []):
            yield from _walk(child, f"{where}/{keyword}/{index}")
    items = schema.get("items")
    if isinstance(items, list):
        for index, child in enumerate(items):
            yield from _walk(child, f"{where}/items/{index}")
    else:
        yield from _walk(items, f"{where}/items")
    for keyword in _SCHEMA_VALUES:
        yield from _walk(schema.get(keyword), f"{where}/{keyword}")
    dependencies = schema.get("dependencies")
    if isinstance(dependencies, dict):
        for key, child in dependencies.items():
            yield from _walk(child, f"{where}/dependencies/{key}")


def _refs(schema: Any) -> Iterator[str]:
    if isinstance(schema, dict):
        for key, value in schema.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            elif key not in ("enum", "const", "default", "examples"):
                yield from _refs(value)
    elif isinstance(schema, list):
        for item in schema:
            yield from _refs(item)


def _ref_problem(root: dict[str, Any], ref: str) -> str | None:
    """Ajv resolves only references inside the schema; anything else fails to compile."""
    if not ref.startswith("#"):
        return f"$ref {ref!r} cannot be resolved: only references inside the schema (#/...) are supported"
    target: Any = root
    for part in (ref[1:].lstrip("/").split("/") if ref != "#" else []):
        part = part.replace("~1", "/").replace("~0", "~")
        if isinstance(target, dict) and part in target:
            target = target[part]
        elif isinstance(target, list) and part.isdigit() and int(part) < len(target):
            target = target[int(part)]
        else:
            return f"$ref {ref!r} points to nothing in the schema"
    return None


def schema_problem(schema: Any) -> str | None:
    """Why ``schema`` would not compile in promptfoo (Ajv, draft-07, strict), or None."""
    if isinstance(schema, bool):
        return None
    if not isinstance(schema, dict):
        return "a JSON Schema must be a mapping"
    declared = schema.get("$schema")
    if declared is not None and declared not in _DRAFT7_URIS:
        return f"$schema {declared!r} is not supported: promptfoo validates with JSON Schema draft-07"
    try:
        Draft7Validator.check_schema(schema)
    except jsonschema.SchemaError as error:
        where = "#/" + "/".join(str(part) for part in error.absolute_path) if error.absolute_path else "#"
        return f"{where}: {error.message}"
    for problem in _walk(schema, "#"):
        return problem
    for ref in _refs(schema):
        unresolved = _ref_problem(schema, ref)
        if unresolved:
            return unresolved
    return None


def validation_problem(document: Any, schema: Any) -> str | None:
    """Why ``document`` does not match ``schema`` (assumed valid), or None.

    A schema whose ``$ref`` leads back to where it started without descending into the value
    (``{$ref: '#'}``) would be followed forever: that is the answer, not a RecursionError.
    """
    try:
        error = best_match(_Validator(schema, format_checker=_format_checker).iter_errors(document))
    except RecursionError:
        return ("(root): the schema cannot be checked: its $ref leads back to itself without end "
                "(or the value is nested too deeply)")
    if error is None:
        return None
    where = "/".join(str(part) for part in error.absolute_path) or "(root)"
    return f"{where}: {error.message}"
