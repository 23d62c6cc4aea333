"""The quick cassette reader answers exactly what the YAML loader would, or declines.

Documents are written by the cassette format's own dumper (the only writer the reader is
for) and read by both; odd strings (YAML's booleans and numbers as text, quotes, indicators,
line breaks of every kind, control characters, leading and trailing spaces) must come back
identical, with their types, or make the reader decline.
"""

from __future__ import annotations

import math
import random
from pathlib import Path
from typing import Any

import pytest
import yaml
from vcr.serializers import yamlserializer

from pytest_replicate.cassettes import quick_yaml
from pytest_replicate.cassettes import serializer as cassette_format

ODD = ["", " ", "a b", " lead", "trail ", "a: b", "a:b", "a #b", "#x", "- x", "-", "-5", "5", "0x1F", "0o17", "1_000",
       "1:20", "1.5", ".inf", "-.inf", ".nan", "1e5", "1.0e+5", "+1", "1.", "007", "yes", "No", "on", "OFF", "y", "n",
       "true", "False", "null", "~", "NULL", "2026-12-03", "2026-12-03T20:15:11Z", "<<", "=", "'", "''", "it's",
       '"', 'say "hi"', "{a}", "[b]", "a, b", "a,b", "line1\nline2", "line1\nline2\n", "line1\n\n", "\nlead break",
       "  indented\nx", "x\n  indented", "tab\there", "cr\rhere", "crlf\r\nx", "nel\x85x", "nbsp\xa0x", "\xa0",
       "\u2028", "x\u2029y", "\u3000x", "é", "日本", "emoji 🎉", "ctrl\x07", "bom\ufeff", "---", "...", "--- x",
       "... x", "a\n---\nb", "a\n...\n", "?", "? x", ":", ": x", "&a", "*a", "!a", "|", ">", "%", "@", "`", "a\\b",
       "trailing\n ", "x\n \ny", "x\n   \ny", "a:", "a :b", "key: value: x", "http://x.y/z?q=1#f", "{prediction-1}",
       "{prediction-1.created_at}", "x" * 200, "y " * 100, "0", "00", "Paris.", "The ", "\t", "a\n\tb", "\\n"]
MILD = ["a", "b c", "Paris.", "The ", "x-y", "1", "2.5", "-3", "true", "null", "yes", "{prediction-1}", "it's",
        "http://h/p?q=1", "a:b", "line1\nline2", "l1\nl2\n", "l1\n\n", "x\n\ny", "é日本", "", "0.01", "a\n  b", "'q'"]
SCALARS = [None, True, False, 0, 1, -3, 2.5, 1e20, -0.0, float("inf"), float("-inf"), float("nan"), 0.1, 10**30]


def dump(document: Any) -> str:
    """What the cassette format writes for ``document`` (its dumper and options)."""
    return yaml.dump(document, Dumper=cassette_format._Dumper, sort_keys=True, allow_unicode=True,
                     width=2**31 - 1)


def same(a: Any, b: Any) -> bool:
    """Equal, with equal types all the way down (1 is not True, 1.0 is not 1, NaN is NaN)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[key], b[key]) for key in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    return bool(a == b)


def check(text: str) -> bool:
    """Whether the quick reader answered ``text``; fails if it answered differently."""
    quick = quick_yaml.load(text)
    if quick is None:
        return False
    expected = yamlserializer.deserialize(text)
    assert same(quick, expected), f"quick reader differs on:\n{text}\nquick: {quick!r}\nyaml:  {expected!r}"
    return True


def random_document(rng: random.Random, strings: list[str]) -> dict[str, Any]:
    def string() -> str:
        return rng.choice(strings) if rng.random() < 0.8 else rng.choice(ODD) + rng.choice(strings)

    def value(depth: int) -> Any:
        kind = rng.random()
        if depth > 4 or kind < 0.35:
            return string()
        if kind < 0.45:
            return rng.choice([*SCALARS, [0.1, -2, 3e-5], [1, 2], [], {}])
        if kind < 0.75:
            return {string(): value(depth + 1) for _ in range(rng.randint(0, 4))}
        return [value(depth + 1) for _ in range(rng.randint(0, 4))]

    document: dict[str, Any] = {"interactions": [value(0)], "version": 1}
    if rng.random() < 0.5:
        document["volatile"] = cassette_format._Line({string(): rng.choice([string(), 0.5, 3, None])
                                                      for _ in range(3)})
    return document


@pytest.mark.parametrize("strings", [MILD, ODD], ids=["mild", "odd"])
def test_random_documents_read_as_the_yaml_loader_reads_them(strings: list[str]) -> None:
    rng = random.Random(23)
    answered = sum(check(dump(random_document(rng, strings))) for _ in range(3000))
    assert answered > 300  # the reader's shape covers most of what is written, not a sliver


@pytest.mark.parametrize("text", ODD)
def test_each_odd_string_as_key_value_item_and_flow_value(text: str) -> None:
    for document in ({"k": text}, {text: 1}, {"k": [text, "x"]}, {"k": [{text: text}]}, {"k": {"n": text}},
                     {"v": cassette_format._Line({"a": text, text: 1})}):
        check(dump(document))


@pytest.mark.parametrize("value", SCALARS)
def test_scalars_keep_their_types(value: Any) -> None:
    assert check(dump({"k": value, "l": [value], "f": cassette_format._Line({"x": value})}))


def test_a_recorded_cassette_is_read_quickly(tmp_path: Path) -> None:
    interaction = {
        "request": {"body": '{"input": {"prompt": "Say: \\"hi\\"\\n", "temperature": 0.5}}', "method": "POST",
                    "headers": {"content-type": ["application/json"]}, "uri": "https://api/v1/predictions"},
        "response": {"status": {"code": 201, "message": "Created"},
                     "headers": {"content-type": ["application/json"]},
                     "body": {"string": '{"id": "abc", "status": "succeeded", "output": ["Hel", "lo"], '
                                        '"logs": "a\\nb", "created_at": "2026-01-01T00:00:00Z", '
                                        '"metrics": {"predict_time": 1.5}, "embedding": [0.25, -1, 3e-07]}'}},
    }
    text = cassette_format.serialize({"interactions": [interaction], "version": 1})
    assert check(text)


@pytest.mark.parametrize("text", [
    "a: 1\n  b: 2\n",  # more indented than a mapping's keys
    "a: [1, 2\n",  # an unclosed flow sequence
    "a: !!binary |\n  aGk=\n",  # a tag
    "a: &x 1\nb: *x\n",  # an anchor and an alias
    "a: 1 # note\n",  # a comment
    "a: \"quoted\\n\"\n",  # double quotes
    "a: 'multi\n  line'\n",  # a quoted scalar over two lines
    "a: 1\n\nb: 2\n",  # a blank line between keys
    "a: 2026-12-03\n",  # a timestamp
    "a: |2-\n    x\n",  # an indentation indicator
    "- a\n",  # a document that is a list
])
def test_anything_else_is_left_to_the_yaml_loader(text: str) -> None:
    assert quick_yaml.load(text) is None


def test_a_corrupt_cassette_reads_as_corrupt_as_before() -> None:
    with pytest.raises(yaml.YAMLError):
        cassette_format.deserialize("interactions:\n- request: {body: [\n")
