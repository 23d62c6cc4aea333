"""Cassettes no test opens any more, and recorded interactions no test replays, as syrupy
reports unused snapshots: a renamed test or eval case otherwise leaves its old cassette
behind, silently.

Judged only after a run in which every collected test ran (the caller decides that), from
the collected tests' node ids and the cassettes the session used (an xdist controller has its
workers' uses too). A cassette folder (``<source folder>/<cassette dir>/<source stem>/``) is
looked in only when this run used a cassette in it, so a module whose tests no longer use the
fixtures is left alone, and only when no file the run did not collect can keep cassettes there
too (see ``_own_folders`` and ``_shared``). In it, only files named as the library names
cassettes count: a pytest-recording ``<test name>.yaml`` or a file the user named never does. A file whose name starts with a cassette's stem and a dot (an image
saved beside it) belongs to that cassette and is deleted with it.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .cassette import cassette_file_name
from .library import CassetteUse, cassette_folder
from .names import OUR_CASSETTE_NAME


@dataclass(frozen=True)
class StaleCassettes:
    unused: list[Path]  # our cassette files that no collected test would open
    unplayed: dict[Path, list[int]]  # a cassette replayed from (nothing recorded) -> interactions never played

    def as_dict(self, pruned: Iterable[Path] = ()) -> dict[str, Any]:
        """The report document's ``stale``: ``pruned`` lists the files deleted (sidecars included)."""
        return {"unused": [str(path) for path in self.unused],
                "unplayed": {str(path): indices for path, indices in self.unplayed.items()},
                "pruned": [str(path) for path in pruned]}


def find_stale(tests: Sequence[tuple[Path, str]], uses: Iterable[CassetteUse], directory: str) -> StaleCassettes:
    """``tests``: (source file, name in the naming rule) of every collected test; ``uses``: every
    cassette the run opened; ``directory``: the cassette folder setting.

    Paths are text here, and the tests' cassette names are worked out only for a folder holding
    files that no test of the run used: at the end of a run of 10,000 tests, Paths and names for
    them all would take 10 MB for a moment."""
    located = _Locator()
    uses_by_path = _merged(uses, located)
    sources: dict[Path, set[Path]] = {}  # cassette folder -> the collected files whose cassettes it holds
    for source, _ in tests:
        sources.setdefault(located.folder(cassette_folder(source, directory)), set()).add(source)
    used_folders = {Path(folder) for folder in {os.path.dirname(path) for path in uses_by_path}}
    looked_in = [folder for folder, owners in sources.items()
                 if folder in used_folders and not _shared(owners)] if _own_folders(directory) else []
    unused: list[Path] = []
    for folder in looked_in:
        unopened = [name for name in _cassette_files(folder) if os.path.join(folder, name) not in uses_by_path]
        if unopened:
            expected = {cassette_file_name(name) for source, name in tests
                        if located.folder(cassette_folder(source, directory)) == folder}
            unused.extend(folder / name for name in unopened if name not in expected)
    unused.sort()
    unplayed = []
    for path, use in uses_by_path.items():
        never = sorted(set(range(use.interactions)) - use.played)
        if never and not use.recorded:  # a test that recorded made its cassette: nothing in it is left over
            unplayed.append((Path(path), never))
    return StaleCassettes(unused, dict(sorted(unplayed)))


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


def _merged(uses: Iterable[CassetteUse], located: _Locator) -> dict[str, CassetteUse]:
    """One use per file: a cassette several tests share was played by all of them."""
    merged: dict[str, CassetteUse] = {}
    for use in uses:
        path = located(use.path)
        seen = merged.get(path)
        merged[path] = use if seen is None else CassetteUse(
            path, max(seen.interactions, use.interactions), seen.played | use.played, seen.recorded + use.recorded)
    return merged


def _own_folders(directory: str) -> bool:
    """Whether each source file's cassette folder is its own: not with an absolute or ``..``
    cassette dir, where files this run did not collect may keep cassettes in the same folder."""
    return not Path(directory).is_absolute() and ".." not in Path(directory).parts


def _shared(owners: set[Path]) -> bool:
    """Whether a file beside ``owners``, named like one of them with another extension
    (``a.eval.yml`` beside ``a.eval.yaml``), may keep cassettes in their folder: it was not collected."""
    return any(other not in owners and other.is_file()
               for source in owners for other in source.parent.glob(glob.escape(source.stem) + ".*"))


class _Locator:
    """Paths with their folder resolved, so they compare (the file itself, if a link, stays the
    link); each folder resolved once, as thousands of tests share a few folders."""

    def __init__(self) -> None:
        self._folders: dict[Path, Path] = {}
        self._texts: dict[str, str] = {}  # a folder as text -> resolved, as text

    def folder(self, folder: Path) -> Path:
        if folder not in self._folders:
            self._folders[folder] = folder.resolve()
        return self._folders[folder]

    def __call__(self, path: str) -> str:
        """``path`` (text) with its folder resolved, as text (``path`` itself if it was)."""
        parent, name = os.path.split(path)
        if parent not in self._texts:
            self._texts[parent] = str(self.folder(Path(parent)))
        resolved = self._texts[parent]
        return path if resolved == parent else os.path.join(resolved, name)


def _cassette_files(folder: Path) -> Iterator[str]:
    """The names of the files in ``folder`` named as the library names cassettes (none if it cannot be read)."""
    try:
        with os.scandir(folder) as entries:
            for entry in entries:
                if OUR_CASSETTE_NAME.fullmatch(entry.name) and entry.is_file():
                    yield entry.name
    except OSError:
        return
