"""promptfoo's CSV test files: columns are vars, ``__expected`` columns hold assertions."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any

from ..assertions.registry import ASSERTION_TYPES, PROMPTFOO_ONLY_TYPES
from ..errors import ConfigError
from .source import Document, YamlPath, read_file

_EXPECTED = re.compile(r"^(?P<type>(?:not-)?[a-z][a-z0-9-]*)(?:\((?P<threshold>[\d.]+)\))?(?::\s?(?P<value>.*))?$", re.DOTALL)


def assertion_from_string(text: str) -> dict[str, Any]:
    """promptfoo's CSV syntax: ``contains: foo``, ``not-regex: ^x``, ``levenshtein(3): bar``.

    Text that does not start with a known type is an ``equals`` check, as in promptfoo; a
    promptfoo type we lack (``llm-rubric: ...``) is kept, so it is reported, not compared.
    """
    match = _EXPECTED.match(text.strip())
    if match:
        kind = match.group("type")
        base = kind[4:] if kind.startswith("not-") else kind
        value = match.group("value")
        if base in PROMPTFOO_ONLY_TYPES:
            return {"type": kind, "value": value}
        known = ASSERTION_TYPES.get(base)
        if known is not None and (value is not None or not known.needs_value):
            result: dict[str, Any] = {"type": kind}
            if value is not None and value.strip():
                result["value"] = [v.strip() for v in value.split(",")] if known.list_value else value
            if match.group("threshold"):
                result["threshold"] = float(match.group("threshold"))
            return result
    return {"type": "equals", "value": text}


def load_csv_tests(file: Path) -> Document:
    """Turn a promptfoo test CSV into test dicts: columns are vars, ``__`` columns are special."""
    text = read_file(file).removeprefix("\ufeff")  # Excel writes a byte-order mark
    reader = csv.DictReader(io.StringIO(text, newline=""))
    tests: list[dict[str, Any]] = []
    lines: dict[YamlPath, int] = {}
    try:
        for row in reader:
            test: dict[str, Any] = {"vars": {}, "assert": [], "metadata": {}}
            for column, cell in row.items():
                if column is None or cell is None:
                    continue
                if column.startswith("__expected"):
                    if cell.strip():
                        test["assert"].append(assertion_from_string(cell))
                elif column == "__description":
                    test["description"] = cell
                elif column == "__threshold":
                    if cell.strip():
                        try:
                            test["threshold"] = float(cell)
                        except ValueError:
                            raise ConfigError(f"__threshold must be a number, got {cell!r}", file=file,
                                              line=reader.line_num) from None
                elif column.startswith("__metadata"):
                    key = column.partition(":")[2] or "metadata"
                    test["metadata"][key] = cell
                elif column in ("__prefix", "__suffix"):
                    test.setdefault("options", {})[column[2:]] = cell
                elif column.startswith("__"):
                    raise ConfigError(f"unknown special column {column!r}", file=file, line=1,
                                      hint="special columns are __expected, __expectedN, __description, __threshold, __metadata:KEY, __prefix, __suffix")
                else:
                    test["vars"][column] = cell
            lines[(len(tests),)] = reader.line_num
            tests.append(test)
    except csv.Error as error:
        raise ConfigError(f"invalid CSV: {error}", file=file, line=reader.line_num) from None
    return Document(file=file, data=tests, lines=lines)
