"""Stale cassettes: files no test opens any more (a renamed item's) and interactions no test
replays, reported after a complete run only, and pruned with ``--replicate-prune``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

EVAL = """
prompts: [{raw: "PROMPT {{ country }}?", label: capital}]
providers:
  - id: replicate:meta/llama-2-7b-chat
    config: {poll_interval: 0.01}
tests:
  - description: FIRST
    vars: {country: France}
    assert: [{type: icontains, value: EXPECTED}]
  - description: second
    vars: {country: Japan}
"""


def eval_text(first: str = "first", prompt: str = "What is the capital of", expected: str = "capital") -> str:
    return EVAL.replace("FIRST", first).replace("PROMPT", prompt).replace("EXPECTED", expected)


def folder(pytester: pytest.Pytester) -> Path:
    return pytester.path / "cassettes" / "suite.eval"


def cassettes(pytester: pytest.Pytester) -> dict[str, Path]:
    """The eval file's cassettes by the description their item starts with."""
    return {path.name.split("_", 1)[0]: path for path in folder(pytester).glob("*.yaml")}


def stale_of(pytester: pytest.Pytester, report: str = "report.json") -> dict | None:
    return json.loads((pytester.path / report).read_text())["stale"]


@pytest.fixture
def renamed(pytester, write_eval, replicate_env, monkeypatch) -> Path:
    """Two items recorded against the simulator, then the first renamed (and recorded): its old
    cassette is unused. Later runs replay offline; returns the old cassette."""
    write_eval(eval_text())
    pytester.runpytest().assert_outcomes(passed=2)
    old = cassettes(pytester)["first"]
    write_eval(eval_text(first="renamed"))
    pytester.runpytest().assert_outcomes(passed=2)
    assert set(cassettes(pytester)) == {"first", "second", "renamed"}
    monkeypatch.delenv("REPLICATE_API_TOKEN")
    replicate_env.stop()
    monkeypatch.setenv("CI", "true")  # record mode none: replay only
    return old


def test_a_full_replay_run_lists_the_renamed_items_cassette(pytester, renamed):
    result = pytester.runpytest("--replicate-json=report.json")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*replicate stale cassettes*", "1 cassette no test opens (--replicate-prune deletes them):",
                                 f"  cassettes/suite.eval/{renamed.name}"])
    assert stale_of(pytester) == {"unused": [str(renamed)], "unplayed": {}, "pruned": []}
    assert renamed.exists()


@pytest.mark.parametrize("narrowing", [("-k", "second"), ("suite.eval.yaml::second[capital-replicate:meta/llama-2-7b-chat]",),
                                       ("--deselect", "suite.eval.yaml::second[capital-replicate:meta/llama-2-7b-chat]")],
                         ids=["-k", "node id", "--deselect"])
def test_a_partial_run_lists_nothing(pytester, renamed, narrowing):
    result = pytester.runpytest("--replicate-json=report.json", *narrowing)
    result.assert_outcomes(passed=1)
    result.stdout.no_fnmatch_line("*stale*")
    assert stale_of(pytester) is None


def test_prune_deletes_exactly_the_unused_cassette_and_its_sidecar(pytester, renamed):
    sidecar = renamed.with_name(f"{renamed.stem}.0123abcd.png")
    sidecar.write_bytes(b"\x89PNG")
    recording = folder(pytester) / "test_x.yaml"  # pytest-recording's name for a test function's cassette
    unrelated = folder(pytester) / "notes.txt"
    for path in (recording, unrelated):
        path.write_text("interactions: []\n")
    kept = sorted(cassettes(pytester).values())
    kept.remove(renamed)

    result = pytester.runpytest("--replicate-prune", "--replicate-json=report.json")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*replicate stale cassettes*", "deleted 2 unused files (--replicate-prune):",
                                 f"  cassettes/suite.eval/{renamed.name}", f"  cassettes/suite.eval/{sidecar.name}"])
    assert not renamed.exists() and not sidecar.exists()
    assert all(path.exists() for path in [*kept, recording, unrelated])
    assert stale_of(pytester) == {"unused": [str(renamed)], "unplayed": {}, "pruned": [str(renamed), str(sidecar)]}

    again = pytester.runpytest("--replicate-prune")
    again.assert_outcomes(passed=2)
    again.stdout.no_fnmatch_line("*stale*")


