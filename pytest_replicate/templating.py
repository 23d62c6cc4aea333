"""Prompt and assertion-value templates.

promptfoo uses Nunjucks; we use Jinja2, which accepts the same everyday syntax, and make
it render values the way Nunjucks (that is, JavaScript) does:

- ``{{ x }}`` prints booleans as ``true``/``false``, null as nothing, numbers as JavaScript
  prints them (``1`` for 1.0, ``1e+21``, ``1e-7``) and lists joined with commas; a mapping
  prints as compact JSON (Nunjucks prints ``[object Object]``, which no prompt wants).
- ``dump`` is ``JSON.stringify``: compact, JavaScript number and key order, ``dump(2)`` indents.
- ``{% for k, v in mapping %}`` iterates a mapping's items, as in Nunjucks.
- Mappings and lists are true in ``{% if %}`` even when empty, as JavaScript objects are.
- ``a.b`` on a mapping reads the key ``b`` before any Python attribute (``data.items`` is the
  value under ``items``, not ``dict.items``).
- ``~`` joins values as JavaScript text (``1.0 ~ "x"`` is ``1x``; null reads ``null``).
- ``load`` parses JSON (promptfoo adds this filter to its Nunjucks environment); ``nl2br``.

Kept from Jinja2 on purpose: undefined variables are an error (a silently empty variable
gives a plausible but wrong prompt), ``'a' + 1`` is an error rather than ``a1``, and
``{% for k in mapping %}`` iterates the keys (Nunjucks iterates nothing).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator, Mapping
from decimal import Decimal
from functools import lru_cache
from typing import Any

import jinja2
from jinja2 import nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.ext import Extension
from jinja2.lexer import Token, TokenStream

from .errors import TemplateError

__all__ = ["js_dump", "js_number", "js_string", "render", "render_value", "syntax_error"]

_UNDEFINED_NAME = re.compile(r"'([^']+)' is undefined")
_PAIRS_FUNCTION = "_nunjucks_pairs"
_CONCAT_FUNCTION = "_nunjucks_concat"


# -- JavaScript's view of values ------------------------------------------------------------

def js_number(value: int | float) -> str:
    """``String(value)`` in JavaScript (integers stay exact: a YAML int is not a double here)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "0"  # JavaScript prints -0 as 0 too
    sign = "-" if value < 0 else ""
    # repr() gives the shortest digits that round-trip, as JavaScript's Number::toString does.
    exact = Decimal(repr(abs(value))).normalize()
    _, digit_tuple, exponent = exact.as_tuple()
    assert isinstance(exponent, int)
    digits = "".join(map(str, digit_tuple))
    k = len(digits)
    n = exponent + k  # the decimal point sits after the n-th digit
    if k <= n <= 21:
        text = digits + "0" * (n - k)
    elif 0 < n <= 21:
        text = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0:
        text = "0." + "0" * -n + digits
    else:
        e = n - 1
        mantissa = digits if k == 1 else digits[0] + "." + digits[1:]
        text = f"{mantissa}e{'+' if e >= 0 else '-'}{abs(e)}"
    return sign + text


def _is_array_index(key: str) -> bool:
    return key.isascii() and key.isdigit() and (key == "0" or not key.startswith("0")) and int(key) < 2**32 - 1


def _js_key(key: Any) -> str:
    return "null" if key is None else js_string(key)


def _js_order(mapping: Mapping[Any, Any]) -> list[Any]:
    """A mapping's keys in JavaScript property order: array-index keys first, ascending."""
    keys = [(_js_key(key), key) for key in mapping]
    indexed = sorted((pair for pair in keys if _is_array_index(pair[0])), key=lambda pair: int(pair[0]))
    return [key for _, key in indexed + [pair for pair in keys if not _is_array_index(pair[0])]]


def js_items(mapping: Mapping[Any, Any]) -> list[tuple[str, Any]]:
    """A mapping's items as JavaScript sees them: string keys, in JavaScript property order."""
    return [(_js_key(key), mapping[key]) for key in _js_order(mapping)]


def js_dump(value: Any, indent: int | str | None = None) -> str:
    """``JSON.stringify(value, null, indent)``."""
    if isinstance(indent, bool):
        indent = None
    if isinstance(indent, (int, float)):
        indent = " " * max(0, min(10, int(indent)))
    elif isinstance(indent, str):
        indent = indent[:10]
    return _stringify(value, indent or "", "")


