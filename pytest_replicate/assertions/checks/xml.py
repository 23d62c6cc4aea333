"""``is-xml`` and ``contains-xml``, with promptfoo 0.123.1's verdicts.

promptfoo checks ``is-xml`` with a strict, namespace-aware parser (saxes) and refuses a DTD
internal subset; we use expat (the standard library's) the same way, with entity expansion
of DTDs refused before it starts. ``contains-xml`` looks for balanced tag spans in the output
exactly as promptfoo scans them, tries the spans in promptfoo's order and passes on the first
that holds the required elements. The required elements are dotted paths into the document
as fast-xml-parser turns it into an object (``root.child``, ``root.item.1``, ``root.@_id``);
``tree`` builds that object's shape.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from xml.parsers import expat

from ...jscompat.values import js_string, js_trim
from ..base import AssertionContext, Verdict, output_text
from ..declare import assertion
from ..spec import AssertionSpec


def _is_name_start(char: str) -> bool:
    code = ord(char)
    return (char in ":_" or "A" <= char <= "Z" or "a" <= char <= "z" or 0xC0 <= code <= 0xD6
            or 0xD8 <= code <= 0xF6 or 0xF8 <= code <= 0x2FF or 0x370 <= code <= 0x37D
            or 0x37F <= code <= 0x1FFF or 0x200C <= code <= 0x200D or 0x2070 <= code <= 0x218F
            or 0x2C00 <= code <= 0x2FEF or 0x3001 <= code <= 0xD7FF or 0xF900 <= code <= 0xFDCF
            or 0xFDF0 <= code <= 0xFFFD or 0x10000 <= code <= 0xEFFFF)


def _is_name_char(char: str) -> bool:
    code = ord(char)
    return (_is_name_start(char) or char in "-.0123456789\xb7" or 0x300 <= code <= 0x36F
            or 0x203F <= code <= 0x2040)


def _read_name(text: str, start: int) -> tuple[str, int] | None:
    if start >= len(text) or not _is_name_start(text[start]):
        return None
    end = start + 1
    while end < len(text) and _is_name_char(text[end]):
        end += 1
    return text[start:end], end


def _tag_end(text: str, start: int) -> int:
    """The index of the ``>`` closing the tag at ``start`` (quotes skipped); -1 at a ``<`` or the end."""
    quote = None
    for i in range(start + 1, len(text)):
        char = text[i]
        if quote:
            if char == quote:
                quote = None
        elif char in "\"'":
            quote = char
        elif char == "<":
            return -1
        elif char == ">":
            return i
    return -1


def _delimited_end(text: str, start: int, delimiter: str) -> int:
    found = text.find(delimiter, start)
    return len(text) - 1 if found < 0 else found + len(delimiter) - 1


def _declaration_end(text: str, start: int) -> int:
    if text.startswith("<!--", start):
        return _delimited_end(text, start + 4, "-->")
    if text.startswith("<![CDATA[", start):
        return _delimited_end(text, start + 9, "]]>")
    quote, depth = None, 0
    for i in range(start + 2, len(text)):
        char = text[i]
        if quote:
            if char == quote:
                quote = None
        elif char in "\"'":
            quote = char
        elif char == "[":
            depth += 1
        elif char == "]" and depth > 0:
            depth -= 1
        elif char == ">" and depth == 0:
            return i
    return len(text) - 1


@dataclass(frozen=True)
class _Tag:
    kind: str  # "opening", "closing" or "declaration"
    start: int
    end: int  # the index of its last character
    name: str = ""
    self_closing: bool = False


def _read_tag(text: str, start: int) -> _Tag | None:
    """The markup starting at the ``<`` at ``start``, as promptfoo's scanner reads it."""
    if start + 1 >= len(text):
        return None
    following = text[start + 1]
    if following == "!":
        return _Tag("declaration", start, _declaration_end(text, start))
    if following == "?":
        return _Tag("declaration", start, _delimited_end(text, start + 2, "?>"))
    closing = following == "/"
    name = _read_name(text, start + 2 if closing else start + 1)
    end = _tag_end(text, start)
    if name is None or end < 0:
        return None
    if closing:
        return _Tag("closing", start, end, name[0])
    return _Tag("opening", start, end, name[0], text[start + 1:end].rstrip().endswith("/"))


