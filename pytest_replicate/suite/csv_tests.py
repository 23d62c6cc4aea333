"""promptfoo's CSV test files: columns are vars, ``__`` columns are special.

As promptfoo 0.123.1 reads them (``testCaseFromCsvRow`` and ``assertionFromString``):
headers are trimmed; an ``__expected`` cell is trimmed, and so is the value after its
``type:``; some types get a default threshold when the cell gives none (``levenshtein``
0.75, ``similar`` 0.8). Var cells are kept exactly.

Unlike a lenient CSV reader, nothing is dropped silently: a row with more (or fewer)
cells than the header, a quote that is never closed, two columns with the same header
and a file without rows are errors naming the file, the line and the column.
"""

from __future__ import annotations

import csv
import io
import math
import re
from pathlib import Path
from typing import Any

from ..assertions.registry import ASSERTION_TYPES, WHY_UNSUPPORTED
from ..errors import ConfigError, YamlPath, format_path
from .source import Document, read_file

_EXPECTED = re.compile(
    r"^(?P<type>(?:not-)?[a-z][a-z0-9-]*)(?:\((?P<threshold>\d+(?:\.\d+)?)\))?(?::(?P<value>.*))?$", re.DOTALL
)

# promptfoo gives these a threshold when a CSV cell has none (0.8 for similar, else 0.75).
_DEFAULT_THRESHOLDS = {
    **dict.fromkeys(
        ("answer-relevance", "classifier", "context-faithfulness", "context-recall", "context-relevance",
         "cost", "latency", "levenshtein", "perplexity-score", "perplexity", "rouge-n", "starts-with"),
        0.75,
    ),
    "similar": 0.8,
}

_SPECIAL_HINT = ("special columns are __expected, __expectedN, __description, __threshold, __metric, __providerOutput, "
                 "__metadata:KEY, __metadata:KEY[] (a list), __config:__expectedN:threshold, __prefix, __suffix")
_CONFIG_COLUMN = re.compile(r"^__config:__expected(?P<index>\d*):(?P<key>[^:]*)$")


def assertion_from_string(text: str) -> dict[str, Any]:
    """promptfoo's CSV syntax: ``contains: foo``, ``not-regex: ^x``, ``levenshtein(3): bar``.

    Text that does not start with a known type is an ``equals`` check, as in promptfoo; a
    promptfoo type we lack (``llm-rubric: ...``) is kept, so it is reported, not compared.
    """
    text = text.strip()
    for prefix, kind in (("javascript:", "javascript"), ("fn:", "javascript"), ("eval:", "javascript"),
                         ("grade:", "llm-rubric"), ("llm-rubric:", "llm-rubric"), ("python:", "python")):
        if text.startswith(prefix):
            return {"type": kind, "value": text[len(prefix):].strip()}
    if text.startswith("file://"):
        target = text[len("file://"):]
        if target.endswith(".py") or ".py:" in target:
            return {"type": "python", "value": target.strip()}
        if re.search(r"\.(js|cjs|mjs|ts|cts|mts)$", target):  # file://x.js:fn is an equals value, as in promptfoo
            return {"type": "javascript", "value": text}  # promptfoo keeps file:// here (not for .py)
    match = _EXPECTED.match(text)
    if match:
        kind = match.group("type")
        base = kind[4:] if kind.startswith("not-") else kind
        value = match.group("value")
        value = value.strip() if value is not None else None
        if base in WHY_UNSUPPORTED:
            return {"type": kind, "value": value}
        known = ASSERTION_TYPES.get(base)
        if known is not None and (value is not None or not known.needs_value):
            result: dict[str, Any] = {"type": kind}
            if value:
                result["value"] = [v.strip() for v in value.split(",")] if known.list_value else value
            if match.group("threshold"):
                result["threshold"] = float(match.group("threshold"))
            elif base in _DEFAULT_THRESHOLDS:
                result["threshold"] = _DEFAULT_THRESHOLDS[base]
            return result
    return {"type": "equals", "value": text}


