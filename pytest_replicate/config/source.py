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
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import yaml
from yaml.constructor import ConstructorError

from ..errors import ConfigError, YamlPath

try:  # The C parser is several times faster on large suites.
    _BaseLoader: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - PyYAML built without libyaml
    _BaseLoader = yaml.SafeLoader

_MERGE_TAG = "tag:yaml.org,2002:merge"

# Nodes that aliases may add beyond the document's own: enough for any real reuse of
# anchors (a shared assert block in thousands of tests), far below a "billion laughs".
ALIAS_EXPANSION_LIMIT = 100_000
_ALIAS_EXPANSION_RATIO = 10


class _Yaml12Loader(_BaseLoader):  # type: ignore[misc, valid-type]
    """PyYAML's (C) safe loader with YAML 1.2 core-schema scalars and no duplicate keys."""

    yaml_implicit_resolvers: dict = {}

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        if not isinstance(node, yaml.MappingNode):
            raise ConstructorError(None, None, f"expected a mapping node, but found {node.id}", node.start_mark)
        explicit = sum(1 for key_node, _ in node.value if key_node.tag != _MERGE_TAG)
        self.flatten_mapping(node)  # merged pairs first, then the mapping's own
        own_from = len(node.value) - explicit
        mapping: dict = {}
        first_line: dict = {}
        for index, (key_node, value_node) in enumerate(node.value):
            key = self.construct_object(key_node, deep=deep)
            try:
                hash(key)
            except TypeError:
                raise ConstructorError("while constructing a mapping", node.start_mark,
                                       "found unhashable key", key_node.start_mark) from None
            if index >= own_from:
                if key in first_line:
                    raise _DuplicateKey(key, first_line[key], key_node.start_mark.line + 1)
                first_line[key] = key_node.start_mark.line + 1
            mapping[key] = self.construct_object(value_node, deep=deep)
        return mapping

    def construct_yaml_timestamp(self, node: yaml.ScalarNode) -> str:  # explicit !!timestamp
        return self.construct_scalar(node)


_Yaml12Loader.add_constructor("tag:yaml.org,2002:timestamp", _Yaml12Loader.construct_yaml_timestamp)
# A plain ``<<`` that is not a merge key (a value) is the string "<<", as in js-yaml.
_Yaml12Loader.add_constructor(_MERGE_TAG, lambda loader, node: loader.construct_scalar(node))


def _int_core(loader: Any, node: yaml.ScalarNode) -> int:
    text = loader.construct_scalar(node)
    if text.startswith("0x"):
        return int(text[2:], 16)
    if text.startswith("0o"):
        return int(text[2:], 8)
    return int(text, 10)  # "010" is ten in YAML 1.2, not octal eight


def _float_core(loader: Any, node: yaml.ScalarNode) -> float | int:
    text = loader.construct_scalar(node).lower()
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


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [child for pair in node.value for child in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _anchor_name(text: str, node: yaml.Node) -> str:
    """The ``&name`` written where ``node`` starts (PyYAML nodes do not keep it)."""
    line = text.splitlines()[node.start_mark.line] if node.start_mark.line < len(text.splitlines()) else ""
    names = re.findall(r"&([^\s,\[\]{}]+)", line)
    return f"&{names[-1]}" if names else "an anchor"


def _check_aliases(root: yaml.Node, file: Path, text: str) -> None:
    """Refuse recursive aliases and aliases that multiply the document's size.

    PyYAML shares an aliased node instead of copying it, but everything that walks the data
    (schema validation, line indexing, case expansion) sees it once per alias. The walk
    here visits each distinct node once and computes, exactly, how big the tree would be.
    """
    expanded: dict[int, int] = {}
    references: dict[int, int] = {}
    shared: dict[int, yaml.Node] = {}
    on_path = {id(root)}
    totals = {id(root): 1}
    stack = [(root, iter(_children(root)))]
    while stack:
        current, children = stack[-1]
        child = next(children, None)
        if child is None:
            stack.pop()
            on_path.discard(id(current))
            expanded[id(current)] = totals.pop(id(current))
            if stack:
                totals[id(stack[-1][0])] += expanded[id(current)]
            continue
        key = id(child)
        references[key] = references.get(key, 0) + 1
        if key in on_path:
            raise ConfigError(
                f"recursive alias: the node anchored as {_anchor_name(text, child)} on line "
                f"{child.start_mark.line + 1} contains an alias to itself",
                file=file,
                line=child.start_mark.line + 1,
                hint="an alias (*name) may only refer to a node that is complete where the alias appears",
            )
        if references[key] > 1:
            shared[key] = child
        if key in expanded:
            totals[id(current)] += expanded[key]
            continue
        on_path.add(key)
        totals[key] = 1
        stack.append((child, iter(_children(child))))
    distinct = len(expanded)
    added = expanded[id(root)] - distinct
    limit = max(ALIAS_EXPANSION_LIMIT, _ALIAS_EXPANSION_RATIO * distinct)
    if added > limit:
        worst = max(shared.values(), key=lambda node: expanded[id(node)] * references[id(node)])
        raise ConfigError(
            f"aliases would expand this document from {distinct:,} to {expanded[id(root)]:,} nodes "
            f"(at most {limit:,} added nodes are allowed); the largest repeated node is "
            f"{_anchor_name(text, worst)} on line {worst.start_mark.line + 1}, aliased {references[id(worst)] - 1:,} times",
            file=file,
            line=worst.start_mark.line + 1,
            hint="this looks like a YAML alias bomb; write the data out, or reuse it through defaultTest",
        )


_SHALLOW_DEPTH = 2  # paths this short are indexed while loading: tests[i], prompts[i]...


def _shallow_index(root: yaml.Node) -> dict[YamlPath, int]:
    """Lines of every path of at most two parts: enough to place each test of a suite."""
    lines: dict[YamlPath, int] = {(): root.start_mark.line + 1}
    if isinstance(root, yaml.MappingNode):
        top = [((key_node.value,), key_node, value_node) for key_node, value_node in root.value]
    elif isinstance(root, yaml.SequenceNode):
        top = [((index,), item, item) for index, item in enumerate(root.value)]
    else:
        return lines
    for path, key_node, value_node in top:
        lines[path] = key_node.start_mark.line + 1
        if isinstance(value_node, yaml.MappingNode):
            for key, _ in value_node.value:
                lines[path + (key.value,)] = key.start_mark.line + 1
        elif isinstance(value_node, yaml.SequenceNode):
            for index, item in enumerate(value_node.value):
                lines[path + (index,)] = item.start_mark.line + 1
    return lines


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


def load_yaml(file: Path) -> Document:
    """Parse ``file`` into a :class:`Document`; malformed YAML becomes a ConfigError."""
    with paused_gc():
        return _load_yaml(file, read_file(file))


def _load_yaml(file: Path, text: str) -> Document:
    loader = _Yaml12Loader(text)
    try:
        node = loader.get_single_node()
        if node is not None and "&" in text:  # without an anchor there is no alias
            _check_aliases(node, file, text)
        data = loader.construct_document(node) if node is not None else None
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
    if node is None:
        return Document(file=file, data=data)
    return Document(file=file, data=data, lines=_shallow_index(node), text=text)
