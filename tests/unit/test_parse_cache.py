"""Parsed eval files kept between runs: used only for the same text, ignored when unreadable,
and never a reason for a different message."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from pytest_replicate.errors import ConfigError
from pytest_replicate.redaction import Redactor
from pytest_replicate.suite import parse_cache, source
from pytest_replicate.suite.loader import load_eval_file
from pytest_replicate.suite.parse_cache import ParseCache
from pytest_replicate.suite.source import load_yaml

SUITE = """\
prompts: ["Hi {{ name }}"]
providers: [echo]
tests:
  - vars: {name: Ada, count: 010, ratio: .5, flag: true, none: ~, text: "2024-01-02", big: 1e400, small: -.inf}
    assert: [&shared {type: contains, value: Ada}, *shared]
  - vars: {name: Bob}
    assert: [*shared, {type: icontains, value: bob}]
"""


@pytest.fixture
def cache(tmp_path: Path) -> ParseCache:
    return ParseCache(tmp_path / "cache", Redactor())


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The files actually parsed (not read from the cache)."""
    parsed: list[Path] = []
    real = source._load_yaml

    def spy(file: Path, text: str) -> source.Document:
        parsed.append(file)
        return real(file, text)

    monkeypatch.setattr(source, "_load_yaml", spy)
    return parsed


def write(tmp_path: Path, text: str, name: str = "suite.eval.yaml") -> Path:
    file = tmp_path / name
    file.write_text(text, encoding="utf-8")
    return file


def test_a_second_load_reads_what_the_first_parsed(tmp_path, cache, parses):
    file = write(tmp_path, SUITE)
    first = load_yaml(file, cache)
    second = load_yaml(file, cache)
    assert parses == [file]
    assert second.text == first.text and second.lines == first.lines
    assert second.data == first.data == load_yaml(file).data
    assert second.data["tests"][0]["vars"] == {"name": "Ada", "count": 10, "ratio": 0.5, "flag": True, "none": None,
                                               "text": "2024-01-02", "big": math.inf, "small": -math.inf}


def test_shared_nodes_stay_shared(tmp_path, cache):
    file = write(tmp_path, SUITE)
    load_yaml(file, cache)
    data = load_yaml(file, cache).data
    first, second = data["tests"][0]["assert"]
    assert first is second is data["tests"][1]["assert"][0]  # an alias is the same object, as when parsed


def test_a_changed_file_is_parsed_again(tmp_path, cache, parses):
    file = write(tmp_path, SUITE)
    load_yaml(file, cache)
    write(tmp_path, SUITE.replace("Bob", "Eve"))
    assert load_yaml(file, cache).data["tests"][1]["vars"] == {"name": "Eve"}
    assert load_yaml(file, cache).data["tests"][1]["vars"] == {"name": "Eve"}
    assert parses == [file, file]  # the second change was read back: one entry per file, replaced


def test_another_parser_version_is_not_used(tmp_path, cache, parses, monkeypatch):
    file = write(tmp_path, SUITE)
    load_yaml(file, cache)
    monkeypatch.setattr(parse_cache, "_parser_version", lambda: "another version")
    load_yaml(file, cache)
    assert parses == [file, file]


@pytest.mark.parametrize("damage", [
    lambda blob: b"",
    lambda blob: blob[:-10],  # cut short
    lambda blob: blob[:-10] + b"0123456789",  # changed
    lambda blob: b"not a cache entry at all",
    lambda blob: blob[:len(parse_cache._MAGIC) + 64] + b"\xff" * 40,  # a payload marshal cannot read
])
def test_an_unreadable_entry_is_ignored(tmp_path, cache, parses, damage):
    file = write(tmp_path, SUITE)
    expected = load_yaml(file, cache).data["tests"][1]
    (entry,) = cache.folder.iterdir()
    entry.write_bytes(damage(entry.read_bytes()))
    assert load_yaml(file, cache).data["tests"][1] == expected
    assert parses == [file, file]
    assert load_yaml(file, cache).data["tests"][1] == expected  # and written anew
    assert parses == [file, file]


