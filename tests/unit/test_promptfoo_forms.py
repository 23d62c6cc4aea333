"""Loading and expanding promptfoo's forms: prompt config, test-level provider and filters, scenarios, $ref, derived metrics."""

from __future__ import annotations

import textwrap

import pytest

from pytest_replicate.errors import ConfigError
from pytest_replicate.suite.derived import ExpressionError, derived_metrics, evaluate
from pytest_replicate.suite.expand import expand
from pytest_replicate.suite.loader import load_eval_file


def _cases(tmp_path, text: str):
    file = tmp_path / "suite.eval.yaml"
    file.write_text(textwrap.dedent(text), encoding="utf-8")
    return expand(load_eval_file(file))


def test_prompt_config_is_merged_over_the_providers(tmp_path):
    cases = _cases(tmp_path, """
        prompts:
          - {raw: "plain", label: plain}
          - {raw: "tuned", label: tuned, config: {temperature: 0}}
        providers: [{id: echo, config: {temperature: 1, top_p: 0.5}}]
        """)
    configs = {case.prompt.label: dict(case.provider.config) for case in cases}
    assert configs == {"plain": {"temperature": 1, "top_p": 0.5}, "tuned": {"temperature": 0, "top_p": 0.5}}


def test_test_level_provider_and_filters(tmp_path):
    cases = _cases(tmp_path, """
        prompts: [{raw: a, label: short}, {raw: b, label: long one}]
        providers: [{id: echo, label: first}, {id: echo, label: second}]
        tests:
          - description: only
            providers: [sec*]
            prompts: [long one]
          - description: own
            provider: {id: echo, config: {temperature: 0}}
            prompts: [short]
        """)
    assert [(c.label, c.prompt.label, c.provider.label) for c in cases] == [
        ("only", "long one", "second"), ("own", "short", "first"), ("own", "short", "second")]
    assert dict(cases[1].provider.config) == {"temperature": 0}


def test_scenarios_cross_config_with_tests(tmp_path):
    cases = _cases(tmp_path, """
        prompts: ["{{ a }}-{{ b }}"]
        providers: [echo]
        scenarios:
          - config: [{vars: {a: 1}}, {vars: {a: 2}, assert: [{type: contains, value: "2"}]}]
            tests:
              - vars: {b: x}
              - vars: {b: y}
                assert: [{type: contains, value: "y"}]
        """)
    assert [(c.vars["a"], c.vars["b"], [s.value for s in c.test.asserts]) for c in cases] == [
        (1, "x", []), (1, "y", ["y"]), (2, "x", ["2"]), (2, "y", ["2", "y"])]


def test_refs_name_assertion_templates(tmp_path):
    cases = _cases(tmp_path, """
        assertionTemplates:
          short: {type: contains, value: "h"}
        prompts: [hi]
        providers: [echo]
        tests:
          - assert: [{$ref: "#/assertionTemplates/short", metric: brevity}]
        """)
    (spec,) = cases[0].test.asserts
    assert (spec.type, spec.metric, spec.value) == ("contains", "brevity", "h")


def test_a_ref_to_nothing_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match="names nothing"):
        _cases(tmp_path, """
            prompts: [hi]
            providers: [echo]
            tests: [{assert: [{$ref: "#/assertionTemplates/none"}]}]
            """)


def test_derived_metric_expressions():
    assert evaluate("2 * p * r / (p + r)", {"p": 0.5, "r": 1.0}) == pytest.approx(2 / 3)
    assert evaluate("max(a, b) ^ 2", {"a": 1, "b": 3}) == 9
    for bad in ("__import__('os')", "a.b", "a if b else c", "'x'", "1 / 0", "unknown + 1"):
        with pytest.raises(ExpressionError):
            evaluate(bad, {"a": 1, "b": 2})
    assert derived_metrics([("rate", "hits / __count"), ("twice", "rate * 2")], [{"hits": 1}, {"hits": 0}]) == {
        "rate": 0.5, "twice": 1.0}


def test_a_bad_derived_metric_is_a_file_error(tmp_path):
    with pytest.raises(ConfigError, match="derived metric"):
        _cases(tmp_path, """
            prompts: [hi]
            providers: [echo]
            derivedMetrics: [{name: x, value: "a.b"}]
            """)


def test_a_test_provider_without_id_sets_the_columns_provider(tmp_path):
    cases = _cases(tmp_path, """
        prompts: [hi]
        providers: [{id: echo, label: e, config: {a: 1}}]
        tests:
          - provider: {config: {b: 2}}
        """)
    assert (cases[0].provider.id, cases[0].provider.label, dict(cases[0].provider.config)) == ("echo", "e", {"a": 1, "b": 2})


def test_grading_options_provider_without_id_configures_the_default_grader():
    from pytest_replicate.run.graders import SessionGraders

    made = []

    def providers(provider_id, *, label=None, config=None, env=None):
        made.append((provider_id, dict(config or {})))
        return object()

    graders = SessionGraders(providers, text_grader="echo", options={"provider": {"config": {"temperature": 0}}})
    graders.grader("text")
    assert made == [("echo", {"temperature": 0})]
