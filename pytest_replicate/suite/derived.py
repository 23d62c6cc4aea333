"""promptfoo's ``derivedMetrics``: a named figure computed from the other named metrics.

promptfoo evaluates each ``value`` with mathjs over a column's named scores, summed over its
cases, plus ``__count`` (the column's cases) and the derived metrics before it, so
``value: "correct / __count"`` is a rate and ``2 * p * r / (p + r)`` an F1 of two sums. We
evaluate the arithmetic form of those expressions, safely (a small walk over Python's syntax
tree: numbers, names, ``+ - * / % ^`` and a few mathjs functions, nothing else). An expression
that cannot be evaluated (an unknown name, a division by zero) has no value, as promptfoo
then leaves it at 0 and logs why; here it shows as missing rather than as a false 0.
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import lru_cache
from typing import Any

_BINARY: dict[type, Callable[[float, float], float]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
    ast.Mod: operator.mod, ast.Pow: operator.pow, ast.BitXor: operator.pow,  # mathjs writes powers as ^
}
_FUNCTIONS: dict[str, Callable[..., float]] = {
    "min": min, "max": max, "abs": abs, "sqrt": math.sqrt, "log": math.log, "exp": math.exp,
    "round": lambda x, n=0: round(x, int(n)), "floor": math.floor, "ceil": math.ceil,
}


class ExpressionError(ValueError):
    """Why an expression is not one we evaluate."""


@lru_cache(maxsize=256)
def parse(expression: str) -> ast.expr:
    """The checked syntax tree of ``expression``; an ExpressionError for anything but arithmetic."""
    try:
        tree = ast.parse(expression.strip(), mode="eval").body
    except SyntaxError as error:
        raise ExpressionError(f"not an arithmetic expression: {error.msg}") from None
    for node in ast.walk(tree):
        allowed = (ast.BinOp, ast.UnaryOp, ast.Constant, ast.Name, ast.Load, ast.Call, ast.USub, ast.UAdd,
                   *_BINARY)
        if not isinstance(node, allowed):
            raise ExpressionError(f"{type(node).__name__} is not allowed: use numbers, metric names, "
                                  "+ - * / % ^ and min, max, abs, sqrt, log, exp, round, floor, ceil")
        if isinstance(node, ast.Constant) and (isinstance(node.value, bool) or not isinstance(node.value, (int, float))):
            raise ExpressionError(f"{node.value!r} is not a number")
        if isinstance(node, ast.Call) and (not isinstance(node.func, ast.Name) or node.func.id not in _FUNCTIONS
                                            or node.keywords):
            raise ExpressionError("only min, max, abs, sqrt, log, exp, round, floor and ceil can be called")
    return tree


def evaluate(expression: str, names: Mapping[str, float]) -> float:
    """The value of ``expression`` with ``names``; an ExpressionError when it has none."""
    try:
        value = _value(parse(expression), names)
    except (ZeroDivisionError, OverflowError, ValueError, TypeError) as error:
        raise ExpressionError(str(error)) from None
    if not math.isfinite(value):
        raise ExpressionError("the result is not a finite number")
    return value


def _value(node: ast.expr, names: Mapping[str, float]) -> float:
    if isinstance(node, ast.Constant):
        return float(node.value)  # type: ignore[arg-type]  # parse() let numbers only through
    if isinstance(node, ast.Name):
        if node.id not in names:
            raise ExpressionError(f"no metric is named {node.id!r}")
        return names[node.id]
    if isinstance(node, ast.UnaryOp):
        inner = _value(node.operand, names)
        return -inner if isinstance(node.op, ast.USub) else inner
    if isinstance(node, ast.BinOp):
        return _BINARY[type(node.op)](_value(node.left, names), _value(node.right, names))
    assert isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    return float(_FUNCTIONS[node.func.id](*(_value(argument, names) for argument in node.args)))


def derived_metrics(definitions: Sequence[Sequence[str]], named_scores: Iterable[Mapping[str, float]]) -> dict[str, float | None]:
    """Each derived metric's value over some cases' named scores (summed, with ``__count``), in order."""
    sums: dict[str, float] = {}
    count = 0
    for scores in named_scores:
        count += 1
        for name, score in scores.items():
            sums[name] = sums.get(name, 0.0) + score
    names: dict[str, Any] = {**sums, "__count": count}
    values: dict[str, float | None] = {}
    for name, expression in definitions:
        try:
            values[name] = names[name] = evaluate(expression, names)
        except ExpressionError:
            values[name] = None
    return values
