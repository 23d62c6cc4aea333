"""``tool-call-f1``: the F1 score of the tools called against the expected tool names.

As promptfoo 0.123.1: the called tool names are read from the output in any of the common
shapes (OpenAI ``tool_calls`` and ``function_call``, Anthropic ``tool_use``, Google
``functionCall``, ``[{name}]``), or from the JSON blocks of a text answer (a block counts
when it starts a line and ends one, and fenced code is skipped as promptfoo skips it).
Names are compared as sets; the default threshold is 1, and the score stays the F1 score
when negated.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ...errors import ConfigError
from ...jscompat.values import JS_WHITESPACE, js_string, js_trim, strict_json
from ..base import AssertionContext, Verdict
from ..declare import assertion
from ..spec import AssertionSpec

_MAX_UNMATCHED = 65536
_LIST_MARKER = re.compile(r"^[ \t]*(?:[-+*]|\d+[.)])[ \t]+")
_FENCE = re.compile(r"^[ \t]*(`{3,}|~{3,})")


class _TooMuch(Exception):
    pass


def _width(text: str) -> int:
    column = 0
    for char in text:
        column += 4 - column % 4 if char == "\t" else 1
    return column


@dataclass(frozen=True)
class _Delimiter:
    char: str
    index: int
    starts_line: bool
    ends_line: bool


def _delimiters(text: str) -> Iterator[_Delimiter | None]:
    """Brackets outside strings and fenced code; None where a stack must restart."""
    in_string = escaped = False
    fence, fence_container = "", 0
    containers: list[int] = []
    line_start = 0
    while line_start < len(text):
        offset = line_start
        newline = text.find("\n", line_start)
        line_end = len(text) if newline < 0 else newline
        content = text[line_start:line_end].rstrip(JS_WHITESPACE)
        line_start = line_end + 1
        first = next((i for i, char in enumerate(content) if char not in JS_WHITESPACE), -1)
        indent = _width(content[:max(0, first)])
        if fence and content and indent < fence_container:
            fence = ""
            yield None
        if fence:
            marker = _FENCE.match(content)
            if (marker and indent <= fence_container + 3 and marker.group(1)[0] == fence[0]
                    and len(marker.group(1)) >= len(fence) and not js_trim(content[marker.end():])):
                fence = ""
            continue
        while content and containers and indent < containers[-1]:
            containers.pop()
        listed = _LIST_MARKER.match(content)
        if listed:
            containers.append(_width(listed.group(0)))
        container = containers[-1] if containers else 0
        fence_text = content[listed.end():] if listed else content
        marker = _FENCE.match(fence_text)
        if marker and (listed or indent <= container + 3) and (
                marker.group(1)[0] != "`" or "`" not in fence_text[marker.end():]):
            fence, fence_container = marker.group(1), container
            yield None
            continue
        for column, char in enumerate(content):
            if in_string:
                if escaped:
                    escaped = False
                elif char == "\\":
                    escaped = True
                elif char == '"':
                    in_string = False
                continue
            if char == '"':
                in_string = True
            elif char in "{[}]":
                yield _Delimiter(char, offset + column, column == first, column == len(content) - 1)
        if in_string:
            in_string = escaped = False
            yield None


def _blocks(text: str, skip_root: bool = False) -> Iterator[tuple[str, bool]]:
    """Balanced ``{...}``/``[...]`` spans ending a line, with whether each starts one."""
    unmatched: list[int] = []
    stack_start = 0
    for token in _delimiters(text):
        if token is None:
            stack_start = len(unmatched)
        elif token.char in "{[":
            unmatched.append(token.index)
        elif len(unmatched) > stack_start and text[unmatched[-1]] == ("{" if token.char == "}" else "["):
            unmatched.pop()
        else:
            unmatched.append(token.index)
            stack_start = len(unmatched)
        if len(unmatched) > _MAX_UNMATCHED:
            raise _TooMuch(f"Tool Call F1 exceeded its delimiter limit ({_MAX_UNMATCHED})")
    next_unmatched = depth = start_depth = 0
    start, starts_line = -1, False
    for token in _delimiters(text):
        if token is None:
            continue
        if next_unmatched < len(unmatched) and token.index == unmatched[next_unmatched]:
            next_unmatched += 1
            continue
        if token.char in "{[":
            if start < 0 and depth == (1 if skip_root else 0):
                start, start_depth, starts_line = token.index, depth, token.starts_line
            depth += 1
            continue
        depth -= 1
        if start >= 0 and depth == start_depth:
            if token.ends_line:
                yield text[start:token.index + 1], starts_line
            start = -1


def _json_blocks(text: str) -> Iterator[Any]:
    pending = [_blocks(text)]
    remaining = 4 * len(text)
    while pending:
        found = next(pending[-1], None)
        if found is None:
            pending.pop()
            continue
        block, starts_line = found
        if len(block) > remaining:
            raise _TooMuch("Tool Call F1 could not finish parsing malformed output within its work limit")
        remaining -= len(block)
        try:
            parsed = strict_json(block)
        except ValueError:
            pending.append(_blocks(block, skip_root=True))
            continue
        if starts_line:
            yield parsed


def tool_names(output: Any) -> set[str]:
    """The names of the tools ``output`` calls, in promptfoo's shapes."""
    if isinstance(output, str):
        try:
            parsed = strict_json(output)
        except ValueError:
            return {name for block in _json_blocks(output) for name in tool_names(block)}
        return tool_names(parsed)
    names: set[str] = set()
    if isinstance(output, dict):
        function_call, tool_call = output.get("functionCall"), output.get("toolCall")
        if isinstance(output.get("tool_calls"), list):
            for call in output["tool_calls"]:
                if isinstance(call, dict):
                    if isinstance(call.get("function"), dict) and isinstance(call["function"].get("name"), str):
                        names.add(call["function"]["name"])
                    if isinstance(call.get("name"), str):
                        names.add(call["name"])
        elif output.get("type") in ("tool_use", "function_call") and isinstance(output.get("name"), str):
            names.add(output["name"])
        elif isinstance(function_call, dict):
            if isinstance(function_call.get("name"), str):
                names.add(function_call["name"])
        elif isinstance(tool_call, dict):
            calls = tool_call.get("functionCalls")
            names |= {call["name"] for call in calls if isinstance(call, dict) and isinstance(call.get("name"), str)} \
                if isinstance(calls, list) else set()
    elif isinstance(output, list):
        for block in output:
            if not isinstance(block, dict):
                continue
            function_call, function = block.get("functionCall"), block.get("function")
            if block.get("type") == "tool_use" and isinstance(block.get("name"), str):
                names.add(block["name"])
            elif isinstance(function_call, dict):
                if isinstance(function_call.get("name"), str):
                    names.add(function_call["name"])
            elif isinstance(function, dict):
                if isinstance(function.get("name"), str):
                    names.add(function["name"])
            elif isinstance(block.get("name"), str):
                names.add(block["name"])
    return names


