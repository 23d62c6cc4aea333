"""The empty mapping that tests and assertions without options, metadata or config share."""

from __future__ import annotations

import copy
import json
import pickle

import pytest

from pytest_replicate.empty import EMPTY


def test_it_behaves_as_an_empty_dict_when_read():
    assert EMPTY == {} and not EMPTY and isinstance(EMPTY, dict)
    assert json.dumps(EMPTY) == "{}" and repr(EMPTY) == "{}"
    assert {**EMPTY, "a": 1} == {"a": 1} and EMPTY | {"a": 1} == {"a": 1}


@pytest.mark.parametrize("change", [
    lambda m: m.__setitem__("a", 1), lambda m: m.update(a=1), lambda m: m.setdefault("a", 1),
    lambda m: m.pop("a", None), lambda m: m.clear(), lambda m: m.__delitem__("a"), lambda m: m.popitem(),
])
def test_it_refuses_changes_so_no_test_changes_another(change):
    with pytest.raises(TypeError, match="shared by many tests"):
        change(EMPTY)
    assert EMPTY == {}


@pytest.mark.parametrize("copied", [dict, copy.copy, copy.deepcopy, lambda m: m.copy(),
                                    lambda m: pickle.loads(pickle.dumps(m))])
def test_a_copy_is_a_plain_dict_that_can_change(copied):
    mapping = copied(EMPTY)
    mapping["a"] = 1
    assert type(mapping) is dict and EMPTY == {}


def test_tests_without_options_metadata_or_config_share_it(tmp_path):
    from pytest_replicate.suite.loader import load_eval_file

    (tmp_path / "suite.eval.yaml").write_text(
        "prompts: [p]\nproviders: [echo]\ntests:\n"
        "  - assert: [{type: contains, value: a}]\n"
        "  - options: {}\n    metadata: {}\n    assert: [{type: contains, value: b, config: {}}]\n"
        "  - metadata: {team: x}\n    assert: [{type: contains, value: c, config: {k: 1}}]\n")
    first, second, third = load_eval_file(tmp_path / "suite.eval.yaml").tests
    assert first.options is EMPTY and first.metadata is EMPTY and first.asserts[0].config is EMPTY
    assert second.options is EMPTY and second.metadata is EMPTY and second.asserts[0].config is EMPTY
    assert third.metadata == {"team": "x"} and third.asserts[0].config == {"k": 1}
    assert (first.location, second.location, third.location) == ("suite.eval.yaml:4", "suite.eval.yaml:5", "suite.eval.yaml:8")
