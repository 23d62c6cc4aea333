"""JSON references in eval files: ``$ref: '#/assertionTemplates/name'``, as promptfoo dereferences its config.

promptfoo passes the loaded config through json-schema-ref-parser, so any node may be
``{$ref: '#/path/to/node'}`` (a JSON pointer into the same file) or ``{$ref: 'other.yaml#/path'}``
(another file, relative to this one); keys beside ``$ref`` are laid over the node it names.
An assertion's ``value`` is left as written: a JSON schema there resolves its ``$ref`` against
itself (promptfoo resolves it against the whole config, see docs/migration.md).
A reference that names nothing, or that refers to a node containing it, is a ConfigError.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..errors import ConfigError, YamlPath
from .source import Document, load_yaml, read_file

_MAX_DEPTH = 64


def mentions_refs(doc: Document) -> bool:
    """Whether ``doc`` may hold a ``$ref``: its text says so (a large file is not walked for nothing)."""
    return "$ref" in doc.text if doc.text is not None else has_refs(doc.data)


def has_refs(value: Any) -> bool:
    """Whether any mapping inside ``value`` has a ``$ref`` (the common case has none: nothing to copy)."""
    if isinstance(value, dict):
        return "$ref" in value or any(has_refs(item) for item in value.values())
    if isinstance(value, list):
        return any(has_refs(item) for item in value)
    return False


def dereference(doc: Document) -> Any:
    """``doc.data`` with every ``$ref`` replaced by the node it names."""
    return _Resolver(doc).resolve(doc.data, (), doc.data, doc.file, 0)


def _is_assertion(node: dict) -> bool:
    """An assertion's ``value`` is its own (a JSON schema's ``$ref`` resolves inside the schema, ``is-json.py``)."""
    return isinstance(node.get("type"), str) and "value" in node


class _Resolver:
    def __init__(self, doc: Document) -> None:
        self.doc = doc
        self.files: dict[Path, Any] = {doc.file.resolve(): doc.data}

    def resolve(self, value: Any, path: YamlPath, root: Any, file: Path, depth: int) -> Any:
        if depth > _MAX_DEPTH:
            raise self._error(path, "a $ref refers, through others, to itself",
                              "a $ref may not name a node that contains it")
        if isinstance(value, list):
            return [self.resolve(item, path + (index,), root, file, depth) for index, item in enumerate(value)]
        if not isinstance(value, dict):
            return value
        if "$ref" not in value:
            return {key: item if key == "value" and _is_assertion(value) else
                    self.resolve(item, path + (key,), root, file, depth) for key, item in value.items()}
        reference = value["$ref"]
        if not isinstance(reference, str):
            raise self._error(path + ("$ref",), f"a $ref is a string such as '#/assertionTemplates/name', got {reference!r}")
        target_file, target_root = file, root
        location, _, pointer = reference.partition("#")
        if location:
            target_file = (file.parent / location).resolve()
            target_root = self._load(path, reference, target_file)
        node = self._pointer(path, reference, target_root, pointer)
        node = self.resolve(node, path, target_root, target_file, depth + 1)
        extra = {key: self.resolve(item, path + (key,), root, file, depth) for key, item in value.items() if key != "$ref"}
        if extra:
            if not isinstance(node, dict):
                raise self._error(path, f"{reference!r} names a {type(node).__name__}, which keys beside $ref cannot extend")
            return {**node, **extra}
        return node

    def _load(self, path: YamlPath, reference: str, file: Path) -> Any:
        if file not in self.files:
            if not file.is_file():
                raise self._error(path + ("$ref",), f"{reference!r}: file not found (looked for {file})")
            self.files[file] = json.loads(read_file(file)) if file.suffix == ".json" else load_yaml(file).data
        return self.files[file]

    def _pointer(self, path: YamlPath, reference: str, root: Any, pointer: str) -> Any:
        node = root
        for part in [part.replace("~1", "/").replace("~0", "~") for part in pointer.split("/")[1:]] if pointer else []:
            if isinstance(node, dict) and part in node:
                node = node[part]
            elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
                node = node[int(part)]
            else:
                raise self._error(path + ("$ref",), f"{reference!r} names nothing: there is no {part!r} there",
                                  "a local $ref is a JSON pointer such as '#/assertionTemplates/name'")
        return node

    def _error(self, path: YamlPath, message: str, hint: str | None = None) -> ConfigError:
        return self.doc.error(path, message, hint)
