"""``is-html`` and ``contains-html``, with promptfoo 0.123.1's heuristics.

``contains-html`` counts promptfoo's indicators (tags, entities, a doctype, comments,
attributes, common element names) and passes at two. ``is-html`` is promptfoo's reading of
an HTML5 parse: the output is HTML when it holds a recognised element (a standard one, a
custom element with a ``-``, or a ``<html>``/``<head>``/``<body>`` written out) and, unless
it writes ``<body>`` itself, no text outside every element. promptfoo builds the tree with
parse5; we follow the tree-building rules that decide where text lands (void elements, raw
text elements, end tags closing what they match, block tags closing an open ``<p>``, text in
a table moved out of it) with the standard library's tokenizer.
"""

from __future__ import annotations

import html.parser
from typing import Any

from ...jscompat.regex import compile_js
from ...jscompat.values import js_trim
from ..base import AssertionContext, Verdict, output_text
from ..declare import assertion
from ..spec import AssertionSpec

_MAX_INPUT = 10 * 1024 * 1024
_INDICATORS = [  # (JavaScript pattern, flags, points)
    (r"<\/[a-zA-Z][a-zA-Z0-9-]*\s*>", "", 0),  # closing tag: counted with the opening one below
    (r"<[a-zA-Z][a-zA-Z0-9-]*(?:\s[^>]*)?\/>", "", 1),
    (r"&(?:[a-zA-Z]+|#[0-9]+|#x[0-9a-fA-F]+);", "", 1),
    (r"<!DOCTYPE\s+html", "i", 2),
    (r"<!--[^-]*(?:-[^-]+)*-->", "", 1),
    (r"\s[a-zA-Z-]+=\s*[\"'][^\"']*[\"']", "", 1),
    (r"<(html|head|body|div|span|p|a|img|h[1-6]|ul|ol|li|table|tr|td|th|form|input|button|script|style|link|meta|br|hr)\b",
     "i", 2),
]
_OPENING_TAG = r"<[a-zA-Z][a-zA-Z0-9-]*(?:\s[^>]*)?>"


def looks_like_html(text: str) -> bool:
    """promptfoo's ``containsHtml``: at least two points of HTML indicators."""
    if len(text) > _MAX_INPUT:
        return False
    opening = compile_js(_OPENING_TAG).test(text)
    closing = compile_js(_INDICATORS[0][0]).test(text)
    points = 2 if opening and closing else int(opening or closing)
    points += sum(weight for pattern, flags, weight in _INDICATORS[1:] if compile_js(pattern, flags).test(text))
    return points >= 2


