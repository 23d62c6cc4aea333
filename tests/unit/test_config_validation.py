"""The fast path of schema validation never accepts a test the schema rejects."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import pytest

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
    assert [error.path for error in validation.problems(doc)] == [("tests", 5, "asert")]
    assert [error.path for error in validation.problems(Document(Path("t.yaml"), tests), "testList")] == [(5, "asert")]


def test_every_problem_is_found_once():
    doc = Document(Path("suite.yaml"), {
        "promts": ["p"], "providrs": ["echo"], "providers": [{"id": "echo", "bad": 1}, 5],
        "tests": [{"vars": {}}, {"vars": 3, "asert": 1},
                  {"assert": [{"type": "x", "weight": "h"}, {"value": 1}]}, "x.yaml"]})
    found = [(error.location, error.message) for error in validation.problems(doc)]
    assert found == [
        ("promts", "unknown key 'promts'"),  # and not "missing required key 'prompts'" too
        ("providrs", "unknown key 'providrs'"),
        ("providers[0].bad", "unknown key 'bad'"),
        ("providers[1]", "expected a string or a mapping, got 5"),
        ("tests[1].asert", "unknown key 'asert'"),
        ("tests[1].vars", "expected a string or a list or a mapping, got 3"),
        ("tests[2].assert[0].weight", "expected a number, got 'h'"),
        ("tests[2].assert[1]", "an assertion needs a 'type' (got 'value' as a key)"),
    ]