@dataclass(frozen=True)
class _Span:
    start: int
    end: int  # exclusive
    parent: int | None  # the start of the enclosing open tag


def candidates(text: str) -> list[tuple[int, int]]:
    """The (start, end) spans of balanced XML in ``text``, in the order promptfoo tries them:
    runs of sibling elements first, then the outermost elements."""
    stack: list[tuple[str, int]] = []
    spans: list[_Span] = []
    i = 0
    while i < len(text):
        if text[i] != "<":
            i += 1
            continue
        tag = _read_tag(text, i)
        if tag is None:
            i += 1
            continue
        parent = stack[-1][1] if stack else None
        if tag.kind == "opening" and tag.self_closing:
            spans.append(_Span(tag.start, tag.end + 1, parent))
        elif tag.kind == "opening":
            stack.append((tag.name, tag.start))
        elif tag.kind == "closing":
            if stack and stack[-1][0] == tag.name:
                _, opened = stack.pop()
                spans.append(_Span(opened, tag.end + 1, stack[-1][1] if stack else None))
            else:
                stack.clear()
        i = tag.end + 1
    return _ordered(spans)


def _ordered(spans: list[_Span]) -> list[tuple[int, int]]:
    ordered: list[tuple[int, int]] = []
    starts = {span.start for span in spans}
    by_parent: dict[int | None, list[_Span]] = {}
    for span in spans:
        by_parent.setdefault(span.parent, []).append(span)
    for parent, siblings in by_parent.items():
        if len(siblings) <= 1 or (parent is not None and parent in starts):
            continue
        siblings.sort(key=lambda span: (span.start, span.end))
        ordered.append((siblings[0].start, siblings[-1].end))
    outermost = [span for span in spans if span.parent is None or span.parent not in starts]
    outermost.sort(key=lambda span: (span.start, -span.end))
    for span in outermost:
        if (span.start, span.end) not in ordered:
            ordered.append((span.start, span.end))
    return ordered


_ATTRIBUTE = re.compile(r"""([^\s=]+)\s*(=\s*(['"])([\s\S]*?)\3)?""")


def tree(text: str) -> dict[str, Any]:
    """The shape fast-xml-parser gives ``text`` (attributes as ``@_name``, text as ``#text``,
    repeated elements as lists); only which keys exist matters, so text values stay strings."""
    root: dict[str, Any] = {}
    stack: list[tuple[str, dict[str, Any], list[str]]] = [("", root, [])]
    i = 0
    while i < len(text):
        if text[i] != "<":
            end = text.find("<", i)
            end = len(text) if end < 0 else end
            stack[-1][2].append(text[i:end])
            i = end
            continue
        if text.startswith("<![CDATA[", i):
            end = _delimited_end(text, i + 9, "]]>")
            stack[-1][2].append(text[i + 9:end - 2])
            i = end + 1
            continue
        tag = _read_tag(text, i)
        if tag is None:
            stack[-1][2].append("<")
            i += 1
            continue
        if tag.kind == "declaration" and text.startswith("<?", i):
            target = _read_name(text, i + 2)
            if target:
                _add(stack[-1][1], "?" + target[0], _attributes(text[target[1]:tag.end - 1]) or "")
        elif tag.kind == "opening":
            attributes = _attributes(text[i + 1 + len(tag.name):tag.end - (1 if tag.self_closing else 0)])
            if tag.self_closing:
                _add(stack[-1][1], tag.name, attributes or "")
            else:
                stack.append((tag.name, attributes, []))
        elif tag.kind == "closing" and len(stack) > 1:
            name, node, texts = stack.pop()
            _finish(stack[-1][1], name, node, texts)
        i = tag.end + 1
    while len(stack) > 1:
        name, node, texts = stack.pop()
        _finish(stack[-1][1], name, node, texts)
    return root


