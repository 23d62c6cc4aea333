"""Which cassette files no test opens, which interactions no test replayed, and pruning: on
hand-made folders, without pytest (the end-to-end tests run the real thing)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_replicate.cassettes.cassette import cassette_file_name
from pytest_replicate.cassettes.library import CassetteUse, cassette_path, name_in_source
from pytest_replicate.cassettes.names import OUR_CASSETTE_NAME
from pytest_replicate.cassettes.stale import find_stale, prune, sidecars
from pytest_replicate.report.model import build_report
from pytest_replicate.report.terminal import plain_text, summary_sections

RUN = {"record_mode": "none", "exchanges": {"replayed": 0, "recorded": 0, "missed": 0}, "throttled": 0,
       "slowed_to": None, "peak_concurrency": 0, "versions": {}}


@pytest.mark.parametrize("name", ["greets[p-echo]", "Cls::test_a[x]", "ünïcode / slashes", ""])
def test_our_pattern_matches_every_name_the_library_gives(name: str) -> None:
    assert OUR_CASSETTE_NAME.fullmatch(cassette_file_name(name))


@pytest.mark.parametrize("name", ["test_x.yaml", "test_a[1].yaml", "shared.yaml", "a.0123abcd.yml", "a.0123ABCD.yaml",
                                  "a.0123abcd.0a1b2c3d.png"])
def test_other_names_are_not_ours(name: str) -> None:
    assert not OUR_CASSETTE_NAME.fullmatch(name)


def test_name_in_source_is_the_node_id_within_the_file() -> None:
    assert name_in_source("sub/test_a.py::Cls::test_b[x]") == "Cls.test_b[x]"
    assert name_in_source("a.eval.yaml::greets[p-echo]") == "greets[p-echo]"


def test_a_use_travels_as_plain_data() -> None:
    use = CassetteUse("/c/a.0123abcd.yaml", 3, frozenset({0, 2}), 1)
    assert CassetteUse.from_dict(use.as_dict()) == use


def write(path: Path, text: str = "interactions: []\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_unused_cassettes_are_ours_not_expected_and_in_a_folder_the_run_used(tmp_path: Path) -> None:
    source = write(tmp_path / "a.eval.yaml")
    kept = write(cassette_path(source, "kept", "cassettes"))
    skipped = write(cassette_path(source, "skipped", "cassettes"))  # collected, not run: its cassette stays
    gone = write(cassette_path(source, "renamed away", "cassettes"))
    shared = write(kept.with_name("shared.yaml"))  # named by a marker: not ours to judge
    write(kept.with_name("test_x.yaml"))  # pytest-recording's
    sidecar = write(gone.with_name(f"{gone.stem}.0a1b2c3d.png"))
    idle = write(tmp_path / "b.eval.yaml")
    idle_cassette = write(cassette_path(idle, "old", "cassettes"))  # its folder saw no use this run

    stale = find_stale([(source, "kept"), (source, "skipped"), (idle, "new")],
                       [CassetteUse(str(kept), 1, frozenset({0}), 0), CassetteUse(str(shared), 1, frozenset({0}), 0)], "cassettes")
    assert stale.unused == [gone]
    assert stale.unplayed == {}
    assert sidecars(gone) == [sidecar]
    assert prune(stale.unused) == [gone, sidecar]
    assert [path.exists() for path in (gone, sidecar, kept, skipped, shared, idle_cassette)] == [
        False, False, True, True, True, True]


def test_unplayed_interactions_of_cassettes_replayed_from(tmp_path: Path) -> None:
    shared, recorded, full = (tmp_path / f"{name}.0123abcd.yaml" for name in ("shared", "recorded", "full"))
    stale = find_stale([], [CassetteUse(str(shared), 4, frozenset({0}), 0), CassetteUse(str(shared), 4, frozenset({2}), 0),
                            CassetteUse(str(recorded), 3, frozenset({0}), 1), CassetteUse(str(full), 2, frozenset({0, 1}), 0)],
                       "cassettes")
    assert stale.unplayed == {shared: [1, 3]}  # played by either test counts; a test that recorded is left out
    assert stale.as_dict() == {"unused": [], "unplayed": {str(shared): [1, 3]}, "pruned": []}


def test_the_terminal_lists_unused_pruned_and_unplayed() -> None:
    stale = {"unused": ["/x/a.0123abcd.yaml", "/x/b.0123abcd.yaml"], "pruned": ["/x/a.0123abcd.yaml"],
             "unplayed": {"/x/c.0123abcd.yaml": [1]}}
    sections = summary_sections(build_report([], run=RUN, stale=stale), width=80, verbosity=-1)
    assert [section.title for section in sections] == ["replicate stale cassettes"]
    assert [plain_text(line) for line in sections[0].lines] == [
        "1 cassette no test opens (--replicate-prune deletes them):", "  /x/b.0123abcd.yaml",
        "deleted 1 unused file (--replicate-prune):", "  /x/a.0123abcd.yaml",
        "1 cassette with interactions no test replayed:", "  /x/c.0123abcd.yaml: interaction index 1"]


def test_nothing_stale_shows_nothing() -> None:
    stale = {"unused": [], "pruned": [], "unplayed": {}}
    assert summary_sections(build_report([], run=RUN, stale=stale), width=80, verbosity=0) == []


@pytest.mark.parametrize("directory", ["cassettes", "/ABSOLUTE", "../shared"])
def test_a_folder_that_files_not_collected_may_share_is_not_looked_in(tmp_path: Path, directory: str) -> None:
    """``a.eval.yml`` beside ``a.eval.yaml`` names its cassettes into the same folder, as does any
    eval file named alike with an absolute or ``..`` cassette dir."""
    directory = directory.replace("/ABSOLUTE", str(tmp_path / "all"))
    source = write(tmp_path / "evals" / "a.eval.yaml")
    if directory == "cassettes":
        write(source.with_name("a.eval.yml"))  # not collected in this run
    kept = write(cassette_path(source, "kept", directory))
    other = write(cassette_path(source, "the other file's", directory))
    stale = find_stale([(source, "kept")], [CassetteUse(str(kept), 1, frozenset({0}), 0)], directory)
    assert stale.unused == [] and other.exists()
