"""The fast path of schema validation never accepts a test the schema rejects."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import pytest

from pytest_replicate.errors import ConfigError
from pytest_replicate.suite import validation
from pytest_replicate.suite.source import Document

TESTS = [
    {}, {"vars": {"q": 1}}, {"vars": "file://v.yaml"}, {"vars": "v.yaml"}, {"vars": None}, {"vars": [1]},
    {"description": None}, {"description": 3}, {"threshold": True}, {"threshold": 0.5}, {"threshold": "1"},
    {"metadata": []}, {"options": {"prefix": "x"}}, {"options": {"prefix": 1}}, {"options": {"provider": "x"}},
    {"assert": [{"type": "contains", "value": "x"}]}, {"assert": [{"type": ""}]}, {"assert": [{"value": 1}]},
    {"assert": [{"type": "contains", "weight": -1}]}, {"assert": [{"type": "contains", "weight": False}]},
    {"assert": [{"type": "assert-set"}]}, {"assert": [{"type": "not-assert-set", "assert": []}]},
    {"assert": [{"type": "x", "metric": 1}]}, {"assert": [{"type": "x", "transform": None}]},
    {"assert": [{"type": "x", "threshold": None}]}, {"assert": {"type": "x"}}, {"assert": ["contains"]},
    {"asert": []}, {"vars": {}, "provider": "echo"}, "file://tests.yaml", None, 3,
]


@pytest.mark.parametrize("test", TESTS, ids=[repr(t)[:40] for t in TESTS])
def test_plain_test_only_vouches_for_what_the_schema_accepts(test):
    schema = {"$ref": "#/$defs/test", "$defs": validation._schema()["$defs"]}
    if validation.plain_test(test):
        jsonschema.validate(test, schema)


def test_fast_path_keys_are_schema_keys():
    defs = validation._schema()["$defs"]
    assert set(defs["test"]["properties"]) >= validation._TEST_KEYS
    assert set(defs["assertion"]["properties"]) >= validation._ASSERTION_KEYS
    assert set(defs["options"]["properties"]) >= validation._OPTION_KEYS


def test_an_error_after_skipped_tests_keeps_its_index():
    tests = [{"vars": {"q": str(n)}} for n in range(5)] + [{"vars": {"q": "x"}, "asert": []}]
    doc = Document(Path("suite.yaml"), {"prompts": ["p"], "providers": ["echo"], "tests": tests})
    with pytest.raises(ConfigError) as info:
        validation.validate(doc)
    assert info.value.path == ("tests", 5, "asert")
    with pytest.raises(ConfigError) as info:
        validation.validate(Document(Path("t.yaml"), tests), "testList")
    assert info.value.path == (5, "asert")