def test_an_entry_that_cannot_be_written_leaves_the_file_parsed(tmp_path, parses):
    (tmp_path / "cache").write_text("a file where the folder should be")
    file = write(tmp_path, SUITE)
    cache = ParseCache(tmp_path / "cache", Redactor())
    assert load_yaml(file, cache).data == load_yaml(file, cache).data == load_yaml(file).data
    assert parses == [file, file, file]


def _message(load) -> str:
    with pytest.raises(ConfigError) as info:
        load()
    return str(info.value)


@pytest.mark.parametrize("text", [
    SUITE + "  - vars: {name: Cy}\n    assert: [{type: no-such-check, value: x}]\n",  # a schema error, by line
    SUITE.replace("[*shared, {type: icontains", "[{type: contains, value: Ada, threshold: high}, {type: icontains"),  # deep path
    SUITE + "  - vars: {name: Cy}\n    assert: [{type: equals, value: [1, {a: [2, {b: '{{ x'}]}]}]\n",
    SUITE.replace("providers: [echo]", "providers: [{id: echo, config: {max_concurrency: 0}}]"),
    SUITE.replace("tests:", "tests:\n  - file://missing.yaml"),
])
def test_errors_are_the_same_from_the_cache(tmp_path, cache, parses, text):
    def problems(cache: ParseCache | None) -> list[str]:
        """The file's error, or each test's (a test's own problem fails its cases only)."""
        try:
            suite = load_eval_file(file, cache)
        except ConfigError as error:
            return [str(error)]
        return [str(test.problem) for test in suite.tests if test.problem is not None]

    file = write(tmp_path, text)
    without = problems(None)
    assert len(without) == 1 and ".eval.yaml:" in without[0]  # named by file and line
    assert problems(cache) == problems(cache) == without
    assert parses == [file, file]  # the third load read the cache


@pytest.mark.parametrize("text", ["a: [unclosed\n", "a: 1\na: 2\n", "a: *nowhere\n"])
def test_a_file_that_does_not_parse_is_not_kept(tmp_path, cache, text):
    file = write(tmp_path, text)
    first = _message(lambda: load_yaml(file, cache))
    assert _message(lambda: load_yaml(file, cache)) == first == _message(lambda: load_yaml(file))
    assert not cache.folder.exists() or not any(cache.folder.iterdir())


def test_suites_are_the_same_from_the_cache(tmp_path, cache):
    file = write(tmp_path, SUITE)
    assert len(load_eval_file(file).tests) == 2  # the suite loads
    without = load_eval_file(file)
    load_eval_file(file, cache)
    cached = load_eval_file(file, cache)
    assert cached.tests == without.tests


@pytest.mark.parametrize("secret", ["r8_" + "Ab1" * 10, "known-secret-value",
                                    '"r8\\u005f' + "Ab1" * 10 + '"',  # a token spelled with a YAML escape
                                    '"known\\x2dsecret-value"'])
def test_a_file_holding_a_secret_is_never_kept(tmp_path, parses, secret):
    """Text shaped like a token, or a secret the session knows: CI often keeps the cache folder."""
    cache = ParseCache(tmp_path / "cache", Redactor(["known-secret-value"]))
    file = write(tmp_path, SUITE.replace("name: Bob", f"name: {secret}"))
    assert load_yaml(file, cache).data == load_yaml(file, cache).data == load_yaml(file).data
    assert parses == [file, file, file]
    assert not cache.folder.exists() or not any(cache.folder.iterdir())


def test_an_entry_made_before_its_secret_was_known_is_deleted(tmp_path, parses):
    file = write(tmp_path, SUITE.replace("name: Bob", "name: later-known"))
    load_yaml(file, ParseCache(tmp_path / "cache", Redactor()))
    assert len(list((tmp_path / "cache").iterdir())) == 1
    load_yaml(file, ParseCache(tmp_path / "cache", Redactor(["later-known"])))
    assert not any((tmp_path / "cache").iterdir())
    assert parses == [file, file]
