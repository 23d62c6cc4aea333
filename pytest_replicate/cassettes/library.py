"""The session's cassettes: where each lives, which eval file owns it, opening it, and what was used.

One naming rule serves eval items and test functions alike, in the way pytest-recording
names cassettes after the test's module: ``<folder of the source file>/<cassette dir>/
<source file name without its extension>/<test name>.<hash>.yaml``. The source is the
eval file for an eval item (the test name is the case's) and the test module for a test
function (the test name is its node id within the module).

The library also notes every cassette opened in this session and, once its test is done,
which of its recorded interactions were replayed: the ground for the report of cassettes (or
interactions) that no test uses any more (``stale.py``), as syrupy reports unused snapshots.
"""

from __future__ import annotations

import shlex
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from ..errors import ConfigError, display_path
from ..redaction import Redactor
from .cassette import Cassette, CassetteStats, WritableFolders, cassette_file_name


def name_in_source(nodeid: str) -> str:
    """A test's name in the naming rule: its node id within its source file, ``::`` read as ``.``
    (an eval item's is its case's name, which never holds ``::``)."""
    return nodeid.split("::", 1)[-1].replace("::", ".")


@lru_cache(maxsize=1024)  # asked for each of a file's cases, at collection and again at the end
def cassette_folder(source: Path, directory: str) -> Path:
    """``<folder of source>/<directory>/<source name without extension>``: a source file's cassettes."""
    return source.parent / directory / source.stem


def cassette_path(source: Path, test_name: str, directory: str) -> Path:
    """The cassette of the test ``test_name`` defined in ``source`` (see the module docstring)."""
    return cassette_folder(source, directory) / cassette_file_name(test_name)


def shared_cassette_path(source: Path, name: str, directory: str) -> Path:
    """A cassette named by the user (``@pytest.mark.replicate(cassette=...)``), beside ``source``'s others."""
    return cassette_folder(source, directory) / (name if Path(name).suffix in (".yaml", ".yml") else f"{name}.yaml")


@dataclass(frozen=True, slots=True)  # one per test until the run ends: no __dict__ each
class CassetteUse:
    """How a test used one cassette: the interactions it held and which of them were replayed."""

    path: str  # the cassette file: as text, since a Path per test kept to the end costs 500 bytes more
    interactions: int  # in the cassette when its test was done: the file's plus those recorded
    played: frozenset[int]  # indices of the interactions replayed
    recorded: int  # interactions recorded live (the last ones)

    def as_dict(self) -> dict[str, Any]:
        """Plain data, as an xdist worker sends it to the controller."""
        return {"path": self.path, "interactions": self.interactions, "played": sorted(self.played),
                "recorded": self.recorded}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CassetteUse:
        return cls(str(data["path"]), int(data["interactions"]), frozenset(data["played"]), int(data["recorded"]))


class CassetteLibrary:
    """Every cassette of the session: paths, claims, opening, and a record of use."""

    def __init__(self, directory: str, record_mode: str, *, redactor: Redactor, stats: CassetteStats,
                 writable: WritableFolders, record_hint: str = "") -> None:
        self.directory = directory  # relative to each eval file's (or test module's) folder
        self.record_mode = record_mode
        self.redactor = redactor
        self.stats = stats
        self.record_hint = record_hint  # printed before ``pytest`` in the command that records a cassette
        self.writable = writable  # cassette folders probed once per session
        self._claims: dict[Path, dict[Path, list[str]]] = {}  # cassette folder -> eval file -> its items' names
        self._open: dict[int, Cassette] = {}  # by id(): a test's cassette until its test is done
        self._used: list[CassetteUse] = []
        self._lock = threading.Lock()

    def path(self, source: Path, test_name: str) -> Path:
        return cassette_path(source, test_name, self.directory)

    def claim(self, file: Path, test_names: Iterable[str]) -> None:
        """Note the cassettes of ``file``'s items; a ConfigError if another eval file's item has one.

        Cassette folders are named after the eval file without its extension, so ``a.eval.yaml``
        and ``a.eval.yml`` (or an absolute ``replicate_cassette_dir``) can give two items one
        cassette, and each recording would replace the other's. Only the names are kept (the
        items hold them anyway); cassette file names are worked out only for a folder that
        several eval files share.
        """
        folder = cassette_folder(file, self.directory)
        names = list(test_names)
        with self._lock:
            claims = self._claims.setdefault(folder, {})
            others = [(owner, claimed) for owner, claimed in claims.items() if owner != file]
            claims.setdefault(file, []).extend(names)
            if not others:
                return
            for owner, claimed in others:
                taken = {cassette_file_name(name) for name in claimed}
                for name in names:
                    file_name = cassette_file_name(name)
                    if file_name in taken:
                        raise ConfigError(
                            f"the item {name!r} would share its cassette {display_path(folder / file_name)} with the "
                            f"same-named item of {display_path(owner)}, and each recording would replace the other's",
                            file=file, hint="rename one of the two eval files (a cassette folder is named after its "
                                            "eval file without the extension)")

    def open(self, path: Path, rerun_hint: str, record_mode: str | None = None,
             stats: CassetteStats | None = None) -> Cassette:
        """The cassette at ``path``; ``rerun_hint`` names the test. A test function's marker may
        choose ``record_mode``; otherwise the session's applies. Its exchanges count in ``stats``
        (one case's, which count in the session's too) or the session's."""
        cassette = Cassette(path, record_mode or self.record_mode, redactor=self.redactor,
                            rerun_hint=shlex.quote(rerun_hint), record_hint=self.record_hint,
                            stats=stats or self.stats, writable=self.writable)
        with self._lock:
            self._open[id(cassette)] = cassette
        return cassette

    def done(self, cassette: Cassette, *, save: bool) -> None:
        """``cassette``'s test is done: note what it used, then save it if ``save``.

        Raises :class:`CassetteError` if saving fails (a folder that broke since it was
        probed, a full disk).
        """
        use = _use(cassette)
        with self._lock:
            self._open.pop(id(cassette), None)
            self._used.append(use)
        if save:
            cassette.save()

    def add_used(self, uses: Iterable[CassetteUse]) -> None:
        """Cassettes another process used (an xdist worker's, on the controller): part of :meth:`used` from now on."""
        with self._lock:
            self._used.extend(uses)

    def used(self) -> list[CassetteUse]:
        """Every cassette opened this session, in the order their tests were done (open ones last)."""
        with self._lock:
            still_open = list(self._open.values())
            return [*self._used, *map(_use, still_open)]


def _use(cassette: Cassette) -> CassetteUse:
    count, played = cassette.interaction_count, cassette.played
    if len(played) == count:  # every interaction played, as in most replays: one shared set, not one per test
        played = _every(count)
    return CassetteUse(str(cassette.path), count, played, cassette.recorded)


@lru_cache(maxsize=64)
def _every(count: int) -> frozenset[int]:
    """The indices of all ``count`` interactions of a cassette."""
    return frozenset(range(count))
