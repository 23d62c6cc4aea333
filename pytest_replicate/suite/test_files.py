"""Tests kept outside the eval file, in every form promptfoo 0.123.1 reads (``src/util/testCaseReader.ts``).

- ``.yaml``/``.yml``: a list of tests (or one test); ``.json``: the same in JSON; ``.jsonl``:
  one test per line; ``.csv``: one test per row (``csv_tests.py``);
- ``file://gen.py:function`` (default function ``generate_tests``), or ``{path, config}``: a
  test generator, called with the config (or with nothing), returning a list of tests; a
  JavaScript generator goes through the same loader (``transforms.load_file_function``).

Named as the whole of ``tests`` (``tests: file://cases.json``), a JSON, JSONL or CSV file's tests
without a description are called "Row #N", as promptfoo names them; listed or globbed, they are not.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..errors import ConfigError, YamlPath
from ..transforms import load_file_function
from . import refs
from .csv_tests import load_csv_tests
from .source import Document, load_yaml, read_file

GENERATOR_DEFAULT = "generate_tests"
_CODE_SUFFIXES = (".py", ".js", ".cjs", ".mjs", ".ts", ".cts", ".mts")


def is_generator(reference: str) -> bool:
    """Whether a ``tests`` reference names code (``x.py`` or ``x.py:function``) rather than data."""
    target = reference.removeprefix("file://")
    path = target.rsplit(":", 1)[0] if ":" in target.lstrip(":") else target
    return path.lower().endswith(_CODE_SUFFIXES)


def read_tests_file(file: Path, *, whole: bool = False) -> Document:
    """The tests in a data file, as a Document whose data is a list (``whole``: named alone as ``tests``)."""
    suffix = file.suffix.lower()
    if suffix == ".csv":
        return load_csv_tests(file)
    if suffix in (".xlsx", ".xls"):
        raise ConfigError("promptfoo's Excel tests files are not supported: this plugin reads no spreadsheets",
                          file=file, hint="save the sheet as CSV and name the .csv file")
    if suffix == ".jsonl":
        source = _jsonl(file)
    elif suffix == ".json":
        source = _json(file)
    else:
        source = load_yaml(file)
    if suffix != ".jsonl" and refs.mentions_refs(source):  # promptfoo dereferences tests files too
        source.data = refs.dereference(source)
    if isinstance(source.data, dict):
        source.data = [source.data]
        source.lines = {(0,) + path: line for path, line in source.lines.items()}
    if not isinstance(source.data, list):
        raise source.error((), "a tests file must contain a list of tests")
    if whole and suffix in (".json", ".jsonl"):
        for index, test in enumerate(source.data, 1):
            if isinstance(test, dict) and not test.get("description"):
                test["description"] = f"Row #{index}"
    return source


def _json(file: Path) -> Document:
    text = read_file(file)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise ConfigError(f"invalid JSON: {error.msg}", file=file, line=error.lineno) from None
    return Document(file=file, data=data, lines={(): 1})


def _jsonl(file: Path) -> Document:
    tests: list[Any] = []
    lines: dict[YamlPath, int] = {(): 1}
    for number, line in enumerate(read_file(file).split("\n"), 1):
        if not line.strip():
            continue
        try:
            tests.append(json.loads(line))
        except json.JSONDecodeError as error:
            raise ConfigError(f"invalid JSON on this line: {error.msg}", file=file, line=number) from None
        lines[(len(tests) - 1,)] = number
    return Document(file=file, data=tests, lines=lines)


def generated_tests(reference: str, base_dir: Path, config: Any = None) -> Document:
    """The tests a generator returns: ``function(config)``, or ``function()`` without a config."""
    try:
        function = load_file_function(reference, base_dir, GENERATOR_DEFAULT)
    except ValueError as error:
        raise ConfigError(str(error), hint=f"a test generator is file://tests.py:function (default function "
                                           f"{GENERATOR_DEFAULT}), returning a list of tests") from None
    try:
        tests = function(config) if config is not None else function()
    except (Exception, SystemExit) as error:  # the user's code
        raise ConfigError(f"test generator {reference} raised {type(error).__name__}: {error}") from None
    if isinstance(tests, dict):
        tests = [tests]
    if not isinstance(tests, list):
        raise ConfigError(f"test generator {reference} returned {type(tests).__name__}, not a list of tests",
                          hint="return a list of tests such as [{'vars': {...}, 'assert': [...]}]")
    target = reference.removeprefix("file://")
    path = target.rsplit(":", 1)[0] if ":" in target else target
    return Document(file=(base_dir / path).resolve(), data=tests, lines={(): 1})
