"""Every key promptfoo 0.123.1's config schema knows is read here: implemented, accepted and
ignored where it changes nothing we evaluate, or refused saying "promptfoo's KEY is not supported"
with the reason. None is an "unknown key" (that is for typos).

The key lists are promptfoo's zod schemas as its dist/ defines them (TestSuiteConfigSchema and
UnifiedConfigSchema, TestCaseSchema and its options, AssertionSchema, AssertionSetSchema,
ProviderOptionsSchema, PromptSchema, ScenarioSchema, TestGeneratorConfigSchema,
DerivedMetricSchema).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from pytest_replicate.errors import ConfigError
from pytest_replicate.suite.loader import load_eval_file

TOP_LEVEL = ["tags", "description", "providers", "prompts", "tests", "scenarios", "defaultTest", "outputPath", "sharing", "nunjucksFilters", "env", "derivedMetrics", "extensions", "metadata", "redteam", "writeLatestResults", "tracing", "evaluateOptions", "commandLineOptions", "targets"]
TEST = ["description", "vars", "provider", "providers", "prompts", "providerOutput", "assert", "assertScoringFunction", "options", "threshold", "metadata"]
OPTIONS = ["prefix", "suffix", "postprocess", "transform", "transformVars", "storeOutputAs", "rubricPrompt", "provider", "factuality", "disableVarExpansion", "disableConversationVar", "disableDefaultAsserts", "runSerially", "repeat"]
ASSERTION = ["type", "value", "config", "threshold", "weight", "provider", "rubricPrompt", "metric", "transform", "contextTransform"]
ASSERT_SET = ["type", "assert", "weight", "metric", "threshold", "config"]
PROVIDER = ["id", "label", "config", "prompts", "transform", "delay", "env", "inputs"]
PROMPT = ["id", "raw", "template", "display", "label", "config"]
SCENARIO = ["description", "config", "tests"]
GENERATOR = ["path", "config"]
DERIVED = ["name", "value"]

BASE = {"prompts": ["p"], "providers": ["echo"], "tests": [{"vars": {"a": 1}}]}


def _placed(section: str, key: str) -> dict:
    """A config with ``key`` in ``section``, a value of a plausible type."""
    value = {"config": {}, "vars": {}, "options": {}, "metadata": {}, "env": {}, "tests": [], "assert": [],
             "inputs": {}, "sharing": False, "tracing": {}, "evaluateOptions": {}, "commandLineOptions": {},
             "tags": {}, "nunjucksFilters": {}, "derivedMetrics": [], "extensions": [], "scenarios": [],
             "factuality": {}, "delay": 0, "threshold": 0.5, "weight": 1, "repeat": 1, "prompts": ["p"],
             "providers": ["echo"], "redteam": {}, "writeLatestResults": True, "outputPath": "out.json",
             "defaultTest": {}, "targets": ["echo"], "runSerially": True, "disableVarExpansion": True,
             "disableConversationVar": True, "disableDefaultAsserts": True}.get(key, "x")
    config = {key: value for key, value in BASE.items()}
    if section == "top":
        if key == "targets":
            del config["providers"]
        config[key] = value
    elif section == "test":
        config["tests"] = [{key: value, **({} if key == "vars" else {"vars": {"a": 1}})}]
    elif section == "options":
        config["tests"] = [{"vars": {"a": 1}, "options": {key: value}}]
    elif section == "assertion":
        config["tests"] = [{"vars": {"a": 1}, "assert": [{"type": "contains", "value": "x", key: value}]}]
    elif section == "assert-set":
        config["tests"] = [{"vars": {"a": 1}, "assert": [{"type": "assert-set", "assert": [{"type": "contains",
                                                                                              "value": "x"}], key: value}]}]
    elif section == "provider":
        config["providers"] = [{"id": "echo", key: value}]
    elif section == "prompt":
        config["prompts"] = [{"raw": "p", "label": "l", key: value}]
    elif section == "scenario":
        config["scenarios"] = [{"config": [{"vars": {"b": 1}}], "tests": [{"vars": {"a": 1}}], key: value}]
    elif section == "generator":
        config["tests"] = [{"path": "file://gen.py:tests", key: value}]
    elif section == "derived":
        config["derivedMetrics"] = [{"name": "m", "value": "a + b", key: value}]
    return config


def _messages(error: ConfigError) -> list[str]:
    return [problem.message for problem in getattr(error, "problems", [error])]


CASES = [(section, key) for section, keys in (
    ("top", TOP_LEVEL), ("test", TEST), ("options", OPTIONS), ("assertion", ASSERTION),
    ("assert-set", ASSERT_SET), ("provider", PROVIDER), ("prompt", PROMPT), ("scenario", SCENARIO),
    ("generator", GENERATOR), ("derived", DERIVED)) for key in keys]


@pytest.mark.parametrize(("section", "key"), CASES, ids=[f"{section}.{key}" for section, key in CASES])
def test_promptfoo_knows_it_so_it_is_not_an_unknown_key(tmp_path: Path, section: str, key: str) -> None:
    file = tmp_path / "suite.eval.yaml"
    file.write_text(yaml.safe_dump(_placed(section, key)))
    try:
        suite = load_eval_file(file)
    except ConfigError as error:
        messages = _messages(error)
    else:  # a problem inside one test is that test's
        messages = [message for test in suite.tests if test.problem is not None for message in _messages(test.problem)]
    assert not [m for m in messages if m.startswith("unknown key")], messages
    refused = [m for m in messages if f"promptfoo's {key} is not supported" in m]
    assert all(": " in m.split("not supported", 1)[1] for m in refused), "a refusal gives its reason"
