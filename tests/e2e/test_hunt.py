"""Bugs found by an adversarial pass: each test reproduces one, in behaviour."""

from __future__ import annotations

import pytest
from helpers import FAKE_TOKEN


def test_token_read_from_a_var_file_is_hidden_in_names_reports_and_cassette_files(
        pytester: pytest.Pytester, write_eval, simulator, monkeypatch) -> None:
    monkeypatch.setenv("REPLICATE_API_TOKEN", FAKE_TOKEN)
    monkeypatch.setenv("REPLICATE_BASE_URL", simulator.url)
    (pytester.path / "notes.txt").write_text(f"my key is {FAKE_TOKEN}\n")
    write_eval("""
        prompts: ["Summarise {{ notes }}"]
        providers: [replicate:meta/llama-2-7b-chat]
        tests:
          - vars: {notes: file://notes.txt}
            assert: [{type: contains, value: zzz}]
    """)
    result = pytester.runpytest("-vv", "-rA", "--junitxml=report.xml", "-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    assert FAKE_TOKEN not in result.stdout.str() + result.stderr.str()
    assert FAKE_TOKEN not in (pytester.path / "report.xml").read_text()
    cassettes = [str(p.relative_to(pytester.path)) for p in (pytester.path / "cassettes").rglob("*.yaml")]
    assert len(cassettes) == 1
    assert FAKE_TOKEN not in cassettes[0]
    assert FAKE_TOKEN not in (pytester.path / cassettes[0]).read_text()


@pytest.mark.parametrize("where", ["ini nan", "ini inf", "config inf", "config nan"])
def test_a_timeout_that_is_not_a_finite_number_is_one_config_error(
        pytester: pytest.Pytester, write_eval, simulator, monkeypatch, where) -> None:
    monkeypatch.setenv("REPLICATE_API_TOKEN", FAKE_TOKEN)
    monkeypatch.setenv("REPLICATE_BASE_URL", simulator.url)
    value = where.split()[1]
    config = f"{{timeout: .{value}}}" if where.startswith("config") else "{}"
    write_eval(f"""
        prompts: ["x"]
        providers: [{{id: "replicate:meta/llama-2-7b-chat", config: {config}}}]
        tests: [{{}}]
    """)
    args = ("-o", f"replicate_timeout={value}") if where.startswith("ini") else ()
    result = pytester.runpytest("-p", "no:cacheprovider", *args)
    output = result.stdout.str() + result.stderr.str()
    assert "Traceback" not in output and "pytest_replicate/" not in output and "Error:" not in output.replace("ERROR:", "")
    assert "timeout" in output and "number of seconds" in output
    assert simulator.predictions_created() == []


def test_two_eval_files_whose_items_would_share_a_cassette_are_one_error(
        pytester: pytest.Pytester, write_eval, simulator, monkeypatch) -> None:
    # a.eval.yaml and a.eval.yml both keep cassettes in cassettes/a.eval/: same-named items
    # would overwrite each other's recordings, and replay would then miss one of them.
    monkeypatch.setenv("REPLICATE_API_TOKEN", FAKE_TOKEN)
    monkeypatch.setenv("REPLICATE_BASE_URL", simulator.url)
    for name, temperature in (("a.eval.yaml", 0.1), ("a.eval.yml", 0.9)):
        write_eval(f"""
            prompts: ["Tell me about {{{{ c }}}}"]
            providers: [{{id: "replicate:meta/llama-2-7b-chat", config: {{temperature: {temperature}}}}}]
            tests: [{{vars: {{c: x}}}}]
        """, name=name)
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*a.eval.yml*share*cassette*a.eval.yaml*", "*hint: rename one*"])
    output = result.stdout.str()
    assert "Traceback" not in output and "pytest_replicate/" not in output
    assert simulator.predictions_created() == []


@pytest.mark.parametrize("config", ['temperature="hot"', 'api_token=Path("key.txt").read_text()'])
def test_fixture_config_error_hides_the_api_key_in_full_trace_locals(
        pytester: pytest.Pytester, simulator, monkeypatch, config) -> None:
    monkeypatch.delenv("REPLICATE_API_TOKEN", raising=False)
    monkeypatch.setenv("REPLICATE_BASE_URL", simulator.url)
    (pytester.path / "key.txt").write_text(FAKE_TOKEN)
    pytester.makepyfile(f"""
        from pathlib import Path

        def test_it(replicate_provider):
            replicate_provider("replicate:meta/llama-2-7b-chat", apiKey=Path("key.txt").read_text(), {config})
    """)
    result = pytester.runpytest("-l", "--tb=long", "--full-trace", "-vv", "--junitxml=report.xml", "-p",
                                "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*ConfigError*"])
    assert FAKE_TOKEN not in result.stdout.str() + result.stderr.str()
    assert FAKE_TOKEN not in (pytester.path / "report.xml").read_text()


