"""Recording and replaying eval items with vcrpy cassettes."""

from __future__ import annotations

import re
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml
from helpers import FAKE_TOKEN, interrupt_pytest_when

from pytest_replicate.cassettes.cassette import AtomicPersister
from pytest_replicate.run.session import EvalSession
from pytest_replicate.run.settings import Settings
from pytest_replicate.simulator import Simulator
from pytest_replicate.suite.expand import expand
from pytest_replicate.suite.loader import load_eval_file

LLAMA = """
prompts: ["What is the capital of {{ country }}?"]
providers:
  - id: replicate:meta/llama-2-7b-chat
    config: {temperature: TEMPERATURE, poll_interval: 0.01}
tests:
  - vars: {country: [France, Japan, Italy]}
    assert: [{type: icontains, value: capital}]
"""


def llama(temperature: float = 0.01) -> str:
    return LLAMA.replace("TEMPERATURE", str(temperature))


def cassette_files(root: Path) -> list[Path]:
    return sorted(root.glob("cassettes/**/*.yaml"))


def offline(monkeypatch, simulator=None) -> None:
    """No token and, once the simulator is stopped, nothing listening."""
    monkeypatch.delenv("REPLICATE_API_TOKEN", raising=False)
    if simulator is not None:
        simulator.stop()


def test_record_then_replay_offline_without_token(pytester, write_eval, replicate_env, monkeypatch):
    write_eval(llama())
    first = pytester.runpytest()
    first.assert_outcomes(passed=3)
    first.stdout.fnmatch_lines(["*replicate cassettes*", "0 replayed, 3 recorded, 0 missed (record mode: once)"])
    files = cassette_files(pytester.path)
    assert len(files) == 3 and all(f.parent.name == "suite.eval" for f in files)

    offline(monkeypatch, replicate_env)
    monkeypatch.setenv("CI", "true")
    second = pytester.runpytest()
    second.assert_outcomes(passed=3)
    second.stdout.fnmatch_lines(["3 replayed, 0 recorded, 0 missed (record mode: none)"])


def test_cassette_names_follow_item_names(pytester, write_eval, replicate_env):
    write_eval(llama())
    pytester.runpytest().assert_outcomes(passed=3)
    before = {f.name for f in cassette_files(pytester.path)}
    write_eval(llama().replace("[France, Japan, Italy]", "[Spain, France, Japan, Italy]"))
    pytester.runpytest().assert_outcomes(passed=4)
    after = {f.name for f in cassette_files(pytester.path)}
    assert before < after and len(after) == 4


def test_none_mode_without_cassette_says_how_to_record(pytester, write_eval, monkeypatch):
    monkeypatch.delenv("REPLICATE_API_TOKEN", raising=False)
    write_eval(llama())
    result = pytester.runpytest("--record-mode=none", "-k", "France")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([
        "cassette miss: no cassette recorded for this item (POST /v1/models/meta/llama-2-7b-chat/predictions)",
        "*cassette: cassettes/suite.eval/country_France_*.yaml (record mode: none)*",
        "*record it: REPLICATE_API_TOKEN=... pytest 'suite.eval.yaml::country=France*' --record-mode=once*",
        "*0 replayed, 0 recorded, 1 missed (record mode: none)*",
    ])


def test_changed_request_is_a_miss_naming_the_difference(pytester, write_eval, replicate_env, monkeypatch):
    write_eval(llama(0.01))
    pytester.runpytest("-k", "France").assert_outcomes(passed=1)
    offline(monkeypatch, replicate_env)
    write_eval(llama(0.2))
    result = pytester.runpytest("-k", "France")  # once: the cassette exists, so it is not extended
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([
        "cassette miss: no recorded response for POST /v1/models/meta/llama-2-7b-chat/predictions",
        "*the closest recorded request differs in:",
        "*input.temperature: 0.01 -> 0.2",
        "*re-record it: REPLICATE_API_TOKEN=... pytest 'suite.eval.yaml::country=France*' --record-mode=rewrite",
    ])


def test_json_key_order_does_not_matter(pytester, write_eval, replicate_env, monkeypatch):
    write_eval(llama())
    pytester.runpytest("-k", "France").assert_outcomes(passed=1)
    (cassette,) = cassette_files(pytester.path)
    recorded = yaml.safe_load(cassette.read_text())["interactions"][0]["request"]["body"]["json"]
    assert list(recorded["input"]) == ["prompt", "temperature"]  # stored sorted; sent temperature first
    offline(monkeypatch, replicate_env)
    pytester.runpytest("-k", "France", "--record-mode=none").assert_outcomes(passed=1)


