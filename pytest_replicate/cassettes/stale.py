"""Cassettes no test opens any more, and recorded interactions no test replays, as syrupy
reports unused snapshots: a renamed test or eval case otherwise leaves its old cassette
behind, silently.

Judged only after a run in which every collected test ran (the caller decides that), from
the collected tests' node ids and the cassettes the session used (an xdist controller has its
workers' uses too). A cassette folder (``<source folder>/<cassette dir>/<source stem>/``) is
looked in only when this run used a cassette in it, so a module whose tests no longer use the
fixtures, or an eval file whose items were all skipped, is left alone. In it, only files named
as the library names cassettes count: a pytest-recording ``<test name>.yaml`` or a file the
user named never does. A file whose name starts with a cassette's stem and a dot (an image
saved beside it) belongs to that cassette and is deleted with it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .library import OUR_CASSETTE_NAME, CassetteUse, cassette_folder, cassette_path


@dataclass(frozen=True)
class StaleCassettes:
    unused: list[Path]  # our cassette files that no collected test would open
    unplayed: dict[Path, list[int]]  # a cassette replayed from (nothing recorded) -> interactions never played

    def as_dict(self, pruned: Iterable[Path] = ()) -> dict[str, Any]:
        """The report document's ``stale``: ``pruned`` lists the files deleted (sidecars included)."""
        return {"unused": [str(path) for path in self.unused],
                "unplayed": {str(path): indices for path, indices in self.unplayed.items()},
                "pruned": [str(path) for path in pruned]}


def find_stale(tests: Iterable[tuple[Path, str]], uses: Iterable[CassetteUse], directory: str) -> StaleCassettes:
    """``tests``: (source file, name in the naming rule) of every collected test; ``uses``: every
    cassette the run opened; ``directory``: the cassette folder setting."""
    tests = list(tests)
    expected = {_located(cassette_path(source, name, directory)) for source, name in tests}
    uses_by_path = _merged(uses)
    folders = {cassette_folder(source, directory).resolve() for source, _ in tests}
    looked_in = folders & {path.parent for path in uses_by_path}
    known = expected | uses_by_path.keys()
    unused = sorted(path for folder in looked_in for path in _cassette_files(folder) if path not in known)
    unplayed = {}
    for path, use in sorted(uses_by_path.items()):
        never = sorted(set(range(use.interactions)) - use.played)
        if never and not use.recorded:  # a test that recorded made its cassette: nothing in it is left over
            unplayed[path] = never
    return StaleCassettes(unused, unplayed)


def prune(cassettes: Iterable[Path]) -> list[Path]:
    """Delete ``cassettes`` and their sidecars; the files deleted (one that cannot be is left, and
    still reported unused)."""
    deleted = []
    for cassette in cassettes:
        for path in [cassette, *sidecars(cassette)]:
            try:
                path.unlink()
            except OSError:
                continue
            deleted.append(path)
    return deleted


def sidecars(cassette: Path) -> list[Path]:
    """Files beside ``cassette`` named ``<its stem>.<anything>`` that are not cassettes themselves."""
    prefix = cassette.stem + "."
    try:
        return sorted(path for path in cassette.parent.iterdir() if path.name.startswith(prefix)
                      and path != cassette and not OUR_CASSETTE_NAME.fullmatch(path.name) and path.is_file())
    except OSError:
        return []


def _merged(uses: Iterable[CassetteUse]) -> dict[Path, CassetteUse]:
    """One use per file: a cassette several tests share was played by all of them."""
    merged: dict[Path, CassetteUse] = {}
    for use in uses:
        path = _located(use.path)
        seen = merged.get(path)
        merged[path] = use if seen is None else CassetteUse(
            path, max(seen.interactions, use.interactions), seen.played | use.played, seen.recorded + use.recorded)
    return merged


def _located(path: Path) -> Path:
    """``path`` with its folder resolved, so paths compare; the file itself, if a link, stays the link."""
    return path.parent.resolve() / path.name


def _cassette_files(folder: Path) -> list[Path]:
    """Files in ``folder`` named as the library names cassettes (none if it cannot be read)."""
    try:
        return [path for path in folder.iterdir() if OUR_CASSETTE_NAME.fullmatch(path.name) and path.is_file()]
    except OSError:
        return []
