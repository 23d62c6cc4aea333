"""Parsed YAML documents that remember where each node came from.

Schema and semantic errors are reported as ``file:line: tests[2].assert[0]: message``;
this module keeps the node-to-line map that makes that possible.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..errors import ConfigError, YamlPath

try:  # The C loader is several times faster on large suites.
    _Loader: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - PyYAML built without libyaml
    _Loader = yaml.SafeLoader

@dataclass
class Document:
    """One loaded file: its data plus a map from YAML path to 1-based line number."""

    file: Path
    data: Any
    lines: dict[YamlPath, int] = field(default_factory=dict)
    prefix: YamlPath = ()

    @property
    def base_dir(self) -> Path:
        return self.file.parent

    def line_of(self, path: YamlPath) -> int | None:
        """The line of ``path``, or of its nearest ancestor that has one."""
        path = tuple(path)
        while True:
            if path in self.lines:
                return self.lines[path]
            if not path:
                return None
            path = path[:-1]

    def error(self, path: YamlPath, message: str, hint: str | None = None) -> ConfigError:
        return ConfigError(message, file=self.file, path=self.prefix + tuple(path), line=self.line_of(path), hint=hint)

    def locate(self, error: ConfigError, at: YamlPath = ()) -> ConfigError:
        """``error``, raised by a lower layer about the node at ``at``, with file and line added.

        An error that already names its file (it is about another file) is kept as it is.
        """
        if error.file is not None:
            return error
        return self.error(tuple(at) + error.path, error.message, error.hint)


def _index_lines(node: yaml.Node, path: YamlPath, lines: dict[YamlPath, int]) -> None:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value
            _index_lines(value_node, path + (key,), lines)
            lines[path + (key,)] = key_node.start_mark.line + 1  # point at the key, not its value
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _index_lines(item, path + (index,), lines)


def read_file(file: Path) -> str:
    """A config file's text; unreadable or non-UTF-8 files are a ConfigError, not a crash."""
    try:
        return file.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise ConfigError(f"cannot read file: not UTF-8 text ({error.reason} at byte {error.start})", file=file) from None
    except OSError as error:
        raise ConfigError(f"cannot read file: {error.strerror}", file=file) from None


def load_yaml(file: Path) -> Document:
    """Parse ``file`` into a :class:`Document`; malformed YAML becomes a ConfigError."""
    loader = _Loader(read_file(file))
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
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
    finally:
        loader.dispose()
    lines: dict[YamlPath, int] = {}
    if node is not None:
        _index_lines(node, (), lines)
    return Document(file=file, data=data, lines=lines)
