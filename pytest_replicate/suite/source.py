"""Parsed YAML documents that remember where each node came from.

Schema and semantic errors are reported as ``file:line: tests[2].assert[0]: message``;
this module keeps the node-to-line map that makes that possible.

promptfoo reads YAML with js-yaml, whose schema is YAML 1.2's core schema (plus merge
keys). PyYAML follows YAML 1.1, where ``yes``, ``no``, ``on``, ``off`` are booleans,
``010`` is octal 8, ``1_000`` is 1000 and ``2024-01-02`` is a date. We keep PyYAML's fast C
parser but resolve plain scalars by the 1.2 core rules (the resolver is Python-side), refuse
duplicate keys as js-yaml does, and refuse alias "bombs" and recursive aliases before any
code walks the document.
"""

from __future__ import annotations

import gc
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import yaml

from ..errors import ConfigError, YamlPath

if TYPE_CHECKING:
    from .parse_cache import ParseCache

try:  # The C parser is several times faster on large suites.
    _BaseLoader: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - PyYAML built without libyaml
    _BaseLoader = yaml.SafeLoader

_MERGE_TAG = "tag:yaml.org,2002:merge"

# Nodes that aliases may add beyond the document's own: enough for any real reuse of
# anchors (a shared assert block in thousands of tests), far below a "billion laughs".
ALIAS_EXPANSION_LIMIT = 100_000
_ALIAS_EXPANSION_RATIO = 10


class _Yaml12Loader(_BaseLoader):
    """PyYAML's (C) safe loader with YAML 1.2 core-schema scalars and no duplicate keys."""

    yaml_implicit_resolvers: ClassVar[dict] = {}  # ours only, not YAML 1.1's

    def construct_yaml_timestamp(self, node: yaml.ScalarNode) -> str:  # explicit !!timestamp
        return self.construct_scalar(node)


_Yaml12Loader.add_constructor("tag:yaml.org,2002:timestamp", _Yaml12Loader.construct_yaml_timestamp)
# A plain ``<<`` that is not a merge key (a value) is the string "<<", as in js-yaml.
_Yaml12Loader.add_constructor(_MERGE_TAG, lambda loader, node: loader.construct_scalar(node))


def _int_core(loader: Any, node: yaml.ScalarNode) -> int:
    return _int_text(loader.construct_scalar(node))


def _int_text(text: str) -> int:
    if text.startswith("0x"):
        return int(text[2:], 16)
    if text.startswith("0o"):
        return int(text[2:], 8)
    return int(text, 10)  # "010" is ten in YAML 1.2, not octal eight


def _float_core(loader: Any, node: yaml.ScalarNode) -> float | int:
    return _float_text(loader.construct_scalar(node))


def _float_text(text: str) -> float | int:
    text = text.lower()
    if text.endswith(".inf"):
        return float("-inf") if text.startswith("-") else float("inf")
    if text.endswith(".nan"):
        return float("nan")
    number = float(text)
    # JavaScript has one number type: promptfoo renders 1.0 and 1e3 as "1" and "1000".
    return int(number) if number.is_integer() and abs(number) < 2**53 else number


_Yaml12Loader.add_constructor("tag:yaml.org,2002:int", _int_core)
_Yaml12Loader.add_constructor("tag:yaml.org,2002:float", _float_core)