def test_prune_on_a_partial_run_deletes_nothing_and_says_why(pytester, renamed):
    result = pytester.runpytest("--replicate-prune", "-k", "second")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*replicate stale cassettes*", "--replicate-prune deleted nothing: not every collected test ran *"])
    assert renamed.exists()


def test_a_run_stopped_early_prunes_nothing(pytester, write_eval, renamed):
    write_eval(eval_text(first="renamed", expected="no such words"))  # the first item fails: -x stops there
    result = pytester.runpytest("--replicate-prune", "-x")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["--replicate-prune deleted nothing*"])
    assert renamed.exists()


def test_under_xdist_the_controller_lists_the_same(pytester, renamed):
    pytest.importorskip("xdist")
    result = pytester.runpytest("-p", "xdist", "-n", "2", "--replicate-json=report.json")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*replicate stale cassettes*", f"  cassettes/suite.eval/{renamed.name}"])
    assert stale_of(pytester) == {"unused": [str(renamed)], "unplayed": {}, "pruned": []}


def test_under_xdist_a_deselecting_plugin_makes_the_run_partial(pytester, renamed):
    """Workers deselect, so the controller hears of it from them (no option shows it)."""
    pytest.importorskip("xdist")
    pytester.makeconftest("""
        def pytest_collection_modifyitems(config, items):
            dropped = [item for item in items if "second" in item.nodeid]
            items[:] = [item for item in items if item not in dropped]
            config.hook.pytest_deselected(items=dropped)
    """)
    result = pytester.runpytest("-p", "xdist", "-n", "2", "--replicate-prune")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["--replicate-prune deleted nothing*"])
    assert renamed.exists()


def test_an_interaction_never_played_is_listed(pytester, write_eval, replicate_env, monkeypatch):
    """The same item asks something else (its prompt changed, its name did not): recorded as a new
    episode, the cassette holds both exchanges, and replay plays only the new one."""
    write_eval(eval_text())
    pytester.runpytest().assert_outcomes(passed=2)
    write_eval(eval_text(prompt="Name the capital of"))
    pytester.runpytest("--record-mode=new_episodes").assert_outcomes(passed=2)
    monkeypatch.delenv("REPLICATE_API_TOKEN")
    replicate_env.stop()
    result = pytester.runpytest("--record-mode=none", "--replicate-json=report.json")
    result.assert_outcomes(passed=2)
    stale = stale_of(pytester)
    assert stale is not None and stale["unused"] == []
    first, second = cassettes(pytester)["first"], cassettes(pytester)["second"]
    assert set(stale["unplayed"]) == {str(first), str(second)}
    assert all(indices and 0 in indices for indices in stale["unplayed"].values())
    result.stdout.fnmatch_lines(["*replicate stale cassettes*", "2 cassettes with interactions no test replayed:",
                                 f"  cassettes/suite.eval/{first.name}: interaction ind*"])


def test_a_collection_error_prunes_nothing(pytester, write_eval, renamed):
    write_eval("prompts: [", "broken.eval.yaml")
    result = pytester.runpytest("--replicate-prune", "--continue-on-collection-errors")
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(["--replicate-prune deleted nothing*"])
    assert renamed.exists()


def test_fixture_cassettes_of_a_renamed_test_are_listed(pytester, replicate_env):
    """Test functions using the fixtures name their cassettes by the same rule, under their module's folder."""
    test = """
        def test_NAME(replicate_provider):
            assert replicate_provider("replicate:meta/llama-2-7b-chat")("Hi").output
    """
    pytester.makepyfile(test_calls=test.replace("NAME", "old"))
    pytester.runpytest().assert_outcomes(passed=1)
    pytester.makepyfile(test_calls=test.replace("NAME", "new"))
    (pytester.path / "cassettes" / "test_calls" / "test_old.yaml").write_text("interactions: []\n")  # pytest-recording's
    result = pytester.runpytest("--replicate-prune")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["deleted 1 unused file (--replicate-prune):", "  cassettes/test_calls/test_old.*.yaml"])
    assert sorted(path.name.split(".")[0] for path in (pytester.path / "cassettes" / "test_calls").iterdir()) == [
        "test_new", "test_old"]
