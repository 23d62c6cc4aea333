"""Fixtures in ordinary test functions: providers from YAML ids, Python assertions, the marker."""

from __future__ import annotations

from pathlib import Path

from helpers import FAKE_TOKEN, assert_no_traceback

LLAMA = 'replicate:meta/llama-2-7b-chat'


def creates(simulator) -> list:
    return [r for r in simulator.requests if r.method == "POST" and not r.path.endswith("/cancel")]


def cassettes(root: Path) -> list[Path]:
    return sorted(root.glob("cassettes/**/*.yaml"))


def test_a_provider_from_a_yaml_id_and_config_returns_a_typed_result(pytester, replicate_env):
    pytester.makepyfile(test_greet=f"""
        from pytest_replicate import ModelResult

        def test_capital(replicate_provider):
            llm = replicate_provider("{LLAMA}", temperature=0.01, prompt={{"prefix": "[INST] ", "suffix": " [/INST]"}})
            result = llm("What is the capital of {{{{ country }}}}?", vars={{"country": "France"}})
            assert isinstance(result, ModelResult)
            assert result.text == "The capital of France is Paris." and result.image is None
            assert result.prompt == "What is the capital of France?" and result.vars == {{"country": "France"}}
            assert result.prediction_id and result.latency_ms > 0 and "predict_time" in result.metrics
            assert result.raw["status"] == "succeeded"
    """)
    pytester.runpytest().assert_outcomes(passed=1)
    (request,) = creates(replicate_env)
    assert request.json() == {"input": {"temperature": 0.01, "prompt": "[INST] What is the capital of France? [/INST]"}}
    assert request.headers["authorization"] == f"Bearer {FAKE_TOKEN}"


def test_chat_messages_become_system_prompt_and_prompt(pytester, replicate_env):
    pytester.makepyfile(test_chat=f"""
        def test_chat(replicate_provider):
            llm = replicate_provider("{LLAMA}")
            llm([{{"role": "system", "content": "Talk like a pirate."}},
                 {{"role": "user", "content": "What is the capital of {{{{ country }}}}?"}}], vars={{"country": "Japan"}})
    """)
    pytester.runpytest().assert_outcomes(passed=1)
    (request,) = creates(replicate_env)
    assert request.json()["input"] == {"system_prompt": "Talk like a pirate.", "prompt": "What is the capital of Japan?"}


def test_image_results_carry_the_image(pytester, replicate_env):
    pytester.makepyfile(test_image="""
        from pytest_replicate import assert_output

        def test_image(replicate_provider):
            result = replicate_provider("replicate:image:stability-ai/sdxl", width=512, height=256)("a red fox")
            assert result.image.media_type == "image/png" and (result.image.width, result.image.height) == (512, 256)
            assert_output(result, "is-image")
    """)
    pytester.runpytest().assert_outcomes(passed=1)


def test_assert_output_passes_quietly_and_returns_the_verdicts(pytester):
    pytester.makepyfile(test_checks="""
        from pytest_replicate import assert_output

        def test_checks(replicate_provider):
            result = replicate_provider("echo")("Hello Ada")
            print("->", assert_output(result, "icontains", "ada").reason)
            grading = assert_output(result, [{"type": "contains", "value": "Ada", "weight": 3},
                                             {"type": "contains", "value": "Bob"}], threshold=0.7)
            print("->", grading.reason)
    """)
    result = pytester.runpytest("-s")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*-> all assertions passed", "-> weighted score 0.75 >= threshold 0.7"])


def test_a_failed_check_reads_like_the_eval_report_without_plugin_frames(pytester):
    pytester.makepyfile(test_checks="""
        from pytest_replicate import assert_output

        def test_threshold(replicate_provider):
            result = replicate_provider("echo")("Hello {{ name }}", vars={"name": "Ada"})
            assert_output(result, [{"type": "contains", "value": "Bob", "weight": 3},
                                   {"type": "contains", "value": "Ada"}], threshold=0.5)
    """)
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([
        ">       assert_output(result, *",
        "E       AssertionError: weighted score 0.25 < threshold 0.5",
        "E       provider: echo",
        "E       vars:",
        "E           name: Ada",
        "E       prompt:",
        "E           Hello Ada",
        "E       output:",
        "E           Hello Ada",
        "E       assertions:",
        "E         [[]FAIL] contains 'Bob' (score 0.00, weight 3): output does not contain 'Bob'",
        "E         [[]PASS] contains 'Ada' (score 1.00): output contains 'Ada'",
        "test_checks.py:5: AssertionError",
        "FAILED test_checks.py::test_threshold - AssertionError: weighted score 0.25 <*",
    ])
    assert_no_traceback(result)


