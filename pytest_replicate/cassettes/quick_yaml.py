"""Reads the YAML that ``serializer.py`` writes, several times faster than PyYAML, or declines.

Replay reads one cassette per item, and PyYAML spends most of that time in Python: its C
parser calls back into Python to resolve and construct every node. The cassette writer
(libyaml's emitter, keys sorted, lines never folded) produces a narrow shape: block mappings
and sequences indented by two, plain or single-quoted scalars on one line, ``|``/``|-``/``|+``
literal blocks, and one-line flow collections (``volatile:``, embeddings). :func:`load` reads
exactly that shape and returns ``None`` for anything else (a double-quoted or multi-line
scalar, a tag, an anchor, a comment, a tab, a hand-edited indent, ...), so the caller falls
back to the YAML loader, which also reports what is wrong with a broken file.

Where it answers, it answers what PyYAML's safe loader would: plain scalars are resolved with
the loader's own implicit resolvers and built by its own constructors (``null``, booleans,
numbers), and everything it does not understand down to the character is declined. The unit
tests compare both loaders on round-trips of odd documents.
"""

from __future__ import annotations

import re
from typing import Any

import yaml
from yaml.nodes import ScalarNode

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)("")  # its resolver and constructors, never its parser
_CONSTRUCTED = {tag: _LOADER.yaml_constructors[tag] for tag in (
    "tag:yaml.org,2002:null", "tag:yaml.org,2002:bool", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float")}
_STR = "tag:yaml.org,2002:str"
_RESOLVED_FIRST = frozenset(key for key in _LOADER.yaml_implicit_resolvers if key)  # first characters of non-strings
_ANY_FIRST = None in _LOADER.yaml_implicit_resolvers  # a resolver for any first character (none by default)

# Characters read the same in every scalar style and never a line break to YAML: no tab,
# no control character, no \r, \x85, \u2028, \u2029, no byte-order mark.
_OUTSIDE_SHAPE = re.compile("[^\n\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]")
_SINGLE_QUOTED = re.compile(r"'((?:[^']|'')*)'")
# A plain scalar may not start with an indicator or a space, nor contain ': ' or ' #', nor end
# in ':' or a space; in a flow collection it holds none of these either.
_PLAIN_START = frozenset(" '\"#&*!|>%@`{}[],?:")
_FLOW_MARKS = frozenset(":#{}[],")
# Every line as (indentation, "- " marks, key, rest); a key is single-quoted or plain, up to ": ".
_LINE = re.compile(r"^( *)((?:- )*)(?:('(?:[^']|'')*'|[^ '\n][^\n]*?):(?: |$))?(.*)$", re.MULTILINE)
_Token = tuple[str, str, str, str]
_MEMO: dict[str, Any] = {}  # short plain scalars, resolved: keys and common values recur in every cassette
_MEMO_SIZE = 4096
_UNSET = object()
_LITERAL_HEADERS = {"|": "clip", "|-": "strip", "|+": "keep"}


class _Declined(Exception):
    """The text leaves the shape this reader knows: PyYAML reads it instead."""


def load(text: str) -> Any | None:
    """The document in ``text`` as PyYAML's safe loader builds it, or ``None`` to say "use PyYAML"."""
    if not text.endswith("\n") or _OUTSIDE_SHAPE.search(text) or _has_marker(text):
        return None
    lines = text.split("\n")
    lines.pop()  # after the final line break
    tokens = _LINE.findall(text)
    tokens.pop()  # the empty line after the final line break
    if not lines or len(tokens) != len(lines) or tokens[0][0] or tokens[0][1]:
        return None
    try:
        value, end = _Reader(lines, tokens).mapping(0, 0)
    except _Declined:
        return None
    return value if end == len(lines) else None


def _has_marker(text: str) -> bool:
    """Whether a line starts with ``---`` or ``...`` (a document's start or end); plain string
    searches, several times faster than a multi-line regular expression."""
    return text.startswith(("---", "...")) or "\n---" in text or "\n..." in text


def _scalar(text: str) -> Any:
    """A one-line scalar: single-quoted (a string) or plain (resolved as the YAML loader does)."""
    value = _MEMO.get(text, _UNSET)
    if value is _UNSET:
        value = _resolve(text)
        if len(text) <= 64 and len(_MEMO) < _MEMO_SIZE:
            _MEMO[text] = value
    return value


def _resolve(text: str) -> Any:
    if not text:
        raise _Declined
    if text[0] == "'":
        match = _SINGLE_QUOTED.fullmatch(text)
        if not match:
            raise _Declined
        return match[1].replace("''", "'")
    if (text[0] in _PLAIN_START or (text[0] == "-" and text[1:2] in ("", " ")) or ": " in text or " #" in text
            or text.endswith((":", " "))):
        raise _Declined
    if text[0] not in _RESOLVED_FIRST and not _ANY_FIRST:
        return text
    tag = _LOADER.resolve(ScalarNode, text, (True, False))
    if tag == _STR:
        return text
    construct = _CONSTRUCTED.get(tag)
    if construct is None:  # a timestamp, a merge key, ...
        raise _Declined
    return construct(_LOADER, ScalarNode(tag, text))


def _flow(text: str) -> Any:
    """A one-line flow mapping or sequence of scalars: ``{a: 1, b: 'x'}``, ``[0.5, 1]``."""
    is_mapping = text[0] == "{"
    if not text.endswith("}" if is_mapping else "]"):
        raise _Declined
    inner = text[1:-1]
    if not inner:
        return {} if is_mapping else []
    mapping: dict[Any, Any] = {}
    items: list[Any] = []
    position = 0
    while True:
        end = _token_end(inner, position)
        if is_mapping:
            if not inner.startswith(": ", end):
                raise _Declined
            value_end = _token_end(inner, end + 2)
            mapping[_flow_scalar(inner[position:end])] = _flow_scalar(inner[end + 2:value_end])
            end = value_end
        else:
            items.append(_flow_scalar(inner[position:end]))
        if end == len(inner):
            return mapping if is_mapping else items
        if not inner.startswith(", ", end):
            raise _Declined
        position = end + 2


def _token_end(inner: str, position: int) -> int:
    """Where the flow scalar starting at ``position`` ends: a quoted one at its closing quote,
    a plain one before the next ``, `` or ``: ``."""
    if inner.startswith("'", position):
        quoted = _SINGLE_QUOTED.match(inner, position)
        if not quoted:
            raise _Declined
        return quoted.end()
    ends = [end for end in (inner.find(", ", position), inner.find(": ", position)) if end >= 0]
    return min(ends, default=len(inner))


def _flow_scalar(text: str) -> Any:
    if text[:1] != "'" and not _FLOW_MARKS.isdisjoint(text):
        raise _Declined
    return _scalar(text)


def _split_key(text: str) -> tuple[str, str | None]:
    """``key: rest`` -> (key, rest); ``key:`` -> (key, ""); no key -> (text, None)."""
    if not text:
        raise _Declined
    if text[0] == "'":
        quoted = _SINGLE_QUOTED.match(text)
        if not quoted:
            raise _Declined
        rest = text[quoted.end():]
        if rest == ":":
            return text[:quoted.end()], ""
        if rest.startswith(": "):
            return text[:quoted.end()], rest[2:]
        if rest:
            raise _Declined
        return text, None
    colon = text.find(": ")
    if colon < 0:
        return (text[:-1], "") if text.endswith(":") else (text, None)
    return text[:colon], text[colon + 2:]


class _Reader:
    """Block structure over the document's lines; each method returns (value, next line).

    A sequence item that opens a collection (``- key: value``, ``- - x``) is read as that
    collection starting two columns further right: its token loses one ``- `` mark.
    """

    def __init__(self, lines: list[str], tokens: list[_Token]) -> None:
        self.lines = lines
        self.tokens = [(len(spaces), marks, key, rest) for spaces, marks, key, rest in tokens]

    def node(self, index: int, indent: int) -> tuple[Any, int]:
        """The block collection starting on line ``index`` at column ``indent``."""
        return self.sequence(index, indent) if self.tokens[index][1] else self.mapping(index, indent)

    def mapping(self, index: int, indent: int) -> tuple[dict[Any, Any], int]:
        tokens, mapping = self.tokens, {}
        while index < len(tokens):
            column, marks, key, rest = tokens[index]
            if column != indent or marks:
                break
            if not key:
                raise _Declined
            mapping[_scalar(key)], index = self.value(rest, index, indent, nested_sequence=True)
        self._ends(index, indent)
        return mapping, index

    def sequence(self, index: int, indent: int) -> tuple[list[Any], int]:
        tokens, items = self.tokens, []
        while index < len(tokens):
            column, marks, key, rest = tokens[index]
            if column != indent or not marks:
                break
            if key or len(marks) > 2:  # a nested collection begins here
                tokens[index] = (indent + 2, marks[2:], key, rest)
                item, index = self.node(index, indent + 2)
            else:
                item, index = self.value(rest, index, indent, nested_sequence=False)
            items.append(item)
        self._ends(index, indent)
        return items, index

    def value(self, rest: str, index: int, indent: int, *, nested_sequence: bool) -> tuple[Any, int]:
        """The value whose text starts with ``rest`` on line ``index`` (a key's or an item's)."""
        if not rest:  # the value is the block below
            if index + 1 >= len(self.tokens):
                raise _Declined
            column, marks, key, _ = self.tokens[index + 1]
            if nested_sequence and column == indent and marks:
                return self.sequence(index + 1, indent)
            if column == indent + 2 and (marks or key):
                return self.node(index + 1, indent + 2)
            raise _Declined
        if rest[0] == "|":
            return self.literal(rest, index, indent)
        if rest[0] in "{[":
            return _flow(rest), index + 1
        return _scalar(rest), index + 1

    def literal(self, header: str, index: int, indent: int) -> tuple[str, int]:
        """A ``|`` block: its lines are indented two more than its key or item."""
        chomping = _LITERAL_HEADERS.get(header)
        lines, margin = self.lines, indent + 2
        first = index + 1
        if chomping is None or first >= len(lines) or self.tokens[first][0] != margin or not lines[first].strip(" "):
            raise _Declined
        end = first
        while end < len(lines):
            line = lines[end]
            if line.strip(" "):
                if self.tokens[end][0] < margin:
                    break
                if line.endswith(" "):
                    raise _Declined
            elif len(line) > margin:
                raise _Declined
            end += 1
        body = [line[margin:] for line in lines[first:end]]
        trailing = 0
        while not body[-1 - trailing]:
            trailing += 1
        text = "\n".join(body[:len(body) - trailing])
        if chomping == "clip":
            text += "\n"
        elif chomping == "keep":
            text += "\n" * (trailing + 1)
        return text, end

    def _ends(self, index: int, indent: int) -> None:
        """A collection ends where a line is indented less than it (or the document ends)."""
        if index < len(self.tokens) and self.tokens[index][0] > indent:
            raise _Declined