_KNOWN_ELEMENTS = frozenset(["html", "head", "title", "base", "link", "meta", "style", "body", "article", "section", "nav", "aside", "h1", "h2", "h3", "h4", "h5", "h6", "header", "footer", "address", "p", "hr", "pre", "blockquote", "ol", "ul", "li", "dl", "dt", "dd", "figure", "figcaption", "main", "div", "a", "em", "strong", "small", "s", "cite", "q", "dfn", "abbr", "ruby", "rt", "rp", "data", "time", "code", "var", "samp", "kbd", "sub", "sup", "i", "b", "u", "mark", "bdi", "bdo", "span", "br", "wbr", "img", "iframe", "embed", "object", "param", "picture", "source", "video", "audio", "track", "map", "area", "svg", "math", "script", "noscript", "canvas", "ins", "del", "table", "caption", "colgroup", "col", "tbody", "thead", "tfoot", "tr", "td", "th", "form", "label", "input", "button", "select", "datalist", "optgroup", "option", "textarea", "output", "progress", "meter", "fieldset", "legend", "details", "summary", "dialog", "menu", "slot", "template"])
_WRAPPERS = frozenset({"html", "head", "body"})
_VOID = frozenset(["area", "base", "basefont", "bgsound", "br", "col", "embed", "frame", "hr", "img", "input", "keygen", "link", "meta", "param", "source", "track", "wbr"])
_CLOSES_P = frozenset(["address", "article", "aside", "blockquote", "center", "details", "dialog", "dir", "div", "dl", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hgroup", "hr", "listing", "main", "menu", "nav", "ol", "p", "plaintext", "pre", "search", "section", "summary", "table", "ul", "xmp"])
_TABLE_TEXT_MOVES = frozenset({"table", "tbody", "thead", "tfoot", "tr"})
_HEAD_CONTENT = frozenset({"title", "meta", "link", "base", "style", "script", "noscript", "template"})
_RAW_TEXT = ("script", "style", "xmp", "iframe", "noembed", "noframes", "noscript")


class _Reader(html.parser.HTMLParser):
    """Where text and elements land, as an HTML5 tree builder would put them."""

    # Elements whose content is text, not markup (title and textarea too, on Pythons without RCDATA
    # support). typeshed marks the attribute Final, but the tokenizer reads it per class.
    CDATA_CONTENT_ELEMENTS = _RAW_TEXT + (  # type: ignore[misc]
        () if hasattr(html.parser.HTMLParser, "RCDATA_CONTENT_ELEMENTS") else ("title", "textarea"))

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[str] = []  # open elements, the wrappers left out
        self.recognised = False
        self.top_level_text = False
        self.written_body = False  # a <body> tag that made the body (not one merged into it later)
        self.seen = False  # any element or text yet
        self.in_body = False  # the body has begun (made by the parser if no tag made it)

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        # A wrapper written after the parser made its own is merged into that one: not the writer's.
        written = not (self.seen if tag == "html" else self.in_body)
        if (tag in _WRAPPERS and written) or tag in _KNOWN_ELEMENTS or "-" in tag:
            self.recognised = True
        self.seen = True
        if tag in _WRAPPERS:
            self.written_body = self.written_body or (tag == "body" and written)
            self.in_body = self.in_body or tag == "body"
            return
        self.in_body = self.in_body or tag not in _HEAD_CONTENT
        if tag in _CLOSES_P and "p" in self.open:
            del self.open[self.open.index("p"):]
        elif tag == "li" and "li" in self.open:
            del self.open[self.open.index("li"):]
        elif tag in ("dt", "dd"):
            for name in ("dt", "dd"):
                if name in self.open:
                    del self.open[self.open.index(name):]
        if tag not in _VOID:
            self.open.append(tag)

    def handle_startendtag(self, tag: str, attrs: Any) -> None:
        self.handle_starttag(tag, attrs)  # HTML ignores the "/": a non-void element stays open

    def handle_endtag(self, tag: str) -> None:
        if tag in self.open:
            index = len(self.open) - 1 - self.open[::-1].index(tag)
            del self.open[index:]

    def handle_data(self, data: str) -> None:
        if not js_trim(data):
            return
        self.seen = True
        self.in_body = self.in_body or not self.open  # text in <title> and the like stays in the head
        innermost = self.open[-1] if self.open else None
        if innermost in _TABLE_TEXT_MOVES:  # text is moved in front of the table, into its parent
            table = max(i for i, name in enumerate(self.open) if name == "table") if "table" in self.open else 0
            innermost = self.open[table - 1] if table > 0 else None
        if innermost is None:
            self.top_level_text = True


def html_problem(text: str) -> str | None:
    """Why promptfoo's ``is-html`` would not take ``text`` as HTML (None when it would)."""
    trimmed = js_trim(text)
    if not trimmed:
        return "Output is empty"
    if len(trimmed) > _MAX_INPUT:
        return "Output exceeds maximum size limit"
    if compile_js(r"^\s*<\?xml", "i").test(trimmed):
        return "Output appears to be XML, not HTML"
    reader = _Reader()
    reader.feed(trimmed)
    reader.close()
    if reader.top_level_text and not reader.written_body:
        return "Output must be wrapped in HTML tags"
    if not reader.recognised:
        return "Output does not contain recognized HTML elements"
    return None


@assertion("is-html", needs_value=False)
def check_is_html(output: Any, value: Any, spec: AssertionSpec, ctx: AssertionContext) -> Verdict:
    problem = html_problem(output_text(output))
    return Verdict(problem is None, problem or "Output is valid HTML")


@assertion("contains-html", needs_value=False)
def check_contains_html(output: Any, value: Any, spec: AssertionSpec, ctx: AssertionContext) -> Verdict:
    found = looks_like_html(output_text(output))
    return Verdict(found, "Output contains HTML content" if found else "Output does not contain HTML content")