def test_new_episodes_appends_and_all_rerecords(pytester, write_eval, replicate_env):
    write_eval(llama(0.01))
    pytester.runpytest("-k", "France").assert_outcomes(passed=1)
    (cassette,) = cassette_files(pytester.path)
    write_eval(llama(0.2))
    pytester.runpytest("-k", "France", "--record-mode=new_episodes").assert_outcomes(passed=1)
    temperatures = [i["request"]["body"]["json"]["input"]["temperature"]
                    for i in yaml.safe_load(cassette.read_text())["interactions"]]
    assert temperatures == [0.01, 0.2]

    replicate_env.reset()
    pytester.runpytest("-k", "France", "--record-mode=all").assert_outcomes(passed=1)
    assert len([r for r in replicate_env.requests if r.method == "POST"]) == 1  # nothing replayed
    interactions = yaml.safe_load(cassette.read_text())["interactions"]
    assert len(interactions) == 2  # the 0.2 exchange was replaced, not duplicated


def test_rewrite_starts_the_cassette_afresh(pytester, write_eval, replicate_env):
    write_eval(llama(0.01))
    pytester.runpytest("-k", "France").assert_outcomes(passed=1)
    write_eval(llama(0.2))
    pytester.runpytest("-k", "France", "--replicate-record-mode=rewrite").assert_outcomes(passed=1)
    (cassette,) = cassette_files(pytester.path)
    interactions = yaml.safe_load(cassette.read_text())["interactions"]
    assert [i["request"]["body"]["json"]["input"]["temperature"] for i in interactions] == [0.2]


@pytest.mark.parametrize(("ci", "mode"), [("true", "none"), ("1", "none"), ("yes", "none"),
                                         ("false", "once"), ("False", "once"), ("0", "once"), ("", "once")])
def test_the_default_record_mode_is_none_on_ci_and_ci_false_is_not_ci(pytester, monkeypatch, ci, mode):
    from pytest_replicate.pytest.state import settings_key

    monkeypatch.setenv("CI", ci)
    assert pytester.parseconfigure().stash[settings_key].record_mode == mode


def test_ini_record_mode_and_cassette_dir(pytester, write_eval, monkeypatch):
    monkeypatch.delenv("REPLICATE_API_TOKEN", raising=False)
    pytester.makeini("[pytest]\nreplicate_record_mode = none\nreplicate_cassette_dir = recorded\n")
    write_eval(llama())
    result = pytester.runpytest("-k", "France")
    result.stdout.fnmatch_lines(["*cassette: recorded/suite.eval/*(record mode: none)*"])


def test_replay_never_sleeps(pytester, write_eval, replicate_env, monkeypatch, sleeps):
    replicate_env.latency = 0.2
    write_eval(llama().replace("poll_interval: 0.01", "poll_interval: 0.05, wait: 0"))
    pytester.runpytest("-k", "France").assert_outcomes(passed=1)
    polls = [r for r in replicate_env.requests if r.method == "GET"]
    assert len(polls) >= 2

    assert sleeps  # recording waited between polls

    sleeps.clear()
    offline(monkeypatch, replicate_env)
    pytester.runpytest("-k", "France", "--record-mode=none").assert_outcomes(passed=1)
    assert sleeps == []


def test_no_secret_reaches_disk(pytester, write_eval, replicate_env, monkeypatch):
    canary = "r8_" + "canary" * 7  # built here, so the repository never holds a token-like string
    config_canary = "r8_" + "config" * 7
    monkeypatch.setenv("REPLICATE_API_TOKEN", canary)
    write_eval(
        "prompts: ['Repeat this: {{ secret }}']\n"
        "providers:\n  - replicate:meta/llama-2-7b-chat\n"
        f"  - {{id: 'replicate:meta/llama-2-70b-chat', config: {{apiKey: {config_canary}}}}}\n"
        f"tests:\n  - description: the token even travels in the prompt\n    vars: {{secret: {canary}}}\n"
    )
    result = pytester.runpytest("--junitxml=report.xml", "-vv")
    result.assert_outcomes(passed=2)
    files = [p for p in pytester.path.rglob("*") if p.is_file() and p.name != "suite.eval.yaml"]
    assert cassette_files(pytester.path)
    for path in files:
        text = path.read_bytes()
        assert canary.encode() not in text, path
        assert config_canary.encode() not in text, path
    cassette_text = "".join(p.read_text() for p in cassette_files(pytester.path))
    assert "<REDACTED>" in cassette_text and "authorization" not in cassette_text.lower()