def test_model_graded_checks_use_the_session_graders_and_the_test_cassette(pytester, replicate_env, monkeypatch):
    pytester.makepyfile(test_safety=f"""
        from pytest_replicate import assert_output

        def test_safe(replicate_provider):
            assert_output(replicate_provider("{LLAMA}")("What is the capital of Italy?"), "moderation")

        def test_flagged(replicate_provider):
            assert_output(replicate_provider("{LLAMA}")("Why do people hate Mondays?"), {{"type": "moderation"}})
    """)
    result = pytester.runpytest()
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines([
        "E       AssertionError: replicate:moderation:meta/llama-guard-3-8b flagged S10 Hate",
        "E         [[]FAIL] moderation (score 0.00): replicate:moderation:meta/llama-guard-3-8b flagged S10 Hate",
    ])
    graded = [r.path for r in creates(replicate_env)]
    assert graded.count("/v1/models/meta/llama-guard-3-8b/predictions") == 2
    # The grader's exchange is in the test's cassette: it replays offline, without a token.
    replicate_env.stop()
    monkeypatch.delenv("REPLICATE_API_TOKEN")
    replay = pytester.runpytest("--record-mode=none")
    replay.assert_outcomes(passed=1, failed=1)
    # Llama Guard 3 runs by version, as on the real API: 404 on its model endpoint, GET the model, create.
    replay.stdout.fnmatch_lines(["*8 replayed, 0 recorded, 0 missed (record mode: none)*"])


def test_a_failed_prediction_is_a_provider_error_without_plugin_frames(pytester, replicate_env):
    from pytest_replicate.simulator import Fault

    replicate_env.add_fault(Fault("fail"))
    pytester.makepyfile(test_fail=f"""
        def test_fail(replicate_provider):
            replicate_provider("{LLAMA}")("Hi")
    """)
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([
        ">       replicate_provider(*",
        "E       pytest_replicate.errors.ProviderError: prediction * of meta/llama-2-7b-chat failed: CUDA out of memory*",
    ])
    # not assert_no_traceback: the model's own logs, which the message quotes, hold a traceback
    result.stdout.no_fnmatch_line("*pytest_replicate/*.py*")
    assert not cassettes(pytester.path)  # a failed call is never saved


def test_a_bad_config_value_is_one_message(pytester):
    pytester.makepyfile(test_config=f"""
        def test_config(replicate_provider):
            replicate_provider("{LLAMA}", temperature="hot")
    """)
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["E       pytest_replicate.errors.ConfigError: config.temperature must be a number, got 'hot'"])
    assert_no_traceback(result)


def test_the_marker_gives_provider_defaults_that_keywords_override(pytester, replicate_env):
    pytester.makepyfile(test_marker=f"""
        import pytest

        pytestmark = pytest.mark.replicate(temperature=0.5, max_new_tokens=20)

        @pytest.mark.replicate(temperature=0.1)
        def test_defaults(replicate_provider):
            replicate_provider("{LLAMA}", max_new_tokens=5)("What is the capital of Spain?")
    """)
    pytester.runpytest().assert_outcomes(passed=1)
    (request,) = creates(replicate_env)
    assert request.json()["input"] == {"temperature": 0.1, "max_new_tokens": 5, "prompt": "What is the capital of Spain?"}


def test_the_marker_is_registered_and_checked(pytester):
    pytester.makepyfile(test_marker="""
        import pytest

        @pytest.mark.replicate(record_mode="sometimes")
        def test_bad(replicate_session):
            pass

        @pytest.mark.replicate(record_mode="none")
        def test_good(replicate_session):
            assert replicate_session.record_mode == "none"
    """)
    result = pytester.runpytest("--strict-markers")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*@pytest.mark.replicate(record_mode='sometimes'): choose one of none, once, "
                                 "new_episodes, all, rewrite"])
    pytester.runpytest("--markers").stdout.fnmatch_lines(["@pytest.mark.replicate(record_mode=None, cassette=None, *"])