class _CsvPlaces:
    """Turns a test's path (``(2, "assert", 1)``) into the CSV row and column it came from."""

    def __init__(self) -> None:
        self.row_lines: list[int] = []
        self.assert_columns: list[list[str]] = []

    def __call__(self, path: YamlPath) -> tuple[int | None, str]:
        if not path or not isinstance(path[0], int) or path[0] >= len(self.row_lines):
            return None, ""
        row, rest = path[0], path[1:]
        place = f"row {row + 1}"
        column = None
        if rest[:1] == ("assert",) and len(rest) > 1 and isinstance(rest[1], int) and rest[1] < len(self.assert_columns[row]):
            column, rest = self.assert_columns[row][rest[1]], rest[2:]
        elif rest[:1] == ("vars",) and len(rest) > 1:
            column, rest = str(rest[1]), rest[2:]
        elif rest[:1] in (("threshold",), ("description",)):
            column, rest = f"__{rest[0]}", rest[1:]
        if column is not None:
            place += f", column {column!r}"
        elif rest:
            place += f", {format_path(rest)}"
        return self.row_lines[row], place


def _error(file: Path, line: int | None, message: str, hint: str | None = None) -> ConfigError:
    return ConfigError(message, file=file, line=line, hint=hint)


def load_csv_tests(file: Path) -> Document:
    """Turn a promptfoo test CSV into test dicts: columns are vars, ``__`` columns are special."""
    text = read_file(file).removeprefix("\ufeff")  # Excel writes a byte-order mark
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    places = _CsvPlaces()
    tests: list[dict[str, Any]] = []
    header: list[str] | None = None
    start = 1
    try:
        for cells in reader:
            line, start = start, reader.line_num + 1  # the row began where the last one ended
            if not cells:  # a blank line
                continue
            if header is None:
                header = _header(file, line, cells)
                continue
            if len(cells) != len(header):
                _wrong_length(file, line, header, cells)
            places.row_lines.append(line)
            tests.append(_test_from_row(file, line, header, cells, places))
    except csv.Error as error:
        if "end of data" in str(error) or "EOF" in str(error):
            raise _error(file, start, f"a quoted cell that starts on line {start} is never closed; "
                         "the rest of the file would be read into it",
                         'close the quote; write a quote inside a quoted cell as two: ""') from None
        raise _error(file, reader.line_num, f"invalid CSV: {error}",
                     'quote a cell that holds commas, quotes or line breaks: "a, ""b"""') from None
    if header is None:
        raise _error(file, None, "the CSV file is empty", "the first line names the columns (vars and __expected...), "
                     "each further line is a test")
    if not tests:
        raise _error(file, 1, "the CSV file has a header but no rows: it defines no tests",
                     "add one line per test below the header")
    return Document(file=file, data=tests, place=places)


def _header(file: Path, line: int, cells: list[str]) -> list[str]:
    header = [cell.strip() for cell in cells]  # promptfoo trims headers
    seen: dict[str, int] = {}
    for index, name in enumerate(header, 1):
        if not name:
            raise _error(file, line, f"column {index} has no header", "name every column, or delete the empty one")
        if name in seen:
            raise _error(file, line, f"columns {seen[name]} and {index} are both named {name!r}; "
                         "the second would hide the first", "give each column its own name (__expected1, __expected2...)")
        seen[name] = index
        if name.startswith("__") and not _special(name):
            raise _error(file, line, f"unknown special column {name!r}", _SPECIAL_HINT)
        if name.startswith("__metadata:") and not name.partition(":")[2].strip():
            raise _error(file, line, f"column {index} ({name!r}) names no metadata key",
                         "write the key after the colon: __metadata:KEY")
    return header


def _special(name: str) -> bool:
    return (name.startswith("__expected") or name.startswith("__metadata") or name.startswith("__config:")
            or name in ("__description", "__threshold", "__metric", "__providerOutput", "__prefix", "__suffix"))


