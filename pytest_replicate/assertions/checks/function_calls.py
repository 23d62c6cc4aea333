"""Function and tool calls checked against the schemas in the provider's config.

promptfoo 0.123.1 checks an OpenAI-style call: ``{name, arguments}`` (or
``{function_call: {...}}``) for ``is-valid-function-call`` / ``is-valid-openai-function-call``
against ``config.functions``, and a non-empty list of ``{function: {name, arguments}}`` (or
``{tool_calls: [...]}``) for ``is-valid-openai-tools-call`` against ``config.tools``. The
function must exist and its JSON-decoded arguments must match its ``parameters`` schema
(Ajv's rules, as ``is-json``). As in promptfoo, ``not-`` does not turn the verdict round.

A Replicate model answers with text, so a text output is read as JSON first, and
``arguments`` may be an object as well as a JSON string. promptfoo only checks
function calls of providers that have them (OpenAI, Google...) and always fails a Replicate
model's; here any provider's output is checked against the tools its config declares
(``config.functions``, else the functions among ``config.tools``, either inline or a
``file://`` JSON or YAML file).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import yaml

from ...jscompat.values import js_dump
from ..base import AssertionContext, Verdict
from ..declare import assertion
from ..spec import AssertionSpec


class _Invalid(Exception):
    """A call that does not hold up; its message is the verdict's reason."""


def _data(output: Any) -> Any:
    if isinstance(output, str):
        try:
            return json.loads(output)
        except ValueError:
            return output
    return output


def _declared(config: Mapping[str, Any], key: str, ctx: AssertionContext) -> Any:
    value = config.get(key)
    if isinstance(value, str) and value.startswith("file://"):
        path = ctx.base_dir / value[len("file://"):]
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as error:
            raise _Invalid(f"config.{key} names {value}, which cannot be read: {error.strerror}") from None
        return json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    return value


def _functions(ctx: AssertionContext) -> list[Any] | None:
    """The function declarations: ``config.functions``, else the functions among ``config.tools``."""
    functions = _declared(ctx.provider_config, "functions", ctx)
    if functions is None:
        tools = _declared(ctx.provider_config, "tools", ctx)
        if isinstance(tools, list):
            functions = [tool["function"] for tool in tools
                         if isinstance(tool, dict) and tool.get("type") == "function" and "function" in tool]
    return functions if isinstance(functions, list) else None


def _check_call(call: Any, functions: Sequence[Any] | None) -> None:
    """promptfoo's ``validateFunctionCall`` (OpenAI's): raise _Invalid with its reason."""
    if isinstance(call, dict) and "function_call" in call:
        call = call["function_call"]
    arguments = call.get("arguments") if isinstance(call, dict) else None
    if not isinstance(call, dict) or not isinstance(call.get("name"), str) or not isinstance(arguments, (str, dict)):
        raise _Invalid(f"The output is not a valid-looking function call: {js_dump(call)}")
    if isinstance(arguments, str):
        try:
            arguments = json.loads(arguments)
        except ValueError as error:
            raise _Invalid(f"The arguments of the call to {call['name']!r} are not JSON: {error}") from None
    name = call["name"]
    schema = next((f.get("parameters") for f in functions or [] if isinstance(f, dict) and f.get("name") == name), None)
    if schema is None:
        raise _Invalid(f'Called "{name}", but there is no function with that name')
    from .json_schema import schema_problem, validation_problem  # jsonschema loads only where a schema is used

    problem = schema_problem(schema)
    if problem:
        raise _Invalid(f"The parameters schema of {name!r} is not a valid JSON Schema: {problem}")
    problem = validation_problem(arguments, schema)
    if problem:
        raise _Invalid(f'Call to "{name}" does not match schema: {problem}')


def _verdict(check: Any) -> Verdict:
    try:
        check()
    except _Invalid as invalid:
        return Verdict(False, str(invalid), final=True)
    return Verdict(True, "The call matches its function's schema", final=True)


def check_function_call(output: Any, value: Any, spec: AssertionSpec, ctx: AssertionContext) -> Verdict:
    return _verdict(lambda: _check_call(_data(output), _functions(ctx)))


assertion("is-valid-function-call", needs_value=False)(check_function_call)
assertion("is-valid-openai-function-call", needs_value=False)(check_function_call)


@assertion("is-valid-openai-tools-call", needs_value=False)
def check_tools_call(output: Any, value: Any, spec: AssertionSpec, ctx: AssertionContext) -> Verdict:
    def check() -> None:
        calls = _data(output)
        if isinstance(calls, dict) and "tool_calls" in calls:
            calls = calls["tool_calls"]
        if not isinstance(calls, list) or not calls or not all(
                isinstance(call, dict) and isinstance(call.get("function"), dict)
                and isinstance(call["function"].get("name"), str)
                and isinstance(call["function"].get("arguments"), (str, dict)) for call in calls):
            raise _Invalid(f"The output is not a valid-looking tools response: {js_dump(calls)}")
        tools = _declared(ctx.provider_config, "tools", ctx)
        if not isinstance(tools, list) or not tools:
            raise _Invalid("No tools configured in provider, but output contains tool calls")
        functions = [tool["function"] for tool in tools
                     if isinstance(tool, dict) and tool.get("type") == "function" and "function" in tool]
        for call in calls:
            _check_call(call["function"], functions)

    return _verdict(check)