def test_a_create_answered_5xx_adopts_its_own_prediction_not_a_sibling_call_s(
        pytester: pytest.Pytester, write_eval, monkeypatch) -> None:
    # Two items send the same input at once. The first create is made but answered 500; the
    # second is held by Prefer: wait. The listing the first then reads shows both predictions:
    # it must not take the second call's (newest) one, leaving its own running unwatched.
    from pytest_replicate.simulator import Fault, Simulator

    write_eval("""
        prompts: ["Tell me about {{ c }}"]
        providers: [{id: "replicate:meta/llama-2-7b-chat", config: {wait: 1, poll_interval: 0.1}}]
        tests:
          - vars: {c: x}
            assert: [{type: contains, value: about}]
          - vars: {c: x}
            assert: [{type: icontains, value: about}]
    """)
    with Simulator(latency=3) as simulator:
        simulator.add_fault(Fault("created_then_status", status=500))
        simulator.add_fault(Fault("slow", delay=0.5, method="GET", path_prefix="/v1/predictions"))
        monkeypatch.setenv("REPLICATE_API_TOKEN", FAKE_TOKEN)
        monkeypatch.setenv("REPLICATE_BASE_URL", simulator.url)
        result = pytester.runpytest("-p", "no:cacheprovider", "--replicate-concurrency", "2")
        result.assert_outcomes(passed=2)
        assert simulator.creates_per_model() == {"meta/llama-2-7b-chat": 2}
    followed = [_predictions_followed(path) for path in sorted((pytester.path / "cassettes").rglob("*.yaml"))]
    assert len(followed) == 2 and all(followed)
    assert not followed[0] & followed[1], "each item follows its own prediction"
    monkeypatch.setenv("REPLICATE_BASE_URL", "http://127.0.0.1:9")  # replay needs no server
    pytester.runpytest("-p", "no:cacheprovider", "--record-mode=none").assert_outcomes(passed=2)


def test_identical_inputs_sent_at_once_each_adopt_a_prediction_of_their_own(
        pytester: pytest.Pytester, write_eval, monkeypatch) -> None:
    # Repeated samples: four items send one input at once. Two creates are made but answered 500,
    # the other two are held by Prefer: wait. Each 5xx'd call must adopt a prediction no other
    # call follows, so every prediction is followed exactly once, and replay (serial or
    # concurrent) takes the same choices without a server.
    import httpx

    from pytest_replicate.simulator import Fault, Simulator

    write_eval("""
        prompts: ["Tell me about {{ c }}"]
        providers: [{id: "replicate:meta/llama-2-7b-chat", config: {wait: 1, poll_interval: 0.1}}]
        tests:
    """ + "".join(f"""
          - description: sample {n}
            vars: {{c: x}}
            assert: [{{type: contains, value: about}}]
    """ for n in range(4)))
    with Simulator(latency=3) as simulator:
        simulator.add_fault(Fault("created_then_status", status=500, times=2))
        monkeypatch.setenv("REPLICATE_API_TOKEN", FAKE_TOKEN)
        monkeypatch.setenv("REPLICATE_BASE_URL", simulator.url)
        result = pytester.runpytest("-p", "no:cacheprovider", "--replicate-concurrency", "4")
        result.assert_outcomes(passed=4)
        assert simulator.creates_per_model() == {"meta/llama-2-7b-chat": 4}, "no create was sent twice"
        assert simulator.cancel_log() == []
        listing = httpx.get(f"{simulator.url}/v1/predictions", headers={"Authorization": f"Bearer {FAKE_TOKEN}"})
        created = {prediction["id"] for prediction in listing.json()["results"]}
    cassettes = sorted((pytester.path / "cassettes").rglob("*.yaml"))
    followed = [_predictions_followed(path) for path in cassettes]
    assert sorted(len(ids) for ids in followed) == [1, 1, 1, 1]
    assert set().union(*followed) == created, "each prediction is followed by exactly one item"
    adopted = [path for path in cassettes if "adopted after create" in path.read_text()]
    assert len(adopted) == 2, "a 5xx'd item's cassette records which prediction it adopted"
    monkeypatch.setenv("REPLICATE_BASE_URL", "http://127.0.0.1:9")  # replay needs no server
    pytester.runpytest("-p", "no:cacheprovider", "--record-mode=none").assert_outcomes(passed=4)
    pytester.runpytest("-p", "no:cacheprovider", "--replicate-concurrency", "4").assert_outcomes(passed=4)


