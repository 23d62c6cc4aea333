"""Input validation and OpenAPI schemas derived from a model's declared inputs.

Replicate validates ``input`` against the version's OpenAPI schema before creating a
prediction and answers 422 ``{"title": "Input validation failed", "detail", "status",
"invalid_fields": [{"type", "field", "description"}]}``. Unknown keys are ignored (Cog
drops them), so clients may send parameters a model does not have.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .catalogue import InputField, ModelSpec

# Given a file input's value, a problem description, or None when it can be read.
FileCheck = Callable[[str], "str | None"]


@dataclass(frozen=True)
class InvalidField:
    type: str  # e.g. "invalid_type", "required", "number_gte", "enum"
    field: str  # e.g. "input.max_tokens"
    description: str

    def as_json(self) -> dict[str, str]:
        return {"type": self.type, "field": self.field, "description": self.description}


def json_type(value: Any) -> str:
    """The JSON Schema type name of a decoded JSON value (bool is not a number)."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "null"


def _schema_type(declared: str) -> str:
    return "string" if declared == "file" else declared


def _type_ok(declared: str, actual: str) -> bool:
    expected = _schema_type(declared)
    return actual == expected or (expected == "number" and actual == "integer")


def check_data_uri(value: str) -> str | None:
    """None if ``value`` is a well-formed base64 ``data:`` URI, else what is wrong with it."""
    header, comma, payload = value.partition(",")
    if not comma:
        return "Malformed data URI: no comma before the data"
    if header.endswith(";base64"):
        try:
            base64.b64decode(payload, validate=True)
        except (binascii.Error, ValueError):
            return "Malformed data URI: invalid base64"
    return None


def _field_problem(name: str, spec: InputField, value: Any, check_file: FileCheck) -> InvalidField | None:
    where = f"input.{name}"
    actual = json_type(value)
    if not _type_ok(spec.type, actual):
        return InvalidField("invalid_type", where,
                            f"Invalid type. Expected: {_schema_type(spec.type)}, given: {actual}")
    if spec.choices is not None and value not in spec.choices:
        allowed = ", ".join(f'"{c}"' if isinstance(c, str) else str(c) for c in spec.choices)
        return InvalidField("enum", where, f"{name} must be one of the following: {allowed}")
    if spec.minimum is not None and actual in ("integer", "number") and value < spec.minimum:
        return InvalidField("number_gte", where, f"Must be greater than or equal to {spec.minimum:g}")
    if spec.maximum is not None and actual in ("integer", "number") and value > spec.maximum:
        return InvalidField("number_lte", where, f"Must be less than or equal to {spec.maximum:g}")
    if spec.type == "file":
        problem = check_file(value)
        if problem:
            return InvalidField("invalid_file", where, problem)
    return None


def validate_input(spec: ModelSpec, inp: dict[str, Any], check_file: FileCheck) -> list[InvalidField]:
    """Every problem of ``inp`` against the model's inputs, in declaration order."""
    problems = [InvalidField("required", "input", f"{name} is required")
                for name, field in spec.inputs.items() if field.required and name not in inp]
    for name, field in spec.inputs.items():
        if name in inp:
            problem = _field_problem(name, field, inp[name], check_file)
            if problem:
                problems.append(problem)
    return problems


def error_detail(problems: list[InvalidField]) -> str:
    """The 422 ``detail`` text: one ``field: description`` line per problem."""
    return "\n".join(f"{p.field}: {p.description}" for p in problems)


def with_defaults(spec: ModelSpec, inp: dict[str, Any]) -> dict[str, Any]:
    """The input the model runs with: declared defaults for what was not sent, unknown keys dropped."""
    effective = {name: field.default for name, field in spec.inputs.items() if field.default is not None}
    effective.update({key: value for key, value in inp.items() if key in spec.inputs or not spec.inputs})
    return effective


_OUTPUT_SCHEMAS: dict[str, dict[str, Any]] = {
    # Language models stream tokens: clients join them ("concatenate") or iterate.
    "text": {"type": "array", "items": {"type": "string"}, "title": "Output",
             "x-cog-array-type": "iterator", "x-cog-array-display": "concatenate"},
    "image": {"type": "array", "items": {"type": "string", "format": "uri"}, "title": "Output"},
    "moderation": {"type": "string", "title": "Output"},
    "embedding": {"type": "array", "title": "Output", "items": {
        "type": "object", "properties": {"embedding": {"type": "array", "items": {"type": "number"}}}}},
}


def openapi_schema(spec: ModelSpec) -> dict[str, Any]:
    """The part of a version's ``openapi_schema`` that clients read: Input and Output."""
    properties: dict[str, Any] = {}
    for order, (name, field) in enumerate(spec.inputs.items()):
        prop: dict[str, Any] = {"type": _schema_type(field.type), "title": name.replace("_", " ").title(),
                                "x-order": order}
        if field.type == "file":
            prop["format"] = "uri"
        for key, value in (("default", field.default), ("minimum", field.minimum),
                           ("maximum", field.maximum), ("description", field.description or None)):
            if value is not None:
                prop[key] = value
        if field.choices is not None:
            prop["enum"] = list(field.choices)
        properties[name] = prop
    required = [name for name, field in spec.inputs.items() if field.required]
    kind = "text" if spec.kind == "grader" else spec.kind
    return {
        "openapi": "3.0.2",
        "info": {"title": "Cog", "version": "0.1.0"},
        "paths": {},
        "components": {"schemas": {
            "Input": {"type": "object", "title": "Input", "properties": properties, "required": required},
            "Output": _OUTPUT_SCHEMAS[kind],
        }},
    }
