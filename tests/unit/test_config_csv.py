"""CSV test files as promptfoo 0.123.1 reads them (testCaseFromCsvRow, assertionFromString)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_replicate.errors import ConfigError
from pytest_replicate.suite.csv_tests import assertion_from_string, load_csv_tests


@pytest.mark.parametrize(
    "cell, expected",
    [
        ("  contains:  hel  ", {"type": "contains", "value": "hel"}),
        ("levenshtein: hellp ", {"type": "levenshtein", "value": "hellp", "threshold": 0.75}),
        ("levenshtein(1):hellp", {"type": "levenshtein", "value": "hellp", "threshold": 1.0}),
        ("starts-with:hel", {"type": "starts-with", "value": "hel", "threshold": 0.75}),
        ("not-contains:  x", {"type": "not-contains", "value": "x"}),
        ("python: output == 'x' ", {"type": "python", "value": "output == 'x'"}),
        ("file://check.py:grade", {"type": "python", "value": "check.py:grade"}),
        ("grade: is polite", {"type": "llm-rubric", "value": "is polite"}),
        ("javascript: output.length", {"type": "javascript", "value": "output.length"}),
        ("Paris ", {"type": "equals", "value": "Paris"}),
    ],
)
def test_cells_are_trimmed_and_get_promptfoos_defaults(cell, expected):
    assert assertion_from_string(cell) == expected


def load(tmp_path: Path, text: str):
    file = tmp_path / "tests.csv"
    file.write_text(text, encoding="utf-8")
    return load_csv_tests(file)


def refused(tmp_path: Path, text: str) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        load(tmp_path, text)
    return info.value


def test_headers_are_trimmed_and_var_cells_kept_as_written(tmp_path):
    doc = load(tmp_path, " q ,__expected1, __expected2 \n hello ,levenshtein: hellp ,  contains:  hel  \n")
    assert doc.data[0]["vars"] == {"q": " hello "}
    assert [a["type"] for a in doc.data[0]["assert"]] == ["levenshtein", "contains"]


def test_blank_lines_are_skipped_and_rows_keep_their_lines(tmp_path):
    doc = load(tmp_path, 'q\n\na\n"multi\nline"\nb\n')
    assert [t["vars"]["q"] for t in doc.data] == ["a", "multi\nline", "b"]
    assert [doc.line_of((i,)) for i in range(3)] == [3, 4, 6]


def test_extra_cells_are_an_error(tmp_path):
    error = refused(tmp_path, "q,__expected\nParis, France,contains: Paris\n")
    assert error.line == 2
    assert "3 cells but the header names 2 columns; the extra cells ('contains: Paris')" in error.message


def test_missing_cells_are_an_error(tmp_path):
    error = refused(tmp_path, "q,topic,__expected\na,b,c\nx\n")
    assert error.line == 3 and "no cell for 'topic', '__expected'" in error.message


def test_unclosed_quote_names_where_it_opened(tmp_path):
    error = refused(tmp_path, 'q,__expected\na,contains: a\n"b,contains: b\nc,contains: c\n')
    assert error.line == 3
    assert "a quoted cell that starts on line 3 is never closed" in error.message


def test_duplicate_headers_are_an_error(tmp_path):
    error = refused(tmp_path, "q,__expected,q\na,b,c\n")
    assert error.line == 1 and "columns 1 and 3 are both named 'q'" in error.message


def test_trimmed_headers_that_collide_are_duplicates(tmp_path):
    assert "both named 'q'" in refused(tmp_path, "q, q\na,b\n").message


@pytest.mark.parametrize("text, message", [("", "the CSV file is empty"), ("\n\n", "the CSV file is empty"),
                                           ("q,__expected\n", "has a header but no rows")])
def test_a_csv_without_rows_is_an_error(tmp_path, text, message):
    assert message in refused(tmp_path, text).message


def test_errors_name_row_and_column(tmp_path):
    doc = load(tmp_path, "q,__expected1,__expected2\na,,contains: x\n")
    error = doc.error((0, "assert", 0, "value"), "bad")
    assert error.line == 2 and str(error).endswith(":2: row 1, column '__expected2': bad")


@pytest.mark.parametrize("cell", ["nan", "inf", "-Infinity", "high", "-1"])
def test_a_threshold_must_be_a_finite_number_of_0_or_more(tmp_path, cell):
    error = refused(tmp_path, f"q,__threshold\nhi,{cell}\n")
    assert f"column '__threshold': must be a number of 0 or more, got '{cell}'" in str(error)


@pytest.mark.parametrize("header", ["__metadata:", "__metadata: "])
def test_a_metadata_column_names_its_key(tmp_path, header):
    error = refused(tmp_path, f"q,{header}\nhi,x\n")
    assert error.line == 1 and "names no metadata key" in error.message
    assert error.hint == "write the key after the colon: __metadata:KEY"