def _stringify(value: Any, indent: str, current: str) -> str:
    if value is None or isinstance(value, jinja2.Undefined):
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and not math.isfinite(value):
        return "null"
    if isinstance(value, (int, float)):
        return js_number(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    inner = current + indent
    if isinstance(value, Mapping):
        parts = [f"{json.dumps(key, ensure_ascii=False)}:{' ' if indent else ''}{_stringify(item, indent, inner)}"
                 for key, item in js_items(value)]
        return _wrap("{", parts, "}", indent, current)
    if isinstance(value, (list, tuple)):
        return _wrap("[", [_stringify(item, indent, inner) for item in value], "]", indent, current)
    return json.dumps(str(value), ensure_ascii=False)  # dates and other YAML scalars


def _wrap(opening: str, parts: list[str], closing: str, indent: str, current: str) -> str:
    if not parts:
        return opening + closing
    if not indent:
        return opening + ",".join(parts) + closing
    inner = current + indent
    return opening + "\n" + inner + (",\n" + inner).join(parts) + "\n" + current + closing


def js_string(value: Any) -> str:
    """How ``{{ value }}`` prints in Nunjucks (a mapping prints as compact JSON instead)."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if isinstance(value, (bool, int, float)):
        return js_number(value)
    if isinstance(value, Mapping):
        return js_dump(value)
    if isinstance(value, (list, tuple)):
        return ",".join(js_string(item) for item in value)  # Array.prototype.join
    return str(value)


class _JsObject(dict):
    """A mapping that is true even when empty, as a JavaScript object is."""

    def __bool__(self) -> bool:
        return True


class _JsArray(list):
    """A list that is true even when empty, as a JavaScript array is."""

    def __bool__(self) -> bool:
        return True


def _as_js(value: Any) -> Any:
    if isinstance(value, Mapping):
        return _JsObject((key, _as_js(value[key])) for key in _js_order(value))
    if isinstance(value, (list, tuple)):
        return _JsArray(_as_js(item) for item in value)
    return value


# -- the environment ------------------------------------------------------------------------

def _finalize(value: Any) -> Any:
    if isinstance(value, (str, jinja2.Undefined)):
        return value  # an undefined value must still reach StrictUndefined and raise
    return js_string(value)


def _nunjucks_pairs(value: Any) -> Any:
    """The iterable of ``{% for k, v in value %}``: a mapping's items, anything else as is."""
    if isinstance(value, Mapping):
        return js_items(value)
    return value


class NunjucksForLoops(Extension):
    """Make ``{% for k, v in mapping %}`` iterate ``mapping``'s items, as Nunjucks does.

    Works on the token stream: in a ``for`` tag whose target has two names, the iterable
    expression (up to a loop filter ``if``, ``recursive`` or the end of the tag) is wrapped
    in a call that turns a mapping into its items. Lists of pairs still unpack as before.
    """

    def filter_stream(self, stream: TokenStream) -> Iterator[Token]:
        tag: list[Token] | None = None
        for token in stream:
            if tag is None:
                if token.type == "block_begin":
                    tag = [token]
                else:
                    yield token
                continue
            tag.append(token)
            if token.type == "block_end":
                yield from _rewrite_for(tag)
                tag = None
        if tag:
            yield from tag


# What a var named ``self`` is called inside templates: Jinja2 binds ``self`` to the template.
_SELF_VAR = "_pytest_replicate_self"


class SelfIsAVar(Extension):
    """``{{ self }}`` reads a var named ``self``, as in Nunjucks, not Jinja2's template reference."""

    def filter_stream(self, stream: TokenStream) -> Iterator[Token]:
        previous: Token | None = None
        for token in stream:
            if token.type == "name" and token.value == "self" and (previous is None or previous.type != "dot"):
                token = Token(token.lineno, "name", _SELF_VAR)
            previous = token
            yield token


def _rewrite_for(tag: list[Token]) -> list[Token]:
    if len(tag) < 4 or not (tag[1].type == "name" and tag[1].value == "for"):
        return tag
    depth, in_at, pair_target = 0, None, False
    for index in range(2, len(tag)):
        token = tag[index]
        if token.type in ("lparen", "lbracket", "lbrace"):
            depth += 1
        elif token.type in ("rparen", "rbracket", "rbrace"):
            depth -= 1
        elif token.type == "comma":  # k, v or (k, v)
            pair_target = True
        elif depth == 0 and token.type == "name" and token.value == "in":
            in_at = index
            break
    if in_at is None or not pair_target:
        return tag
    depth, end = 0, len(tag) - 1
    for index in range(in_at + 1, len(tag) - 1):
        token = tag[index]
        if token.type in ("lparen", "lbracket", "lbrace"):
            depth += 1
        elif token.type in ("rparen", "rbracket", "rbrace"):
            depth -= 1
        elif depth == 0 and token.type == "name" and token.value in ("if", "recursive"):
            end = index
            break
    line = tag[in_at].lineno
    return (tag[:in_at + 1] + [Token(line, "name", _PAIRS_FUNCTION), Token(line, "lparen", "(")]
            + tag[in_at + 1:end] + [Token(line, "rparen", ")")] + tag[end:])


def _js_concat(parts: tuple[Any, ...]) -> str:
    """``a ~ b``: Nunjucks compiles it to ``a + "" + b``, so null reads "null" there."""
    return "".join("null" if part is None else js_string(part) for part in parts)


class _CodeGenerator(CodeGenerator):
    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        self.write(f"environment.globals[{_CONCAT_FUNCTION!r}]((")
        for argument in node.nodes:
            self.visit(argument, frame)
            self.write(", ")
        self.write("))")


def _nl2br(value: Any) -> str:
    """Nunjucks' ``nl2br`` (Jinja2 has no such filter)."""
    return re.sub(r"\r\n|\n", "<br />\n", js_string(value))


class _Environment(jinja2.Environment):
    code_generator_class = _CodeGenerator

    def getattr(self, obj: Any, attribute: str) -> Any:
        # Nunjucks reads ``a.b`` as ``a["b"]``: a key wins over a dict method of that name.
        if isinstance(obj, Mapping) and attribute in obj:
            return obj[attribute]
        return super().getattr(obj, attribute)


def _join(value: Any, separator: str = "", attribute: Any = None) -> str:
    items = list(value)
    if attribute is not None:
        items = [item.get(attribute) if isinstance(item, Mapping) else getattr(item, str(attribute), None)
                 for item in items]
    return separator.join(js_string(item) for item in items)


def _load(text: Any) -> Any:
    return _as_js(json.loads(str(text)))


_environment = _Environment(
    undefined=jinja2.StrictUndefined,
    autoescape=False,
    keep_trailing_newline=True,
    finalize=_finalize,
    extensions=[NunjucksForLoops, SelfIsAVar],
)
_environment.filters.update(dump=js_dump, join=_join, string=js_string, load=_load, nl2br=_nl2br)
_environment.globals[_PAIRS_FUNCTION] = _nunjucks_pairs
_environment.globals[_CONCAT_FUNCTION] = _js_concat


@lru_cache(maxsize=4096)
def _compile(source: str) -> jinja2.Template:
    return _environment.from_string(source)


def has_template_syntax(text: str) -> bool:
    return "{{" in text or "{%" in text or "{#" in text


def syntax_error(source: str) -> str | None:
    """Why ``source`` is not a valid template (bad syntax, unknown filter), or None."""
    if not has_template_syntax(source):
        return None
    try:
        _compile(source)
    except jinja2.TemplateSyntaxError as error:  # includes unknown filters and tests
        return f"template error on line {error.lineno}: {error.message}"
    return None


def render(source: str, variables: Mapping[str, Any], *, what: str = "template") -> str:
    """Render ``source`` with ``variables``; raise :class:`TemplateError` naming the problem."""
    if not has_template_syntax(source):
        return source
    try:
        context = {_SELF_VAR if name == "self" else name: _as_js(value) for name, value in variables.items()}
        return _compile(source).render(context)
    except jinja2.UndefinedError as error:
        match = _UNDEFINED_NAME.search(str(error))
        name = match.group(1) if match else str(error)
        name = "self" if name == _SELF_VAR else name
        known = ", ".join(sorted(variables)) or "none"
        raise TemplateError(
            f"{what} uses undefined variable {name!r} (vars of this case: {known}); "
            f"add it to the test's vars or to defaultTest.vars"
        ) from None
    except jinja2.TemplateSyntaxError as error:
        raise TemplateError(f"{what} has a template syntax error on line {error.lineno}: {error.message}") from None
    except Exception as error:  # e.g. a filter or operator applied to a var of the wrong type
        raise TemplateError(f"{what} could not be rendered: {type(error).__name__}: {error}") from None


def render_value(value: Any, variables: Mapping[str, Any], *, what: str) -> Any:
    """Render every string inside an assertion value (lists and dicts included)."""
    if isinstance(value, str):
        return render(value, variables, what=what)
    if isinstance(value, list):
        return [render_value(item, variables, what=what) for item in value]
    if isinstance(value, dict):
        return {key: render_value(item, variables, what=what) for key, item in value.items()}
    return value