def _expected(value: Any) -> list[str]:
    items = [js_string(item) for item in value] if isinstance(value, list) else js_string(value).split(",")
    return [name for name in (js_trim(item) for item in items) if name]


def _value_problem(value: Any) -> str | None:
    if not isinstance(value, (str, list)):
        return "value must be the expected tool names: a list or a comma-separated string"
    if isinstance(value, list) and not _expected(value):
        return "value must name at least one expected tool"
    return None


@assertion("tool-call-f1", validate_value=_value_problem)
def check_tool_call_f1(output: Any, value: Any, spec: AssertionSpec, ctx: AssertionContext) -> Verdict:
    expected = set(_expected(value))
    if not expected:  # promptfoo throws too
        raise ConfigError("tool-call-f1 needs at least one expected tool name (its value names none)")
    try:
        called = tool_names(output)
    except _TooMuch as error:
        return Verdict(False, str(error), 0.0, final=True)
    both = len(expected & called)
    precision = both / len(called) if called else 0.0
    recall = both / len(expected)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0
    threshold = spec.threshold if spec.threshold is not None else 1
    passed = (f1 >= threshold) != spec.negate  # promptfoo flips the verdict, never the score
    names = f"Expected: [{', '.join(sorted(expected))}], Called: [{', '.join(sorted(called)) or '(none)'}]"
    if passed:
        reason = f"Tool Call F1: {f1:.3f} (precision={precision:.3f}, recall={recall:.3f}). {names}"
    else:
        reason = (f"Tool Call F1 score {f1:.3f} is {'above' if spec.negate else 'below'} threshold "
                  f"{threshold:g}. {names}. Precision={precision:.3f}, Recall={recall:.3f}")
    return Verdict(passed, reason, f1, final=True)