def _attributes(source: str) -> dict[str, Any]:
    return {f"@_{match.group(1)}": match.group(4) if match.group(2) else True
            for match in _ATTRIBUTE.finditer(source.strip())}


def _finish(parent: dict[str, Any], name: str, node: dict[str, Any], texts: list[str]) -> None:
    content = "".join(texts).strip()
    if node:
        if content:
            node["#text"] = content
        _add(parent, name, node)
    else:
        _add(parent, name, content)


def _add(parent: dict[str, Any], name: str, value: Any) -> None:
    if name not in parent:
        parent[name] = value
    elif isinstance(parent[name], list):
        parent[name].append(value)
    else:
        parent[name] = [parent[name], value]


def has_path(document: Any, path: list[str]) -> bool:
    current = document
    for key in path:
        if isinstance(current, list):
            if not key.isdigit() or str(int(key)) != key or int(key) >= len(current):
                return False
            current = current[int(key)]
        elif isinstance(current, dict):
            if key not in current:
                return False
            current = current[key]
        else:
            return False
    return True


def _missing(text: str, required: list[str] | None) -> str | None:
    if not required:
        return None
    document = tree(text)
    missing = [element for element in required if not has_path(document, element.split("."))]
    return f"XML is missing required elements: {', '.join(missing)}" if missing else None


class _Refused(Exception):
    pass


def well_formedness_problem(text: str) -> str | None:
    """Why ``text`` is not one well-formed, namespace-correct XML document (None when it is)."""
    parser = expat.ParserCreate(namespace_separator=" ")

    def doctype(name: str, system_id: str | None, public_id: str | None, has_internal_subset: int) -> None:
        if has_internal_subset:
            raise _Refused("DTD internal subsets are not supported by is-xml validation")

    parser.StartDoctypeDeclHandler = doctype
    try:
        parser.Parse(text, True)
    except _Refused as refused:
        return str(refused)
    except expat.ExpatError as error:
        return f"XML parsing failed: {expat.ErrorString(error.code)} (line {error.lineno}, column {error.offset + 1})"
    return None


def _required(value: Any) -> list[str] | None:
    """promptfoo's value forms: a comma-separated string, a list, or ``{requiredElements: [...]}``."""
    if isinstance(value, str):
        return [js_trim(element) for element in value.split(",")]
    if isinstance(value, list) and value:
        return [js_string(element) for element in value]
    if isinstance(value, dict) and value:
        return [js_string(element) for element in value["requiredElements"]]
    return None


def _value_problem(value: Any) -> str | None:
    if isinstance(value, dict) and value and not isinstance(value.get("requiredElements"), list):
        return "value must be the required elements: a comma-separated string, a list, or {requiredElements: [...]}"
    return None


@assertion("is-xml", needs_value=False, validate_value=_value_problem)
def check_is_xml(output: Any, value: Any, spec: AssertionSpec, ctx: AssertionContext) -> Verdict:
    text = output_text(output)
    problem = well_formedness_problem(text) or _missing(text, _required(value))
    return Verdict(problem is None, problem or "Output is well-formed XML with the required elements")


@assertion("contains-xml", needs_value=False, validate_value=_value_problem)
def check_contains_xml(output: Any, value: Any, spec: AssertionSpec, ctx: AssertionContext) -> Verdict:
    text = output_text(output)
    spans = candidates(text)
    if not spans:
        return Verdict(False, "No XML content found in the output")
    required = _required(value)
    tried: list[tuple[int, int]] = []
    for start, end in spans:
        if any(outer_start <= start and end <= outer_end for outer_start, outer_end in tried):
            continue  # promptfoo skips spans inside one already found wanting
        if _missing(text[start:end], required) is None:
            return Verdict(True, "Output contains XML with the required elements")
        tried.append((start, end))
    return Verdict(False, "No valid XML content found matching the requirements")
