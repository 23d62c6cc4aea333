"""The Replicate text provider end to end, against the bundled simulator."""

from __future__ import annotations

import pytest
from helpers import FAKE_TOKEN, assert_no_traceback

from pytest_replicate.simulator import Fault

GEMMA = "google-deepmind/gemma-7b-it:2790a695e5dcae15506138cc4718d1106d0d475e6dca4b1d43f42414647993d5"


def suite(provider: str, config: str = "", prompt: str = "What is the capital of {{ country }}?",
          asserts: str = "") -> str:
    text = f'prompts:\n  - "{prompt}"\nproviders:\n  - id: {provider}\n'
    if config:
        text += "    config:\n" + "".join(f"      {line}\n" for line in config.strip().splitlines())
    text += "tests:\n  - vars: {country: France}\n"
    if asserts:
        text += "    assert:\n" + "".join(f"      {line}\n" for line in asserts.strip().splitlines())
    return text


def creates(simulator):
    return [r for r in simulator.requests if r.method == "POST" and not r.path.endswith("/cancel")]


def test_official_model_request(pytester, write_eval, replicate_env):
    write_eval(suite("replicate:meta/llama-2-7b-chat", """
temperature: 0.01
max_length: 1024
prompt:
  prefix: "[INST] "
  suffix: " [/INST]"
""", asserts="- {type: icontains, value: paris}"))
    pytester.runpytest().assert_outcomes(passed=1)
    (request,) = creates(replicate_env)
    assert request.path == "/v1/models/meta/llama-2-7b-chat/predictions"
    assert request.headers["authorization"] == f"Bearer {FAKE_TOKEN}"
    assert request.headers["prefer"] == "wait=60"
    assert request.json() == {"input": {
        "temperature": 0.01, "max_length": 1024, "prompt": "[INST] What is the capital of France? [/INST]"}}


def test_pinned_version_and_deployment_endpoints(pytester, write_eval, replicate_env):
    write_eval(suite(f"replicate:{GEMMA}", "max_new_tokens: 64"), "gemma.eval.yaml")
    write_eval(suite("replicate:deployment:acme/support-bot"), "deploy.eval.yaml")
    pytester.runpytest().assert_outcomes(passed=2)
    bodies = {r.path: r.json() for r in creates(replicate_env)}
    assert bodies["/v1/predictions"]["version"] == GEMMA.split(":")[1]
    assert bodies["/v1/predictions"]["input"]["max_new_tokens"] == 64
    assert "/v1/deployments/acme/support-bot/predictions" in bodies


def test_environment_fallbacks_are_typed_and_config_wins(pytester, write_eval, replicate_env, monkeypatch):
    env = {"TEMPERATURE": "0.7", "MAX_LENGTH": "256", "REPETITION_PENALTY": "1.1", "TOP_P": "0.9",
           "TOP_K": "40", "SEED": "42", "STOP_SEQUENCES": "</s>,END", "SYSTEM_PROMPT": "Be brief."}
    for name, value in env.items():
        monkeypatch.setenv(f"REPLICATE_{name}", value)
    write_eval(suite("replicate:meta/llama-2-7b-chat", """
temperature: 0.2
min_new_tokens: 5
max_new_tokens: 100
apiKey: r8_from_config
wait: 30
timeout: 60
base_url: REPLACED
"""))
    # base_url in the config points at the simulator too.
    text = (pytester.path / "suite.eval.yaml").read_text().replace("REPLACED", replicate_env.url)
    (pytester.path / "suite.eval.yaml").write_text(text)
    pytester.runpytest().assert_outcomes(passed=1)
    (request,) = creates(replicate_env)
    assert request.json()["input"] == {
        "temperature": 0.2,  # config wins over REPLICATE_TEMPERATURE
        "max_length": 256, "repetition_penalty": 1.1, "top_p": 0.9, "top_k": 40, "seed": 42,
        "stop_sequences": "</s>,END", "system_prompt": "Be brief.",
        "min_new_tokens": 5,  # model-specific keys pass through
        "max_new_tokens": 100,
        "prompt": "What is the capital of France?",
    }
    assert request.headers["authorization"] == "Bearer r8_from_config"
    assert request.headers["prefer"] == "wait=30"