# The YAML 1.2 core schema, as js-yaml (promptfoo's parser) applies it.
_CORE_RESOLVERS = [
    ("tag:yaml.org,2002:null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
    ("tag:yaml.org,2002:bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    ("tag:yaml.org,2002:int", r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$", "-+0123456789"),
    (
        "tag:yaml.org,2002:float",
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
        "-+.0123456789",
    ),
    (_MERGE_TAG, r"^<<$", "<"),
]
_RESOLVABLE_FIRST = frozenset(char for _, _, first in _CORE_RESOLVERS for char in first)
for _tag, _pattern, _first in _CORE_RESOLVERS:
    _Yaml12Loader.add_implicit_resolver(_tag, re.compile(_pattern), list(_first))


class _DuplicateKey(Exception):
    def __init__(self, key: Any, first: int, second: int) -> None:
        self.key, self.first, self.second = key, first, second


@dataclass
class Document:
    """One loaded file: its data plus a map from YAML path to 1-based line number.

    For YAML, paths of up to two parts (``tests[41]``) are indexed while loading; deeper ones
    only when an error needs a line, by parsing the file again. A large suite that loads
    cleanly never pays for indexing a million nodes.
    """

    file: Path
    data: Any
    lines: dict[YamlPath, int] = field(default_factory=dict)
    prefix: YamlPath = ()
    text: str | None = field(default=None, repr=False)  # set while ``lines`` is shallow
    # For files that are not YAML (CSV): where a path is, as a line and words ("row 3, column 'q'").
    place: Callable[[YamlPath], tuple[int | None, str]] | None = field(default=None, repr=False)

    @property
    def base_dir(self) -> Path:
        return self.file.parent

    def line_of(self, path: YamlPath) -> int | None:
        """The line of ``path``, or of its nearest ancestor that has one."""
        path = tuple(path)
        if self.place is not None:
            return self.place(path)[0]
        if len(path) > _SHALLOW_DEPTH and self.text is not None:  # index the whole file now
            self.lines = _line_index(self.text)
            self.text = None
        while True:
            if path in self.lines:
                return self.lines[path]
            if not path:
                return None
            path = path[:-1]

    def error(self, path: YamlPath, message: str, hint: str | None = None) -> ConfigError:
        if self.place is not None:
            line, where = self.place(tuple(path))
            return ConfigError(f"{where}: {message}" if where else message, file=self.file, line=line, hint=hint)
        return ConfigError(message, file=self.file, path=self.prefix + tuple(path), line=self.line_of(path), hint=hint)

    def locate(self, error: ConfigError, at: YamlPath = ()) -> ConfigError:
        """``error``, raised by a lower layer about the node at ``at``, with file and line added.

        An error that already names its file (it is about another file) is kept as it is.
        """
        if error.file is not None:
            return error
        return self.error(tuple(at) + error.path, error.message, error.hint)


@contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while a large suite is built.

    Building a million small objects triggers it again and again, each time over everything
    built so far, although none of them can be garbage yet.
    """
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


_SHALLOW_DEPTH = 2  # paths this short are indexed while loading: tests[i], prompts[i]...


_NO_KEY = object()
_MERGE = object()
_STR, _NULL, _BOOL = "tag:yaml.org,2002:str", "tag:yaml.org,2002:null", "tag:yaml.org,2002:bool"
_INT, _FLOAT = "tag:yaml.org,2002:int", "tag:yaml.org,2002:float"
_DEFAULT_COLLECTION_TAGS = (None, "!", "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq")


class _Frame:
    """A mapping or sequence being built from parser events."""

    __slots__ = ("anchor", "is_map", "items", "key", "key_line", "line", "merges", "own_lines", "path", "size")

    def __init__(self, is_map: bool, anchor: str | None, path: YamlPath | None, line: int) -> None:
        self.is_map = is_map
        self.items: Any = {} if is_map else []
        self.key: Any = _NO_KEY
        self.key_line = 0
        self.own_lines: dict[Any, int] = {}
        self.merges: list[tuple[Any, int]] = []
        self.size = 1  # nodes in this subtree, counting each alias as the nodes it stands for
        self.anchor = anchor
        self.path = path  # set while shallow enough to index its lines
        self.line = line


class _Builder:
    """Builds Python data straight from the parser's events, without PyYAML's node tree.

    A node tree costs about 400 bytes per scalar (two Mark objects each), 570 MB for a
    suite of 100,000 tests; the data alone is a fraction of that. Along the way it checks
    what js-yaml checks (duplicate keys), what it does not (aliases that multiply the
    document, aliases to a node that contains them), and records the lines of short paths.
    """

    def __init__(self, loader: Any, file: Path, text: str) -> None:
        self.loader, self.file, self.text = loader, file, text
        self.lines: dict[YamlPath, int] = {}
        self.anchors: dict[str, tuple[Any, int, int]] = {}  # name -> (value, size, line)
        self.open_anchors: set[str] = set()
        self.alias_uses: dict[str, int] = {}
        self.distinct = 0
        # One string for each distinct text: generated suites repeat values (an assertion's type,
        # a topic) in every test, and each test's copy would live as long as the session.
        self.strings: dict[str, str] = {}

    def build(self) -> Any:
        loader = self.loader
        loader.get_event()  # StreamStart
        if loader.check_event(yaml.StreamEndEvent):
            return None
        loader.get_event()  # DocumentStart
        stack: list[_Frame] = []
        root: Any = None
        root_size = 0
        lines = self.lines
        strings = self.strings
        while True:
            event = loader.get_event()
            kind = type(event)
            line = event.start_mark.line + 1
            if kind is yaml.ScalarEvent:
                self.distinct += 1
                value, size = self._scalar(event, stack), 1
                if type(value) is str:
                    value = strings.setdefault(value, value)
                if event.anchor is not None:
                    self.anchors[event.anchor] = (value, 1, line)
            elif kind is yaml.MappingStartEvent or kind is yaml.SequenceStartEvent:
                self.distinct += 1
                if event.tag not in _DEFAULT_COLLECTION_TAGS:
                    raise ConfigError(f"the YAML tag {event.tag} is not supported here", file=self.file, line=line,
                                      hint="remove the tag: a plain mapping or list is what eval files use")
                path = self._child_path(stack[-1] if stack else None)
                if path is not None:
                    lines.setdefault(path, line)
                if event.anchor is not None:
                    self.open_anchors.add(event.anchor)
                stack.append(_Frame(kind is yaml.MappingStartEvent, event.anchor, path, line))
                continue
            elif kind is yaml.MappingEndEvent or kind is yaml.SequenceEndEvent:
                frame = stack.pop()
                value, size, line = self._finish(frame), frame.size, frame.line
                if frame.anchor is not None:
                    self.open_anchors.discard(frame.anchor)
                    self.anchors[frame.anchor] = (value, size, line)
            elif kind is yaml.AliasEvent:
                name = event.anchor
                if name in self.open_anchors:
                    raise ConfigError(
                        f"recursive alias: *{name} on line {line} refers to the node &{name} that contains it",
                        file=self.file, line=line,
                        hint="an alias (*name) may only refer to a node that is complete where the alias appears",
                    )
                if name not in self.anchors:
                    raise ConfigError(f"invalid YAML: the alias *{name} names no anchor (&{name}) above it",
                                      file=self.file, line=line)
                value, size, _ = self.anchors[name]
                self.alias_uses[name] = self.alias_uses.get(name, 0) + 1
            else:  # DocumentEnd
                break
            if not stack:
                root, root_size = value, size
                continue
            self._add(stack[-1], value, size, line, event)
        if not loader.check_event(yaml.StreamEndEvent):
            extra = loader.peek_event()
            raise ConfigError("invalid YAML: expected one document, found another (a second '---')",
                              file=self.file, line=extra.start_mark.line + 1)
        self.lines.setdefault((), 1)
        self.check_size(root_size)
        return root

    def _child_path(self, parent: _Frame | None) -> YamlPath | None:
        if parent is None:
            return ()
        if parent.path is None or len(parent.path) >= _SHALLOW_DEPTH:
            return None
        if parent.is_map:
            return parent.path + (parent.key,) if parent.key is not _NO_KEY and parent.key is not _MERGE and _is_key(parent.key) else None
        return parent.path + (len(parent.items),)

    def _scalar(self, event: Any, stack: list[_Frame]) -> Any:
        value = event.value
        tag = event.tag
        if tag is None or tag == "!":
            if not event.implicit[0] or value[:1] not in _RESOLVABLE_FIRST:
                return value  # quoted, or plain text that no core-schema rule can match
            tag = self.loader.resolve(yaml.ScalarNode, value, event.implicit)
        if tag == _STR:
            return value
        if tag == _NULL:
            return None
        if tag == _BOOL:
            return value.lower() == "true"
        if tag == _INT:
            return _int_text(value)
        if tag == _FLOAT:
            return _float_text(value)
        if tag == _MERGE_TAG:
            frame = stack[-1] if stack else None
            return _MERGE if frame is not None and frame.is_map and frame.key is _NO_KEY else value
        node = yaml.ScalarNode(tag, value, event.start_mark, event.end_mark, event.style)
        return self.loader.construct_object(node, deep=True)  # !!binary, !!timestamp...

    def _add(self, frame: _Frame, value: Any, size: int, line: int, event: Any) -> None:
        frame.size += size
        if not frame.is_map:
            if frame.path is not None and len(frame.path) < _SHALLOW_DEPTH:
                self.lines.setdefault(frame.path + (len(frame.items),), line)
            frame.items.append(value)
            return
        if frame.key is _NO_KEY:  # this value is a key
            if type(value) is str:
                value = sys.intern(value)  # 100,000 tests repeat the same few keys
            elif value is not _MERGE and not _is_key(value):
                raise ConfigError("invalid YAML: a mapping key must be a plain value, not a list or mapping",
                                  file=self.file, line=line)
            frame.key, frame.key_line = value, line
            if frame.path is not None and len(frame.path) < _SHALLOW_DEPTH and value is not _MERGE:
                self.lines[frame.path + (value,)] = line
            return
        key, frame.key = frame.key, _NO_KEY
        if key is _MERGE:
            frame.merges.append((value, frame.key_line))
            return
        if key in frame.own_lines:
            raise _DuplicateKey(key, frame.own_lines[key], frame.key_line)
        frame.own_lines[key] = frame.key_line
        frame.items[key] = value

    def _finish(self, frame: _Frame) -> Any:
        if not frame.is_map or not frame.merges:
            return frame.items
        merged: dict = {}
        for value, line in frame.merges:  # earlier merges win over later ones, own keys over all
            for source in (value if isinstance(value, list) else [value]):
                if not isinstance(source, dict):
                    raise ConfigError("invalid YAML: a merge key (<<) takes a mapping or a list of mappings",
                                      file=self.file, line=line)
                for key, item in source.items():
                    merged.setdefault(key, item)
        merged.update(frame.items)
        return merged

    def check_size(self, root_size: int) -> None:
        added = root_size - self.distinct
        limit = max(ALIAS_EXPANSION_LIMIT, _ALIAS_EXPANSION_RATIO * self.distinct)
        if added <= limit:
            return
        name = max(self.alias_uses, key=lambda n: self.anchors[n][1] * self.alias_uses[n])
        line = self.anchors[name][2]
        raise ConfigError(
            f"aliases would expand this document from {self.distinct:,} to {root_size:,} nodes "
            f"(at most {limit:,} added nodes are allowed); the largest repeated node is &{name} "
            f"on line {line}, aliased {self.alias_uses[name]:,} times",
            file=self.file,
            line=line,
            hint="this looks like a YAML alias bomb; write the data out, or reuse it through defaultTest",
        )


def _is_key(value: Any) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


def _line_index(text: str) -> dict[YamlPath, int]:
    """Parse ``text`` again (it loaded once, so it parses) and map every path to its line."""
    loader = _Yaml12Loader(text)
    try:
        root = loader.get_single_node()
    finally:
        loader.dispose()
    lines: dict[YamlPath, int] = {}
    if root is None:
        return lines
    _index_lines(root, lines)  # keys a merge (<<) brings in get the line of their mapping
    return lines


def _index_lines(root: yaml.Node, lines: dict[YamlPath, int]) -> None:
    """Record the line of every path; a node reached again through an alias is not re-walked."""
    visited: set[int] = set()
    stack: list[tuple[yaml.Node, YamlPath]] = [(root, ())]
    while stack:
        node, path = stack.pop()
        lines.setdefault(path, node.start_mark.line + 1)
        if id(node) in visited:
            continue
        visited.add(id(node))
        # Children are pushed in reverse so they are walked in document order: an anchor
        # comes before its aliases, and lines under an alias stay at the alias.
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in reversed(node.value):
                key = key_node.value
                lines[path + (key,)] = key_node.start_mark.line + 1  # point at the key, not its value
                stack.append((value_node, path + (key,)))
        elif isinstance(node, yaml.SequenceNode):
            for index in range(len(node.value) - 1, -1, -1):
                stack.append((node.value[index], path + (index,)))


def read_file(file: Path) -> str:
    """A config file's text; unreadable or non-UTF-8 files are a ConfigError, not a crash."""
    if file.is_dir():
        raise ConfigError("is a directory, not a file", file=file, hint="name a file inside it, or use a glob such as dir/*.txt")
    try:
        return file.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise ConfigError(f"cannot read file: not UTF-8 text ({error.reason} at byte {error.start})", file=file) from None
    except OSError as error:
        raise ConfigError(f"cannot read file: {error.strerror}", file=file) from None


def _reader_error(file: Path, text: str, error: yaml.reader.ReaderError) -> ConfigError:
    """A character YAML forbids (a NUL byte, a control character), with its line and column."""
    character = chr(error.character) if isinstance(error.character, int) else str(error.character)
    index = text.find(character)
    line = text.count("\n", 0, index) + 1 if index >= 0 else None
    column = index - text.rfind("\n", 0, index) if index >= 0 else None
    where = f", column {column}" if column else ""
    name = "a NUL byte" if character == "\0" else f"the control character U+{ord(character):04X}"
    return ConfigError(
        f"invalid YAML{where}: {name} is not allowed in YAML",
        file=file,
        line=line,
        hint="remove it (the file may be binary, or saved in UTF-16); escape it as \\x00 inside a double-quoted string if you need it",
    )


def load_yaml(file: Path, cache: ParseCache | None = None) -> Document:
    """Parse ``file`` into a :class:`Document`; malformed YAML becomes a ConfigError.

    With a ``cache``, what an earlier run parsed from the same text is read back instead
    (``parse_cache.py``), and what this run parses is kept.
    """
    with paused_gc():
        text = read_file(file)
        if cache is not None:
            found = cache.load(file, text)
            if found is not None:
                return Document(file=file, data=found[0], lines=found[1], text=text)
        doc = _load_yaml(file, text)
        if cache is not None:
            cache.store(file, text, doc.data, doc.lines)
        return doc


def _load_yaml(file: Path, text: str) -> Document:
    loader = _Yaml12Loader(text)
    builder = _Builder(loader, file, text)
    try:
        data = builder.build()
    except _DuplicateKey as duplicate:
        raise ConfigError(
            f"duplicate key {duplicate.key!r}: first on line {duplicate.first}, again on line {duplicate.second}",
            file=file,
            line=duplicate.second,
            hint="a key may appear once per mapping (promptfoo refuses this file too); merge the two into one",
        ) from None
    except yaml.reader.ReaderError as error:
        raise _reader_error(file, text, error) from None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark else None
        column = f", column {mark.column + 1}" if mark else ""
        context = error.context
        if context and error.context_mark and mark and error.context_mark.line != mark.line:
            context += f" started on line {error.context_mark.line + 1}"  # usually the real mistake
        problem = " ".join(part for part in (context, error.problem) if part)
        raise ConfigError(
            f"invalid YAML{column}: {problem}",
            file=file,
            line=line,
            hint="check the indentation and quoting around this line",
        ) from None
    except yaml.YAMLError as error:
        raise ConfigError(f"invalid YAML: {error}", file=file) from None
    except RecursionError:
        raise ConfigError("invalid YAML: nested too deeply", file=file) from None
    finally:
        loader.dispose()
    return Document(file=file, data=data, lines=builder.lines, text=text)
