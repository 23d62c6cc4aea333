"""The ``javascript`` assertion, with promptfoo 0.123.1's rules (``src/assertions/javascript.ts``).

The value (its vars rendered in, trailing whitespace dropped) is the body of
``function (output, context)``: a single line is an expression (``output.length > 5``), or
declarations then an expression (``const n = output.length; n > 5``); several lines are a body
with ``return``. ``file://x.js[:function]`` (or a ``.py`` file) is called with (output, context).
The result is a boolean, a number (passes when > 0, or >= ``threshold`` when there is one; the
score is the number, negated or not) or ``{pass, score, reason}``, all three required. A script
that throws, or returns anything else, fails the assertion (``not-javascript`` too), and only it.
"""

from __future__ import annotations

import math
import re
from functools import lru_cache
from typing import Any

from ...errors import TransformError
from ...transforms import UserCode, javascript_function
from ..base import AssertionContext, Verdict
from ..declare import assertion
from ..spec import AssertionSpec

_DECLARATION = re.compile(r"^(const|let|var)\s")


def function_body(value: str) -> str:
    """promptfoo's ``buildFunctionBody`` for a one-line value; a multi-line value is the body as is."""
    code = value.rstrip()
    if "\n" in code:
        return code
    trimmed = re.sub(r";+\s*$", "", code.strip())
    if _DECLARATION.match(trimmed):
        last = _last_statement_semicolon(trimmed)
        if last != -1 and trimmed[last + 1:].strip():
            return f"{trimmed[:last + 1]} return {trimmed[last + 1:].strip()}"
        return trimmed
    return f"return {trimmed}"


def _last_statement_semicolon(code: str) -> int:
    """The last ``;`` outside quotes and template literals (promptfoo's scan, limits included)."""
    single = double = template = False
    last = -1
    for index, char in enumerate(code):
        escaped = (len(code[:index]) - len(code[:index].rstrip("\\"))) % 2 == 1
        if not escaped:
            if char == "'" and not double and not template:
                single = not single
            elif char == '"' and not single and not template:
                double = not double
            elif char == "`" and not single and not double:
                template = not template
        if char == ";" and not (single or double or template):
            last = index
    return last


@lru_cache(maxsize=512)
def inline_check(value: str) -> UserCode:
    """The compiled check for a rendered value; :class:`ValueError` when it is not JavaScript."""
    return UserCode(value, javascript_function(("output", "context"), function_body(value), "javascript assertion", value),
                    "javascript assertion")


@assertion("javascript")
def check_javascript(output: Any, value: Any, spec: AssertionSpec, ctx: AssertionContext) -> Verdict:
    try:
        code = spec.code if spec.code is not None else inline_check(str(value))
        result = code(output, ctx.as_user_context(spec))
    except (TransformError, ValueError) as error:
        return Verdict(False, f"Custom function threw error: {_cause(error)}", 0.0, final=True)
    return javascript_verdict(result, spec)


def _cause(error: Exception) -> str:
    """The script's own error, without our 'javascript assertion <source> raised' preamble."""
    cause = error.__cause__
    return str(cause) if cause is not None else str(error)


def javascript_verdict(result: Any, spec: AssertionSpec) -> Verdict:
    """A script's result as promptfoo grades it; the negation is applied here (``final``)."""
    if isinstance(result, bool):
        passed = result != spec.negate
        return Verdict(passed, "Assertion passed" if passed else f"Custom function returned {str(result).lower()}",
                       float(passed), final=True)
    if isinstance(result, (int, float)) and math.isfinite(result):
        raw = result > 0 if spec.threshold is None else result >= spec.threshold
        passed = raw != spec.negate
        return Verdict(passed, "Assertion passed" if passed else f"Custom function returned {str(raw).lower()}",
                       float(result), final=True)
    if _is_grading_result(result):
        passed = result["pass"] != spec.negate
        reason = result["reason"] if passed == result["pass"] else (
            "Assertion passed" if passed else f"Custom function returned {str(result['pass']).lower()}")
        return Verdict(passed, reason, float(result["score"]), final=True)
    kind = "undefined" if result is None else "string" if isinstance(result, str) else "object"
    return Verdict(False, "Custom function threw error: Custom function must return a boolean, number, or "
                   f"GradingResult object. Got type {kind}", 0.0, final=True)


def _is_grading_result(result: Any) -> bool:
    """promptfoo's isGradingResult: an object with a boolean pass, a number score and a text reason."""
    return (isinstance(result, dict) and isinstance(result.get("pass"), bool)
            and isinstance(result.get("score"), (int, float)) and not isinstance(result.get("score"), bool)
            and isinstance(result.get("reason"), str))