def test_unset_parameters_are_not_sent(pytester, write_eval, replicate_env):
    write_eval(suite("replicate:meta/llama-2-7b-chat"))
    pytester.runpytest().assert_outcomes(passed=1)
    assert creates(replicate_env)[0].json() == {"input": {"prompt": "What is the capital of France?"}}


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("REPLICATE_TEMPERATURE", "hot", "environment variable REPLICATE_TEMPERATURE must be a number, got 'hot'"),
        ("REPLICATE_SEED", "1.5", "environment variable REPLICATE_SEED must be a whole number, got '1.5'"),
    ],
)
def test_bad_environment_values_are_collection_errors(pytester, write_eval, replicate_env, monkeypatch,
                                                      variable, value, message):
    monkeypatch.setenv(variable, value)
    write_eval(suite("replicate:meta/llama-2-7b-chat"))
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["suite.eval.yaml:4: providers[[]0[]]: " + message])


def test_api_key_precedence(pytester, write_eval, replicate_env, monkeypatch):
    monkeypatch.setenv("REPLICATE_API_KEY", "r8_from_api_key")
    write_eval(suite("replicate:meta/llama-2-7b-chat"))
    pytester.runpytest().assert_outcomes(passed=1)
    assert creates(replicate_env)[0].headers["authorization"] == "Bearer r8_from_api_key"


def test_missing_token_fails_with_instructions(pytester, write_eval, replicate_env, monkeypatch):
    monkeypatch.delenv("REPLICATE_API_TOKEN")
    write_eval(suite("replicate:meta/llama-2-7b-chat"))
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*no Replicate API token to call meta/llama-2-7b-chat: set REPLICATE_API_TOKEN*"])
    assert replicate_env.requests == []


def test_chat_prompt_splits_system_messages(pytester, write_eval, replicate_env):
    (pytester.path / "chat.json").write_text(
        '[{"role": "system", "content": "You are a pirate."},'
        ' {"role": "user", "content": "Greet {{ country }}"}]'
    )
    write_eval(suite("replicate:meta/llama-2-7b-chat", prompt="file://chat.json"))
    pytester.runpytest().assert_outcomes(passed=1)
    assert creates(replicate_env)[0].json()["input"] == {"system_prompt": "You are a pirate.", "prompt": "Greet France"}


def test_output_tokens_are_joined(pytester, write_eval, replicate_env):
    write_eval(suite("replicate:meta/llama-2-7b-chat", asserts="- {type: equals, value: The capital of France is Paris.}"))
    pytester.runpytest().assert_outcomes(passed=1)


@pytest.mark.parametrize(
    ("provider", "fault", "expected"),
    [
        ("replicate:meta/llama-2-7b-chat", Fault("status", status=401),
         "*Replicate rejected the API token (401 Unauthenticated) for replicate:meta/llama-2-7b-chat*"),
        ("replicate:nobody/nothing", None, "*Replicate has no replicate:nobody/nothing (404*nobody/nothing*"),
        ("replicate:meta/llama-2-7b-chat:" + "0" * 64, None,
         "*Replicate does not know version 000* of meta/llama-2-7b-chat, or your token may not run it (422*"),
        ("replicate:deployment:acme/nope", None, "*Replicate has no deployment acme/nope*"),
        ("replicate:meta/llama-2-7b-chat", Fault("fail"),
         "*prediction * of meta/llama-2-7b-chat failed: CUDA out of memory (simulated)*"),
    ],
)
def test_api_errors_are_specific(pytester, write_eval, replicate_env, provider, fault, expected):
    if fault:
        replicate_env.add_fault(fault)
    write_eval(suite(provider))
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([expected])


def test_failed_prediction_shows_the_end_of_the_logs(pytester, write_eval, replicate_env):
    replicate_env.add_fault(Fault("fail"))
    write_eval(suite("replicate:meta/llama-2-7b-chat"))
    result = pytester.runpytest()
    result.stdout.fnmatch_lines(["*last lines of the model's logs:*", "*CUDA out of memory (simulated)*"])


def test_invalid_input_names_the_field(pytester, write_eval, replicate_env):
    write_eval(suite("replicate:meta/llama-2-7b-chat", "top_k_mode: 1\nsystem_prompt: 5"))
    result = pytester.runpytest()
    result.assert_outcomes(passed=1)  # system_prompt is coerced to text; unknown keys are ignored by Replicate
    replicate_env.reset()
    write_eval(suite("replicate:image:stability-ai/sdxl", "width: 4096"))
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*Replicate rejected the input for replicate:stability-ai/sdxl (422): parameter `width`: *"])