def _predictions_followed(cassette) -> set[str]:
    """Ids of the predictions a cassette's item created (a 2xx create answer) or polled."""
    import json
    import re

    from pytest_replicate.cassettes.serializer import deserialize

    ids = set()
    for interaction in deserialize(cassette.read_text())["interactions"]:  # real ids, as replayed
        request, response = interaction["request"], interaction["response"]
        if request["method"] == "POST" and request["uri"].endswith("/predictions") and response["status"]["code"] < 300:
            ids.add(json.loads(response["body"]["string"])["id"])
        if match := re.search(r"/v1/predictions/([^/]+)$", request["uri"]):
            ids.add(match[1])
    return ids


@pytest.mark.parametrize(("provider", "expected"), [
    ("config: {max_concurrency: 0}", "*max_concurrency: expected a whole number, 1 or more, got 0*"),  # hung
    ("config: {max_concurrency: -1}", "*max_concurrency: expected a whole number, 1 or more, got -1*"),
    ("config: {max_concurrency: abc}", "*max_concurrency: expected a whole number, 1 or more, got 'abc'*"),
    ("config: {temperature: .nan}", "*config.temperature must be a finite number, got nan*"),
    ("config: {my_param: [1, .inf]}", "*config.my_param must be a finite number, got [[]1, inf[]]*"),
    ("delay: .inf", "*providers[[]0].delay: expected a finite number, got inf*"),  # the schema: numbers are finite
    ("delay: .nan", "*providers[[]0].delay: expected a finite number, got nan*"),
])
def test_odd_provider_numbers_are_one_config_error(pytester: pytest.Pytester, write_eval, simulator, monkeypatch,
                                                   provider, expected) -> None:
    monkeypatch.setenv("REPLICATE_API_TOKEN", FAKE_TOKEN)
    monkeypatch.setenv("REPLICATE_BASE_URL", simulator.url)
    write_eval(f"""
        prompts: ["x"]
        providers: [{{id: "replicate:meta/llama-2-7b-chat", {provider}}}]
        tests: [{{}}]
    """)
    result = pytester.runpytest("-p", "no:cacheprovider", "--replicate-concurrency", "2", "-o", "faulthandler_timeout=20")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([f"suite.eval.yaml:3: {expected}"])
    output = result.stdout.str() + result.stderr.str()
    assert "Traceback" not in output and "INTERNALERROR" not in output and "pytest_replicate/" not in output
    assert simulator.predictions_created() == []


def test_max_concurrency_given_to_the_fixture_is_not_sent_to_the_model(pytester: pytest.Pytester, simulator,
                                                                        monkeypatch) -> None:
    monkeypatch.setenv("REPLICATE_API_TOKEN", FAKE_TOKEN)
    monkeypatch.setenv("REPLICATE_BASE_URL", simulator.url)
    pytester.makepyfile("""
        def test_it(replicate_provider):
            assert replicate_provider("replicate:meta/llama-2-7b-chat", max_concurrency=2)("Say hi").text
    """)
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)
    assert [body["input"] for body in simulator.predictions_created()] == [{"prompt": "Say hi"}]
