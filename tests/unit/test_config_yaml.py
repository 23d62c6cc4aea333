"""YAML as promptfoo reads it (js-yaml, YAML 1.2 core schema), and YAML that must be refused."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from pytest_replicate.errors import ConfigError
from pytest_replicate.suite.source import load_yaml


def load(tmp_path: Path, text: str):
    file = tmp_path / "suite.yaml"
    file.write_text(text, encoding="utf-8")
    return load_yaml(file).data


def refused(tmp_path: Path, text: str) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        load(tmp_path, text)
    return info.value


# Each value as js-yaml 5.4.1 (promptfoo 0.123.1's YAML_LOAD_SCHEMA) loads it.
JS_YAML = {
    "yes": "yes", "no": "no", "on": "on", "off": "off", "NO": "NO", "Yes": "Yes", "y": "y",
    "true": True, "True": True, "TRUE": True, "false": False, "tRUE": "tRUE",
    "~": None, "null": None, "Null": None, "NULL": None, "nULL": "nULL", "": None,
    "010": 10, "08": 8, "00": 0, "-0": 0, "+12": 12, "0o10": 8, "0O7": "0O7", "-0o7": "-0o7",
    "0x1F": 31, "0X1f": "0X1f", "+0x1f": "+0x1f", "0x_1F": "0x_1F", "0b101": "0b101",
    "1_000": "1_000", "1,000": "1,000", "12:30": "12:30", "12:30:45": "12:30:45",
    "1e3": 1000, "1E3": 1000, "1.0e+3": 1000, ".5": 0.5, "+.5": 0.5, "1.": 1, "1.5": 1.5,
    "2024-01-02": "2024-01-02", "2001-12-14t21:59:43.10-05:00": "2001-12-14t21:59:43.10-05:00",
    "=": "=", "<<": "<<",
}


@pytest.mark.parametrize("scalar", list(JS_YAML))
def test_plain_scalars_resolve_as_in_yaml_1_2(tmp_path, scalar):
    value = load(tmp_path, f"key: {scalar}\n")["key"]
    assert value == JS_YAML[scalar] and type(value) is type(JS_YAML[scalar])


def test_infinity_and_nan(tmp_path):
    data = load(tmp_path, "a: .inf\nb: -.INF\nc: .NaN\n")
    assert data["a"] == math.inf and data["b"] == -math.inf and math.isnan(data["c"])


def test_yaml_1_1_booleans_as_keys_stay_strings(tmp_path):
    assert load(tmp_path, "on: 1\nyes: 2\n") == {"on": 1, "yes": 2}


def test_merge_keys_still_work_and_own_keys_win(tmp_path):
    data = load(tmp_path, "base: &b {x: 1, y: 2}\nt:\n  <<: *b\n  x: 3\n")
    assert data["t"] == {"x": 3, "y": 2}


def test_quoted_and_explicitly_tagged_scalars(tmp_path):
    data = load(tmp_path, "a: '010'\nb: !!str yes\nc: !!int '7'\nd: !!timestamp 2024-01-02\n")
    assert data == {"a": "010", "b": "yes", "c": 7, "d": "2024-01-02"}


def test_duplicate_key_names_both_lines(tmp_path):
    error = refused(tmp_path, "prompts: [a]\ntests:\n  - vars: {x: 1}\nproviders: [echo]\ntests:\n  - vars: {x: 2}\n")
    assert error.line == 5
    assert "duplicate key 'tests': first on line 2, again on line 5" in str(error)


def test_duplicate_key_beside_a_merge(tmp_path):
    error = refused(tmp_path, "t:\n  <<: {x: 1}\n  x: 3\n  x: 4\n")
    assert "duplicate key 'x': first on line 3, again on line 4" in str(error)


def test_alias_bomb_is_refused_before_it_grows(tmp_path):
    lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]']
    for previous, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{previous}"] * 9) + "]")
    error = refused(tmp_path, "\n".join(lines) + "\n")
    assert "aliases would expand this document from" in error.message
    assert "&h on line 8, aliased 9 times" in error.message
    assert error.line == 8


def test_moderate_alias_reuse_is_fine(tmp_path):
    text = "common: &c [{type: contains, value: x}]\ntests:\n" + "".join(
        f"  - {{vars: {{n: '{i}'}}, assert: *c}}\n" for i in range(500)
    )
    data = load(tmp_path, text)
    assert data["tests"][499]["assert"] is data["common"]


@pytest.mark.parametrize("text, line", [("a: &a [*a]\n", 1), ("x: 1\nb: &anchor\n  c: *anchor\n", 3)])
def test_recursive_alias_is_refused_at_the_alias(tmp_path, text, line):
    error = refused(tmp_path, text)
    name = text[text.index("&") + 1 :].split()[0].rstrip("[")
    assert error.message == f"recursive alias: *{name} on line {line} refers to the node &{name} that contains it"
    assert error.line == line


def test_unknown_alias_and_second_document(tmp_path):
    assert "the alias *nope names no anchor" in refused(tmp_path, "a: *nope\n").message
    error = refused(tmp_path, "a: 1\n---\nb: 2\n")
    assert error.line == 2 and "expected one document" in error.message


def test_explicit_collection_tags_are_refused_not_misread(tmp_path):
    assert "the YAML tag tag:yaml.org,2002:set is not supported" in refused(tmp_path, "s: !!set {a, b}\n").message


def test_nul_byte_has_a_line_and_column(tmp_path):
    error = refused(tmp_path, "a: 1\nb: é\n c\x00d\n")
    assert error.line == 3
    assert "column 3: a NUL byte is not allowed" in error.message


def test_a_directory_is_not_called_missing(tmp_path):
    (tmp_path / "suite.yaml").mkdir()
    with pytest.raises(ConfigError, match="is a directory"):
        load_yaml(tmp_path / "suite.yaml")


def test_lines_of_aliased_nodes_point_at_the_alias_key(tmp_path):
    file = tmp_path / "suite.yaml"
    file.write_text("c: &c\n  - {type: contains}\ntests:\n  - vars: {}\n    assert: *c\n")
    doc = load_yaml(file)
    assert doc.line_of(("tests", 0, "assert", 0, "type")) == 5
    assert doc.line_of(("c", 0, "type")) == 2