def _wrong_length(file: Path, line: int, header: list[str], cells: list[str]) -> None:
    if len(cells) > len(header):
        extra = ", ".join(repr(cell) for cell in cells[len(header):] if cell) or "empty cells"
        raise _error(file, line, f"this row has {len(cells)} cells but the header names {len(header)} columns; "
                     f"the extra cells ({extra}) belong to no column",
                     'quote a cell that holds a comma: "a, b"; or add a header for the extra column')
    raise _error(file, line, f"this row has {len(cells)} cells but the header names {len(header)} columns "
                 f"(no cell for {', '.join(map(repr, header[len(cells):]))})",
                 "add the missing cells, empty if need be (a,b,)")


def _test_from_row(file: Path, line: int, header: list[str], cells: list[str], places: _CsvPlaces) -> dict[str, Any]:
    test: dict[str, Any] = {"vars": {}, "assert": [], "metadata": {}}
    columns: list[str] = []
    configs: dict[int, float] = {}  # index among the row's assertions -> threshold
    metric: str | None = None
    for column, cell in zip(header, cells, strict=True):
        if column.startswith("__expected"):
            if cell.strip():
                test["assert"].append(assertion_from_string(cell))
                columns.append(column)
        elif column == "__description":
            test["description"] = cell
        elif column == "__threshold":
            if cell.strip():
                threshold = _number(cell)
                if threshold is None or threshold < 0:  # below 0, every result would pass
                    raise _error(file, line, f"row {len(places.row_lines)}, column '__threshold': "
                                 f"must be a number of 0 or more, got {cell!r}")
                test["threshold"] = threshold
        elif column.startswith("__metadata"):
            key = column.partition(":")[2] or "metadata"
            if key.endswith("[]"):  # promptfoo: a list, split on commas not escaped as \\,
                if cell.strip():
                    test["metadata"][key[:-2]] = [item.strip().replace("\\,", ",")
                                                  for item in re.split(r"(?<!\\),", cell)]
            elif cell.strip():  # promptfoo keeps no empty metadata value
                test["metadata"][key] = cell
        elif column.startswith("__config:"):
            configs[_config_index(file, line, column)] = _config_number(file, line, column, cell)
        elif column == "__metric":
            metric = cell
        elif column == "__providerOutput":
            if cell:
                test["providerOutput"] = cell
        elif column in ("__prefix", "__suffix"):
            test.setdefault("options", {})[column[2:]] = cell
        else:
            test["vars"][column] = cell
    for assertion in test["assert"]:  # as promptfoo: __metric names every assertion's metric
        if metric is not None:
            assertion["metric"] = metric
    # promptfoo counts __config:__expectedN among the row's assertions (empty cells skipped), and
    # copies the threshold into the test's metadata.
    for index, threshold in sorted(configs.items()):
        if index < len(test["assert"]):
            test["assert"][index]["threshold"] = threshold
            test["metadata"]["threshold"] = threshold
    places.assert_columns.append(columns)
    return test


def _config_index(file: Path, line: int, column: str) -> int:
    """The assertion a ``__config:__expectedN:threshold`` column sets (``__expected`` is the first)."""
    match = _CONFIG_COLUMN.match(column)
    if match is None or match.group("key") != "threshold" or match.group("index") == "0":
        raise _error(file, line, f"column {column!r}: a __config column sets one assertion's threshold",
                     "write __config:__expected:threshold or __config:__expectedN:threshold (N from 1)")
    return int(match.group("index") or 1) - 1


def _config_number(file: Path, line: int, column: str, cell: str) -> float:
    number = _number(cell)
    if number is None or number < 0:
        raise _error(file, line, f"column {column!r}: a threshold must be a number of 0 or more, got {cell!r}")
    return number


def _number(cell: str) -> float | None:
    """A finite number, or None (``nan`` and ``inf`` parse as floats but are no threshold)."""
    try:
        value = float(cell)
    except ValueError:
        return None
    return value if math.isfinite(value) else None
