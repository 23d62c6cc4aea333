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

How values print is JavaScript's business and lives in ``jscompat`` (``values``, ``nunjucks``);
this module is the Jinja2 environment that applies those rules.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from functools import lru_cache
from typing import Any

import jinja2
from jinja2 import nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.ext import Extension
from jinja2.lexer import Token, TokenStream

from .errors import TemplateError
from .jscompat import nunjucks
from .jscompat.values import js_dump, strict_json
from .text import counted, shorten

__all__ = ["has_template_syntax", "register_filter", "render", "render_prompt", "render_value", "syntax_error"]

_UNDEFINED_NAME = re.compile(r"'([^']+)' is undefined")
_PAIRS_FUNCTION = "_nunjucks_pairs"
_CONCAT_FUNCTION = "_nunjucks_concat"


# -- the environment ------------------------------------------------------------------------

def _finalize(value: Any) -> Any:
    if isinstance(value, (str, jinja2.Undefined)):
        return value  # an undefined value must still reach StrictUndefined and raise
    return nunjucks.printed(value)


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


class _CodeGenerator(CodeGenerator):
    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        self.write(f"environment.globals[{_CONCAT_FUNCTION!r}]((")
        for argument in node.nodes:
            self.visit(argument, frame)
            self.write(", ")
        self.write("))")


class _Undefined(jinja2.StrictUndefined):
    """Jinja2's strict undefined, but ``a.b`` on an ``a`` without ``b`` names ``b`` and what ``a`` is.

    Jinja2 names only the type ("'str object' has no attribute 'b'"), which reads like a
    missing variable; a top-level name keeps Jinja2's "'x' is undefined", which render() reads.
    """

    @property
    def _undefined_message(self) -> str:
        if self._undefined_hint or self._undefined_obj is jinja2.utils.missing:
            return super()._undefined_message
        name = self._undefined_name
        what = f"item {name}" if isinstance(name, int) else repr(name)
        return f"reads {what} of {_described(self._undefined_obj)}, which has no such key or attribute"


def _described(value: Any) -> str:
    """``value`` in a few words, for an error message."""
    if isinstance(value, str):
        return f"the text {shorten(repr(value), 40)}"
    if isinstance(value, Mapping):
        return f"a mapping with keys {shorten(', '.join(map(str, value)), 60)}" if len(value) else "an empty mapping"
    if isinstance(value, (list, tuple)):
        return f"a list of {counted(len(value), 'item')}"
    return "null" if value is None else f"the value {shorten(nunjucks.printed(value), 40)}"


class _Environment(jinja2.Environment):
    code_generator_class = _CodeGenerator

    def getattr(self, obj: Any, attribute: str) -> Any:
        # Nunjucks reads ``a.b`` as ``a["b"]``: a key wins over a dict method of that name.
        if isinstance(obj, Mapping) and attribute in obj:
            return obj[attribute]
        if attribute == "length" and isinstance(obj, (str, list, tuple)):  # a JavaScript array's or string's
            return len(obj)
        return super().getattr(obj, attribute)


_environment = _Environment(
    undefined=_Undefined,
    autoescape=False,
    keep_trailing_newline=True,
    finalize=_finalize,
    extensions=[NunjucksForLoops, SelfIsAVar],
)
_environment.filters.update(dump=js_dump, join=nunjucks.join, string=nunjucks.printed, load=nunjucks.load,
                           nl2br=nunjucks.nl2br)
_environment.globals[_PAIRS_FUNCTION] = nunjucks.pairs
_environment.globals[_CONCAT_FUNCTION] = nunjucks.concat


# Which user function (its file and name) each registered filter name stands for.
_filter_origins: dict[str, str] = {}


def register_filter(name: str, function: Any, origin: str) -> None:
    """An eval file's ``nunjucksFilters`` entry: ``{{ x | name(args) }}`` calls ``function(x, *args)``.

    Filters live in the one template environment, so they are the session's, and templates render
    after every file is collected: a name that another file gives another function (``origin``)
    would change that file's verdicts, so it raises :class:`ValueError` instead.
    """
    known = _filter_origins.get(name)
    if known is not None and known != origin:
        raise ValueError(f"the filter {name!r} is already {known} in another eval file of this session")
    if known is None:
        _filter_origins[name] = origin
        if name in _environment.filters:  # a built-in replaced: templates compiled with it are dropped
            _compile.cache_clear()
        _environment.filters[name] = function


# Tags that read other templates: an eval has no template folder to read them from.
_LOADING_TAGS = {nodes.Include: "include", nodes.Import: "import", nodes.FromImport: "from ... import",
                 nodes.Extends: "extends"}


@lru_cache(maxsize=4096)
def _compile(source: str) -> jinja2.Template:
    tree = _environment.parse(source)
    for node in tree.find_all(tuple(_LOADING_TAGS)):
        raise jinja2.TemplateSyntaxError(
            f"{{% {_LOADING_TAGS[type(node)]} %}} is not supported: templates cannot read other templates; "
            "load the shared text as a var (vars: {header: file://header.txt}) and write {{ header }}",
            node.lineno)
    return _environment.from_string(tree)


def has_template_syntax(text: str) -> bool:
    """Whether ``text`` has a tag, an expression or a comment; text without one renders as itself."""
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
        context = {_SELF_VAR if name == "self" else name: nunjucks.as_js(value) for name, value in variables.items()}
        return _compile(source).render(context)
    except jinja2.UndefinedError as error:
        known = ", ".join(sorted(variables)) or "none"
        match = _UNDEFINED_NAME.fullmatch(str(error))
        if match is None:  # a key or attribute missing on a value (see _Undefined)
            raise TemplateError(f"{what} {error} (vars of this case: {known}); "
                                "check the names in the template against the case's vars") from None
        name = "self" if match.group(1) == _SELF_VAR else match.group(1)
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


_NOT_JSON = object()


@lru_cache(maxsize=256)
def _parsed(source: str) -> Any:
    """``JSON.parse(source)``, or ``_NOT_JSON``; kept, as the cases of a prompt share its text (never mutated)."""
    try:
        return strict_json(source)
    except ValueError:
        return _NOT_JSON


def render_prompt(source: str, variables: Mapping[str, Any], *, what: str = "prompt") -> str:
    """A prompt as promptfoo 0.123.1 sends it (``renderPrompt``): a prompt that parses as JSON (a
    chat, say) has each string in it rendered and is sent re-serialised with two-space indentation,
    ``JSON.stringify(parsed, null, 2)``, so a var holding quotes cannot break it and ``equals`` on an
    echoed prompt agrees; any other prompt is rendered as a template."""
    parsed = _parsed(source)
    if parsed is _NOT_JSON:
        return render(source, variables, what=what)
    return js_dump(render_value(parsed, variables, what=what), 2)

