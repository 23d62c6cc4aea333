"""Prompt and assertion-value templates.

promptfoo uses Nunjucks; Jinja2 accepts the same everyday syntax (``{{ var }}``, filters,
``{% if %}``, ``{% for %}``). We add the Nunjucks filters Jinja2 lacks and make undefined
variables an error, since a silently empty variable produces a plausible but wrong prompt.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

import jinja2

from .errors import TemplateError

_UNDEFINED_NAME = re.compile(r"'([^']+)' is undefined")


def _dump(value: Any, indent: int | None = None) -> str:
    """Nunjucks ``dump``: JSON, unlike Jinja2's ``tojson`` which HTML-escapes."""
    return json.dumps(value, indent=indent, ensure_ascii=False, default=str)


_environment = jinja2.Environment(
    undefined=jinja2.StrictUndefined,
    autoescape=False,
    keep_trailing_newline=True,
)
_environment.filters["dump"] = _dump


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
        return _compile(source).render(**variables)
    except jinja2.UndefinedError as error:
        match = _UNDEFINED_NAME.search(str(error))
        name = match.group(1) if match else str(error)
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