def test_corrupt_cassette_fails_only_its_item(pytester, write_eval, replicate_env, monkeypatch):
    write_eval(llama())
    pytester.runpytest().assert_outcomes(passed=3)
    broken = cassette_files(pytester.path)[0]
    broken.write_text("interactions:\n- request: {body: 'unterminated\n")
    offline(monkeypatch, replicate_env)
    result = pytester.runpytest("--record-mode=none")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["*cassette * is corrupt (*); delete it or re-record it with --record-mode=rewrite*"])


def test_failed_write_leaves_the_old_cassette_intact(tmp_path, monkeypatch):
    from vcr.serializers import yamlserializer

    target = tmp_path / "c.yaml"
    AtomicPersister.save_cassette(target, {"requests": [], "responses": []}, yamlserializer)
    before = target.read_text()

    def failing_replace(source, destination):
        raise OSError("disk full")

    monkeypatch.setattr("os.replace", failing_replace)
    with pytest.raises(OSError):
        AtomicPersister.save_cassette(target, {"requests": [], "responses": []}, yamlserializer)
    assert target.read_text() == before
    assert [p.name for p in tmp_path.iterdir()] == ["c.yaml"]


def test_interrupted_run_leaves_only_complete_cassettes(pytester, write_eval, replicate_env):
    replicate_env.latency = 1.0
    write_eval(llama().replace("poll_interval: 0.01", "poll_interval: 0.05, wait: 0"))
    # Once the first cassette is written, the second item is mid-prediction for ~1 s.
    interrupt_pytest_when(pytester, lambda: cassette_files(pytester.path), args=("--replicate-concurrency=1",))
    files = cassette_files(pytester.path)
    assert 1 <= len(files) < 3
    for path in files:
        interactions = yaml.safe_load(path.read_text())["interactions"]
        assert interactions[-1]["response"]["body"]["json"]["status"] == "succeeded"
    assert not [p for p in pytester.path.rglob("*.part")]


def test_a_recording_sweeps_what_killed_saves_left_but_not_live_writes(pytester, write_eval, replicate_env):
    import os
    import sys
    import time

    write_eval(llama())
    folder = pytester.path / "cassettes" / "suite.eval"
    folder.mkdir(parents=True)
    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(ended.stdout)
    running = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        stale = folder / f".a.yaml.{dead_pid}.0123abcd.part"
        live = folder / f".b.yaml.{running.pid}.89abcdef.part"
        old_style = folder / ".c.yaml.k2j4_x9q.tmp"
        recent_old_style = folder / ".d.yaml.abcdefgh.tmp"
        for path in (stale, live, old_style, recent_old_style):
            path.write_text("half a cassette")
        an_hour_ago = time.time() - 3600
        os.utime(old_style, (an_hour_ago, an_hour_ago))
        pytester.runpytest().assert_outcomes(passed=3)
        assert not stale.exists() and not old_style.exists()
        assert live.exists() and recent_old_style.exists()  # a process may still be writing them
        assert len(cassette_files(pytester.path)) == 3
    finally:
        running.kill()
        running.wait()


def test_concurrent_recording_and_replay_from_a_thread_pool(tmp_path, monkeypatch):
    suite_file = tmp_path / "many.eval.yaml"
    suite_file.write_text(
        "prompts: ['What is the capital of {{ country }}?']\n"
        "providers: [{id: 'replicate:meta/llama-2-7b-chat', config: {poll_interval: 0.02, wait: 0}}]\n"
        "tests:\n  - vars: {country: [France, Japan, Italy, Germany, Spain, Canada, Peru, Chile]}\n"
        "    assert: [{type: icontains, value: '{{ country }}'}]\n"
    )
    cases = expand(load_eval_file(suite_file))
    with Simulator(latency=0.1) as server:
        env = {"REPLICATE_BASE_URL": server.url, "REPLICATE_API_TOKEN": FAKE_TOKEN}
        recorder = EvalSession(Settings(record_mode="once"), env=env)
        with ThreadPoolExecutor(max_workers=8) as pool:
            results = list(pool.map(recorder.run, cases))
        recorder.close()
    assert all(r.passed for r in results), [r.error for r in results]
    assert recorder.stats.recorded >= 2 * len(cases)  # creates and polls

    replayer = EvalSession(Settings(record_mode="none"), env={})
    with ThreadPoolExecutor(max_workers=8) as pool:
        replayed = list(pool.map(replayer.run, cases))
    replayer.close()
    assert all(r.passed for r in replayed), [r.error for r in replayed]
    assert replayer.stats.missed == 0 and replayer.stats.replayed == recorder.stats.recorded
    countries = {case.vars["country"] for case in cases}
    for case in cases:  # every cassette holds its own item's exchanges only
        text = replayer.cassettes.path(case.suite.file, case.name).read_text()
        assert case.vars["country"] in text
        assert not [other for other in countries - {case.vars["country"]} if other in text]


