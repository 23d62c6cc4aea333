"""The cassette library: one naming rule for eval items and test functions, claims, and a record of use."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest

from pytest_replicate.cassettes import library
from pytest_replicate.cassettes.cassette import CassetteStats, WritableFolders
from pytest_replicate.cassettes.library import CassetteLibrary, cassette_path
from pytest_replicate.errors import ConfigError
from pytest_replicate.pytest.replicate_session import cassette_path_for
from pytest_replicate.redaction import Redactor
from pytest_replicate.run.session import EvalSession
from pytest_replicate.run.settings import Settings
from pytest_replicate.suite.expand import expand
from pytest_replicate.suite.loader import load_eval_file


def make_library(record_mode: str = "once") -> CassetteLibrary:
    return CassetteLibrary("cassettes", record_mode, redactor=Redactor(), stats=CassetteStats(),
                           writable=WritableFolders())


def test_eval_items_and_test_functions_are_named_by_one_function(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    suite_file = tmp_path / "evals" / "qa.eval.yaml"
    suite_file.parent.mkdir()
    suite_file.write_text("prompts: ['{{ q }}']\nproviders: [echo]\ntests:\n  - vars: {q: hi}\n")
    case = expand(load_eval_file(suite_file))[0]
    module = tmp_path / "tests" / "test_models.py"
    node = SimpleNamespace(path=module, nodeid="tests/test_models.py::TestChat::test_hello")
    session = EvalSession(Settings(cassette_dir="tapes"), env={})

    asked = []
    rule = library.cassette_path
    monkeypatch.setattr(library, "cassette_path", lambda *args: asked.append(args) or rule(*args))
    item_path = session.cassettes.path(case.suite.file, case.name)
    test_path = cassette_path_for(node, "tapes")

    assert asked == [(suite_file, case.name, "tapes"), (module, "TestChat.test_hello", "tapes")]
    assert item_path.parent == tmp_path / "evals" / "tapes" / "qa.eval"
    assert test_path.parent == tmp_path / "tests" / "tapes" / "test_models"
    assert test_path.name.startswith("TestChat.test_hello.") and test_path.suffix == ".yaml"


def test_a_shared_cassette_sits_beside_the_modules_others(tmp_path: Path) -> None:
    node = SimpleNamespace(path=tmp_path / "test_m.py", nodeid="test_m.py::test_a")
    assert cassette_path_for(node, "cassettes", "shared") == tmp_path / "cassettes" / "test_m" / "shared.yaml"
    assert cassette_path(node.path, "test_a", "cassettes").parent == tmp_path / "cassettes" / "test_m"


def test_two_eval_files_cannot_claim_one_cassette(tmp_path: Path) -> None:
    cassettes = make_library()
    cassettes.claim(tmp_path / "a.eval.yaml", ["x", "y"])
    cassettes.claim(tmp_path / "a.eval.yaml", ["x"])  # the same file again (xdist re-collects): fine
    cassettes.claim(tmp_path / "a.eval.yml", ["z"])
    with pytest.raises(ConfigError, match="would share its cassette"):
        cassettes.claim(tmp_path / "a.eval.yml", ["y"])


def _exchange(cassette, path: str) -> None:
    network = httpx.MockTransport(lambda request: httpx.Response(200, json={"path": request.url.path}))
    cassette.exchange(httpx.Request("GET", f"https://api.replicate.com{path}"), network)


def test_the_library_records_which_cassettes_and_interactions_were_used(tmp_path: Path) -> None:
    path = tmp_path / "cassettes" / "suite" / "case.yaml"
    recorder = make_library()
    cassette = recorder.open(path, "suite.eval.yaml::case")
    _exchange(cassette, "/v1/one")
    _exchange(cassette, "/v1/two")
    recorder.done(cassette, save=True)
    assert [(u.path, u.interactions, u.played, u.recorded) for u in recorder.used()] == [(str(path), 2, frozenset(), 2)]

    replayer = make_library("none")
    cassette = replayer.open(path, "suite.eval.yaml::case")
    _exchange(cassette, "/v1/two")
    untouched = replayer.open(tmp_path / "cassettes" / "suite" / "other.yaml", "suite.eval.yaml::other")
    assert [(u.path, u.played) for u in replayer.used()] == [(str(path), {1}), (str(untouched.path), frozenset())]
    replayer.done(cassette, save=False)
    replayer.done(untouched, save=False)
    uses = replayer.used()
    assert [(u.path, u.interactions, u.played, u.recorded) for u in uses] == [
        (str(path), 2, frozenset({1}), 0), (str(untouched.path), 0, frozenset(), 0)]