def test_token_never_appears_in_output(pytester, write_eval, replicate_env):
    replicate_env.add_fault(Fault("status", status=401))
    write_eval(suite("replicate:meta/llama-2-7b-chat"))
    result = pytester.runpytest("-vv")
    assert FAKE_TOKEN not in result.stdout.str() + result.stderr.str()


@pytest.mark.parametrize(
    ("provider_id", "message"),
    [
        ("replicate:llama", "malformed Replicate provider id 'replicate:llama'"),
        ("replicate:/llama", "malformed Replicate provider id 'replicate:/llama'"),
        ("replicate:meta/llama:abc123", "bad model version 'abc123' in 'replicate:meta/llama:abc123': a version is 64 hex characters"),
        ("replicate:video:meta/llama", "unknown Replicate provider kind 'video' in 'replicate:video:meta/llama'"),
        ("replicate:deployment:acme/bot:" + "a" * 64, "'replicate:deployment:acme/bot:aaa*': deployments have no version"),
        ("openai:gpt-4", "unknown provider id 'openai:gpt-4'"),
    ],
)
def test_bad_provider_ids_are_collection_errors(pytester, write_eval, provider_id, message):
    write_eval(f"prompts: [hi]\nproviders: ['{provider_id}']\n")
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([
        f"suite.eval.yaml:2: providers[[]0[]]: {message}",
        "  hint: accepted forms: echo, replicate:OWNER/MODEL, replicate:OWNER/MODEL:VERSION*deployment:OWNER/NAME",
    ])
    assert_no_traceback(result)


def test_stop_sequences_list_is_sent_comma_separated(pytester, write_eval, replicate_env):
    write_eval(suite("replicate:meta/llama-2-7b-chat", 'stop_sequences: ["</s>", "User:"]'))
    pytester.runpytest().assert_outcomes(passed=1)
    assert creates(replicate_env)[0].json()["input"]["stop_sequences"] == "</s>,User:"


def test_bad_timeout_ini_is_a_usage_error(pytester, write_eval):
    write_eval(suite("echo"))
    result = pytester.runpytest("-o", "replicate_timeout=abc")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: replicate_timeout: not a number (*abc*): give a number of seconds greater than 0"])


@pytest.mark.parametrize("args, message", [
    (("--replicate-concurrency", "100000000"), "ERROR: --replicate-concurrency = '100000000': give at most 256 calls*"),
    (("-o", "replicate_concurrency=257"), "ERROR: replicate_concurrency = 257: give at most 256 calls*"),
    (("--replicate-concurrency", "0"), "ERROR: --replicate-concurrency = '0': give a whole number, 1 or more"),
])
def test_bad_concurrency_is_a_usage_error(pytester, write_eval, args, message):
    write_eval(suite("echo"))
    result = pytester.runpytest(*args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([message])


def test_every_sampling_parameter_from_config(pytester, write_eval, replicate_env):
    write_eval(suite("replicate:meta/llama-2-7b-chat", """
temperature: 0.5
max_length: 300
max_new_tokens: 128
top_p: 0.95
top_k: 50
repetition_penalty: 1.15
system_prompt: Answer in one sentence.
stop_sequences: "</s>"
seed: 7
"""))
    pytester.runpytest().assert_outcomes(passed=1)
    assert creates(replicate_env)[0].json()["input"] == {
        "temperature": 0.5, "max_length": 300, "max_new_tokens": 128, "top_p": 0.95, "top_k": 50,
        "repetition_penalty": 1.15, "system_prompt": "Answer in one sentence.", "stop_sequences": "</s>",
        "seed": 7, "prompt": "What is the capital of France?",
    }


def test_wait_zero_polls_without_prefer_header(pytester, write_eval, replicate_env):
    replicate_env.latency = 0.05
    write_eval(suite("replicate:meta/llama-2-7b-chat", "wait: 0\npoll_interval: 0.01"))
    pytester.runpytest().assert_outcomes(passed=1)
    assert "prefer" not in creates(replicate_env)[0].headers
    assert [r for r in replicate_env.requests if r.method == "GET"]