def test_xdist_records_and_replays(pytester, write_eval, replicate_env, monkeypatch):
    pytest.importorskip("xdist")
    write_eval(llama())
    write_eval(llama().replace("France, Japan, Italy", "Germany, Spain, Canada"), "second.eval.yaml")
    first = pytester.runpytest("-p", "xdist", "-n", "4")
    first.assert_outcomes(passed=6)
    first.stdout.fnmatch_lines(["0 replayed, 6 recorded, 0 missed (record mode: once)"])
    assert len(cassette_files(pytester.path)) == 6
    offline(monkeypatch, replicate_env)
    second = pytester.runpytest("-p", "xdist", "-n", "4", "--record-mode=none")
    second.assert_outcomes(passed=6)
    second.stdout.fnmatch_lines(["6 replayed, 0 recorded, 0 missed (record mode: none)"])


def test_coexists_with_pytest_recording(pytester, write_eval, replicate_env, monkeypatch):
    pytest.importorskip("pytest_recording")
    write_eval(llama())
    pytester.makepyfile(test_user=f"""
        import httpx
        import pytest

        @pytest.mark.vcr
        def test_user_call():
            response = httpx.get("{replicate_env.url}/v1/predictions/unknown",
                                 headers={{"Authorization": "Bearer r8_user"}})
            assert response.status_code == 404
    """)
    result = pytester.runpytest("-p", "recording", "--record-mode=once")
    result.assert_outcomes(passed=4)
    user_cassette = pytester.path / "cassettes" / "test_user" / "test_user_call.yaml"
    assert user_cassette.exists()
    assert "capital" not in user_cassette.read_text()  # our calls did not land in it
    ours = "".join(p.read_text() for p in (pytester.path / "cassettes" / "suite.eval").glob("*.yaml"))
    assert "unknown" not in ours

    offline(monkeypatch, replicate_env)  # one --record-mode drives both plugins
    pytester.runpytest("-p", "recording", "--record-mode=none").assert_outcomes(passed=4)


def test_example_suite_replays_offline_under_ci(pytester, monkeypatch):
    """The README's first command: the bundled suite replays with CI=true and no token."""
    import shutil

    shutil.copytree(Path(__file__).parents[2] / "example_suite", pytester.path / "example_suite")
    for name in ("REPLICATE_API_TOKEN", "REPLICATE_API_KEY", "REPLICATE_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CI", "true")
    result = pytester.runpytest("example_suite")
    result.assert_outcomes(passed=24)  # 16 eval items (3 model-graded), 8 tests in test_with_fixtures.py
    result.stdout.fnmatch_lines(["* replayed, 0 recorded, 0 missed (record mode: none)"])


def test_failed_calls_are_not_saved(pytester, write_eval, replicate_env):
    from pytest_replicate.simulator import Fault

    replicate_env.add_fault(Fault("status", status=401))
    replicate_env.add_fault(Fault("fail"))
    write_eval(llama().replace("[France, Japan, Italy]", "[France, Japan]"))
    pytester.runpytest().assert_outcomes(failed=2)
    assert cassette_files(pytester.path) == []  # a replayed 401 would fail for good
    pytester.runpytest().assert_outcomes(passed=2)  # the next run calls the API again
    assert len(cassette_files(pytester.path)) == 2


def test_a_missing_poll_is_one_miss(pytester, write_eval, replicate_env, monkeypatch):
    replicate_env.latency = 0.1
    write_eval(llama().replace("poll_interval: 0.01", "poll_interval: 0.02, wait: 0"))
    pytester.runpytest("-k", "France").assert_outcomes(passed=1)
    (cassette,) = cassette_files(pytester.path)
    document = yaml.safe_load(cassette.read_text())
    document["interactions"][-1]["response"]["body"]["json"]["status"] = "processing"  # never finishes
    cassette.write_text(yaml.safe_dump(document))
    offline(monkeypatch, replicate_env)
    result = pytester.runpytest("-k", "France", "--record-mode=none")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*all * recorded responses for this request were already replayed*",
                                 "*, 0 recorded, 1 missed (record mode: none)"])


def test_record_mode_from_addopts_is_honoured_beside_pytest_recording(pytester, write_eval, monkeypatch):
    pytest.importorskip("pytest_recording")
    monkeypatch.delenv("REPLICATE_API_TOKEN", raising=False)
    pytester.makeini("[pytest]\naddopts = --record-mode=none\n")
    write_eval(llama())
    result = pytester.runpytest("-p", "recording", "-k", "France")
    result.stdout.fnmatch_lines(["*(record mode: none)*"])


def _changed_lines(before: Path, after: Path) -> list[str]:
    """The lines ``git diff`` shows changed between two versions of a cassette (``-`` and ``+`` lines)."""
    diff = subprocess.run(["git", "diff", "--no-index", "--unified=0", "--no-color", str(before), str(after)],
                          capture_output=True, text=True, check=False).stdout
    return [line for line in diff.splitlines() if line[:1] in "+-" and line[:3] not in ("+++", "---")]


def _numstat(before: Path, after: Path) -> tuple[int, int]:
    out = subprocess.run(["git", "diff", "--no-index", "--numstat", str(before), str(after)],
                         capture_output=True, text=True, check=False).stdout.split()
    return (int(out[0]), int(out[1])) if out else (0, 0)


@pytest.mark.parametrize("polled", [False, True], ids=["answered-at-once", "polled"])
def test_rerecording_identical_outputs_changes_one_line_and_a_new_output_only_its_own(
        pytester, write_eval, replicate_env, tmp_path, polled):
    from dataclasses import replace

    from pytest_replicate.simulator.catalogue import BUILTIN, CannedAnswer, Catalogue

    if polled:  # the create answers "starting" and the number of polls varies from run to run
        replicate_env.latency = 0.05
    write_eval(llama().replace("poll_interval: 0.01", "poll_interval: 0.005, wait: 0") if polled else llama())
    pytester.runpytest("--record-mode=rewrite").assert_outcomes(passed=3)
    first = tmp_path / "first"
    shutil.copytree(pytester.path / "cassettes", first)
    pytester.runpytest("--record-mode=rewrite").assert_outcomes(passed=3)
    for cassette in cassette_files(pytester.path):
        before = first / cassette.relative_to(pytester.path / "cassettes")
        assert _numstat(before, cassette) == (1, 1), _changed_lines(before, cassette)  # the volatile: line
        assert _changed_lines(before, cassette)[0].startswith("-volatile: {prediction-1: ")

    second = tmp_path / "second"
    shutil.copytree(pytester.path / "cassettes", second)
    llama2 = BUILTIN.models["meta/llama-2-7b-chat"]
    replicate_env.catalogue = BUILTIN.merged(Catalogue().add(
        [replace(llama2, answers=(CannedAnswer("Japan", "Its capital is Tokyo."), *llama2.answers))]))
    pytester.runpytest("--record-mode=rewrite").assert_outcomes(passed=3)
    for cassette in cassette_files(pytester.path):
        changed = _changed_lines(second / cassette.relative_to(pytester.path / "cassettes"), cassette)
        if "Japan" not in cassette.name:
            assert len(changed) == 2
            continue
        # Besides the volatile: line, only the output's tokens and what counts them.
        rest = [line for line in changed if not line[1:].startswith("volatile: ")]
        assert len(rest) == len(changed) - 2 and rest
        assert all(re.fullmatch(r"[-+] +(- '?[\w.]+ ?'?|output_token_count: \d+|Generated \d+ tokens)", line)
                   for line in rest), rest


def test_only_saved_exchanges_count_as_recorded(pytester, write_eval, replicate_env):
    from pytest_replicate.simulator import Fault

    replicate_env.add_fault(Fault("fail"))  # one case's prediction fails: its exchange is not saved
    write_eval(llama().replace("[France, Japan, Italy]", "[France, Japan]"))
    result = pytester.runpytest()
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["0 replayed, 1 recorded, 0 missed (record mode: once)"])
    assert len(cassette_files(pytester.path)) == 1
