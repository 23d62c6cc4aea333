"""Record and replay every HTTP exchange of one test (an eval item or a test function) with vcrpy.

vcrpy's ``use_cassette`` patches HTTP libraries globally, which loses or misroutes
requests when several cassettes are active from worker threads. Instead each test gets
its own vcrpy ``Cassette`` object (vcrpy's format, record modes, matchers, filters and
persister API) and its requests carry that cassette to ``CassetteTransport``, a layer in
our own httpx client. Nothing global is patched, so concurrent calls, pytest-xdist and a
user's own vcrpy or pytest-recording cassettes do not interfere.

Only vcrpy's public API is used: a cassette is opened and saved by vcrpy's own context
manager (``Cassette.use``) with every patcher skipped, so entering it loads the file and
leaving it saves it (through :class:`AtomicPersister`), and nothing else happens. vcrpy itself
is imported when a cassette first needs it (``vcrpy.py``); a rewrite's cassette, which never
reads its file, makes vcrpy's object only when its first answer is recorded.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
import tempfile
import threading
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from ..atomic import sweep_leftovers, write_atomically
from ..errors import CassetteError, display_path
from ..http.extensions import CASSETTE, REPLAYED, when_written
from ..redaction import Redactor
from . import serializer as cassette_format
from . import sidecars, vcrpy
from .record_modes import RECORD_MODES

if TYPE_CHECKING:
    from vcr.cassette import Cassette as VcrCassette
    from vcr.request import Request as VcrRequest


@lru_cache(maxsize=1)
def match_on() -> tuple[Any, ...]:
    """vcrpy's matchers a request is matched by. The prediction API is the same whichever host
    served it (Replicate or the simulator), so the host is not matched; the JSON body is
    compared parsed, so key order is irrelevant."""
    vcrpy.ensure()
    from vcr import matchers

    return (matchers.method, matchers.path, matchers.query, matchers.body)


# Request headers worth keeping: the body matcher reads content-type. An allow-list keeps
# Authorization (and any header added later) out of cassettes, and their diffs quiet.
_RECORDED_REQUEST_HEADERS = ("content-type", "prefer")
# Recorded bodies are stored decoded, so these would describe the wrong bytes on replay.
_DROPPED_RESPONSE_HEADERS = {"content-encoding", "transfer-encoding", "content-length", "connection"}


class AtomicPersister:
    """vcrpy persister that never leaves a half-written cassette and reports corrupt ones.

    Binary bodies go to sidecar files (``sidecars.py``), written before the YAML that refers
    to them; the YAML is written whole or not at all.
    """

    @staticmethod
    def load_cassette(cassette_path: str | Path, serializer: Any) -> Any:
        vcrpy.ensure()
        from vcr.persisters.filesystem import CassetteNotFoundError
        from vcr.serialize import deserialize

        path = Path(cassette_path)
        if not path.is_file():
            raise CassetteNotFoundError()
        try:
            text = path.read_text(encoding="utf-8")
            if not text.strip():
                raise CassetteNotFoundError()
            requests, responses, *metadata = deserialize(text, serializer)
        except CassetteNotFoundError:
            raise
        except Exception as error:  # any parse failure means the file cannot be trusted
            raise CassetteError(
                f"cassette {path} is corrupt ({type(error).__name__}: {str(error).splitlines()[0]}); "
                "delete it or re-record it with --record-mode=rewrite"
            ) from None
        return requests, sidecars.internalise(path, responses), *metadata

    @staticmethod
    def save_cassette(cassette_path: str | Path, cassette_dict: dict[str, Any], serializer: Any, *,
                      folders: WritableFolders | None = None) -> None:
        """Save; ``folders``, the session's knowledge of its cassette folders, spares listing a
        folder for stale sidecars where none can be (listing a folder of 1,000 cassettes per save
        would make recording them quadratic)."""
        vcrpy.ensure()
        from vcr.serialize import serialize

        path = Path(cassette_path)
        responses = sidecars.externalise(path, cassette_dict["responses"])
        data = serialize({**cassette_dict, "responses": responses}, serializer)
        write_atomically(path, data.encode("utf-8"))
        if sidecars.refers_to_sidecars(responses):
            if folders is not None:
                folders.holds_sidecars(path.parent)
        elif folders is not None and not folders.may_hold_sidecars(path.parent):
            return
        sidecars.remove_stale(path, responses)


class RewritePersister(AtomicPersister):
    """For ``--record-mode=rewrite``: the old file is never read (a corrupt one is just replaced)."""

    @staticmethod
    def load_cassette(cassette_path: str | Path, serializer: Any) -> Any:
        vcrpy.ensure()
        from vcr.persisters.filesystem import CassetteNotFoundError

        raise CassetteNotFoundError()


class _SessionPersister:
    """One of the persisters above, saving with the session's knowledge of its folders (vcrpy's persister API)."""

    def __init__(self, persister: type[AtomicPersister], folders: WritableFolders) -> None:
        self._persister = persister
        self._folders = folders

    def load_cassette(self, cassette_path: str | Path, serializer: Any) -> Any:
        return self._persister.load_cassette(cassette_path, serializer)

    def save_cassette(self, cassette_path: str | Path, cassette_dict: dict[str, Any], serializer: Any) -> None:
        self._persister.save_cassette(cassette_path, cassette_dict, serializer, folders=self._folders)


@dataclass
class CassetteStats:
    """Exchange counts for the terminal summary; shared by threads, summed across xdist workers."""

    replayed: int = 0
    recorded: int = 0  # saved in a cassette (counted when it is written)
    missed: int = 0
    sent: int = 0  # answered by the network, whether or not a cassette kept them
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def count(self, kind: str) -> None:
        self.add({kind: 1})

    def as_dict(self) -> dict[str, int]:
        return {"replayed": self.replayed, "recorded": self.recorded, "missed": self.missed, "sent": self.sent}

    def add(self, counts: dict[str, int]) -> None:
        with self._lock:
            for kind, value in counts.items():
                setattr(self, kind, getattr(self, kind) + value)

    @property
    def total(self) -> int:
        return self.replayed + self.recorded + self.missed


def _cassette_options(path: Path, record_mode: str, redactor: Redactor, folders: WritableFolders) -> dict[str, Any]:
    vcrpy.ensure()
    from vcr.patch import PATCHER_NAMES
    from vcr.record_mode import RecordMode

    return {
        "path": str(path),
        "serializer": cassette_format,
        "persister": _SessionPersister(RewritePersister if record_mode == "rewrite" else AtomicPersister, folders),
        "record_mode": RecordMode("all" if record_mode == "rewrite" else record_mode),
        "match_on": match_on(),
        "before_save_interaction": redactor.hide_in_interaction,
        "skip_patchers": PATCHER_NAMES,  # requests reach the cassette through CassetteTransport
    }


class ReplayOnly:
    """A cassette in record mode ``none`` as vcrpy's ``Cassette`` plays it, without that object.

    Replay reads a cassette per item, and most of what vcrpy's object does on the way (a deep copy
    of every response, logging, a context manager, matching each request twice: can it play,
    then play) serves recording. This plays the same interactions by the same rules: vcrpy's
    loading (``vcr.serialize`` through the persister), its matchers (``requests_match`` on
    :func:`match_on`), each recorded interaction once, the first unplayed one that matches, and its
    metadata, read-only. A miss asks a real vcrpy cassette of the same file what came closest.
    """

    write_protected = True

    def __init__(self, options: dict[str, Any]) -> None:
        vcrpy.ensure()
        from vcr.persisters.filesystem import CassetteNotFoundError

        self._options = options
        self._path, self.record_mode = options["path"], options["record_mode"]  # as vcrpy's errors read them
        try:
            requests, responses, *metadata = options["persister"].load_cassette(options["path"],
                                                                                serializer=options["serializer"])
        except CassetteNotFoundError:
            requests, responses, metadata = [], [], []
        self.data: list[tuple[VcrRequest, dict[str, Any]]] = list(zip(requests, responses, strict=False))
        self._metadata: dict[str, Any] = metadata[0] if metadata else {}
        self.play_counts: Counter[int] = Counter()
        self._found: tuple[VcrRequest, int] | None = None  # the request asked about last, and its interaction

    def _unplayed(self, request: VcrRequest) -> int | None:
        vcrpy.ensure()
        from vcr.matchers import requests_match

        match_on = self._options["match_on"]
        for index, (recorded, _) in enumerate(self.data):
            if not self.play_counts[index] and requests_match(request, recorded, match_on):
                return index
        return None

    def can_play_response_for(self, request: VcrRequest) -> bool:
        index = self._unplayed(request)
        self._found = (request, index) if index is not None else None
        return index is not None

    def play_response(self, request: VcrRequest) -> dict[str, Any]:
        found = self._found
        index = found[1] if found is not None and found[0] is request else self._unplayed(request)
        self._found = None
        if index is None:
            raise CassetteError(f"cassette {self._path} has no unplayed response for {request!r}")
        self.play_counts[index] += 1
        return self.data[index][1]

    def get_metadata(self, key: str, default: Any) -> Any:
        vcrpy.ensure()
        from vcr.errors import MissingMetadataError

        if key in self._metadata:
            return self._metadata[key]
        raise MissingMetadataError(cassette=self, key=key)

    def append(self, request: VcrRequest, response: dict[str, Any]) -> None:
        raise CassetteError(f"cassette {self._path} is replayed only (record mode none)")

    def responses_of(self, request: VcrRequest) -> list[dict[str, Any]]:
        return self._vcr().responses_of(request)

    def find_requests_with_most_matches(self, request: VcrRequest) -> list[Any]:
        return self._vcr().find_requests_with_most_matches(request)

    def _vcr(self) -> VcrCassette:
        """vcrpy's own cassette of the file, for what a miss message says (a miss is rare)."""
        vcrpy.ensure()
        from vcr.cassette import Cassette as VcrCassette

        return VcrCassette.load(**self._options)


class WritableFolders:
    """Where cassettes were shown writable this session: each folder is probed once, not per cassette.

    A probe writes and deletes a scratch file where the cassette would go, so a file standing
    where a folder should be, a read-only folder or a full disk show up before the call is
    paid for, instead of after it when the recording would be lost. The probe also notes the
    folder's subfolders, so one named like a cassette is caught without touching the disk
    again: a file operation on the path to a model call can wait behind other threads
    saving cassettes into the same folder.

    The first probe of a folder also deletes the temporary files interrupted saves (``kill -9``)
    left in it, those whose process is gone (see :func:`~pytest_replicate.atomic.sweep_leftovers`),
    and notes whether any file in it is named like a sidecar (``sidecars.py``): a folder with none,
    into which this session writes none, has no stale sidecars for a save to look for.
    """

    def __init__(self) -> None:
        self._subfolders: dict[Path, frozenset[str]] = {}  # probed folder -> names of its subfolders
        self._sidecars: dict[Path, bool] = {}  # folder -> whether a sidecar may be in it
        self._lock = threading.Lock()

    def may_hold_sidecars(self, folder: Path) -> bool:
        """False only for a folder seen without sidecars (or not there yet) and given none since."""
        with self._lock:
            return self._sidecars.get(folder, True)

    def holds_sidecars(self, folder: Path) -> None:
        """A sidecar was written into ``folder``."""
        with self._lock:
            self._sidecars[folder] = True

    def check(self, path: Path) -> None:
        """Raise :class:`CassetteError` unless the cassette file ``path`` could be written now."""
        folder = path.parent
        with self._lock:
            subfolders = self._subfolders.get(folder)
        if subfolders is None:
            existing = next((parent for parent in (folder, *folder.parents) if parent.exists()), None)
            if existing is None:
                return
            subfolders = self._probe(path, existing)
            if existing != folder:  # the cassette's folder does not exist yet, so nothing can stand in the way
                with self._lock:
                    self._sidecars.setdefault(folder, False)
                return
        if path.name in subfolders:
            raise CassetteError(f"cannot record cassette {display_path(path)}: a folder of that name is in the way")

    def _probe(self, path: Path, existing: Path) -> frozenset[str]:
        """Write a scratch file in ``existing`` (the nearest folder of ``path`` that exists, so a
        failed call leaves no empty folders behind); its subfolders' names, once per folder."""
        with self._lock:
            if existing in self._subfolders:
                return self._subfolders[existing]
        if not existing.is_dir():
            raise CassetteError(
                f"cannot record cassette {display_path(path)}: {display_path(existing)} is a file, not a folder "
                "(move it, or set replicate_cassette_dir)"
            )
        try:
            descriptor, scratch = tempfile.mkstemp(dir=existing, prefix=f".{path.name}.", suffix=".check")
            os.close(descriptor)
            os.unlink(scratch)
            with os.scandir(existing) as scanned:
                entries = list(scanned)
            subfolders = frozenset(entry.name for entry in entries if entry.is_dir())
            has_sidecars = any(sidecars.is_sidecar_name(entry.name) for entry in entries)
            sweep_leftovers(existing)  # what interrupted saves left, before anything could commit it
        except OSError as error:
            raise CassetteError(
                f"cannot record cassette {display_path(path)}: {error.strerror or type(error).__name__} "
                f"in {display_path(existing)}; make the folder writable or set replicate_cassette_dir"
            ) from None
        with self._lock:
            self._subfolders[existing] = subfolders
            self._sidecars[existing] = has_sidecars or self._sidecars.get(existing, False)  # or written since
        return subfolders


class Cassette:
    """One test's cassette: replays what it holds, records the rest if the mode allows.

    ``rerun_hint`` is what a person types to re-run this test (a node id), and
    ``record_hint`` what goes before ``pytest`` to record it (credentials to set); the
    miss message builds the exact commands from them.
    """

    def __init__(self, path: Path, record_mode: str, *, redactor: Redactor | None = None, rerun_hint: str = "",
                 record_hint: str = "", stats: CassetteStats | None = None,
                 writable: WritableFolders | None = None) -> None:
        if record_mode not in RECORD_MODES:
            raise ValueError(f"record mode {record_mode!r}: choose one of {', '.join(RECORD_MODES)}")
        self.path = path
        self.record_mode = record_mode
        self.rerun_hint = rerun_hint
        self.record_hint = record_hint
        self.stats = stats or CassetteStats()
        self.recorded = 0  # exchanges that went live and are in the cassette, to be saved
        # The last poll of each URL that found its prediction still running: kept only if no
        # later poll of it comes, since how many polls a prediction takes is mere timing.
        self._still_running: dict[tuple[str, str], tuple[VcrRequest, dict[str, Any]]] = {}
        self._lock = threading.Lock()
        self._choices: Counter[str] = Counter()  # name -> choices asked for so far (see choice)
        # Entering vcrpy's context loads the file; leaving it (save) saves it. A cassette whose
        # calls failed is dropped without leaving it: nothing was patched, so nothing needs undoing.
        self._vcr_context = ExitStack()
        folders = writable or WritableFolders()
        self._options = (path, record_mode, redactor or Redactor(), folders)
        self._cassette: VcrCassette | ReplayOnly | None = None
        if record_mode == "none":  # CI's replay: nothing is ever recorded or saved
            self._cassette = ReplayOnly(_cassette_options(*self._options))
        elif record_mode != "rewrite":  # rewrite never reads the file: vcrpy's cassette waits for the first answer
            self._opened()
        if not self.replay_only:  # before any model is called (and billed), not after
            folders.check(path)

    def _opened(self) -> VcrCassette | ReplayOnly:
        """vcrpy's cassette, entered (the file loaded) now if it was not yet."""
        if self._cassette is None:
            vcrpy.ensure()
            from vcr.cassette import Cassette as VcrCassette

            self._cassette = self._vcr_context.enter_context(VcrCassette.use(**_cassette_options(*self._options)))
        return self._cassette

    @cached_property
    def where(self) -> str:
        """The cassette as messages name it."""
        return display_path(self.path)

    @property
    def interaction_count(self) -> int:
        """Interactions in the cassette: loaded from its file and recorded since."""
        return len(self._cassette.data) if self._cassette is not None else 0

    @property
    def played(self) -> frozenset[int]:
        """Indices of the interactions replayed so far (vcrpy counts plays by index)."""
        with self._lock:
            return frozenset(self._cassette.play_counts) if self._cassette is not None else frozenset()

    @property
    def replay_only(self) -> bool:
        """Every request is answered from this cassette or refused: nothing here goes live."""
        return self._cassette is not None and bool(self._cassette.write_protected)

    def exchange(self, request: httpx.Request, network: httpx.BaseTransport) -> httpx.Response:
        kept: dict[str, str] = {}  # one pass: each lookup of httpx's headers scans them all
        for name, value in request.headers.multi_items():  # names in lower case
            if name in _RECORDED_REQUEST_HEADERS:
                kept[name] = f"{kept[name]}, {value}" if name in kept else value  # as request.headers[name]
        recorded_request: VcrRequest | None = None
        if self.record_mode == "rewrite":  # vcrpy's record mode all: nothing is played, every request goes live
            if "vcr" not in sys.modules:
                when_written(request, vcrpy.import_soon)
        else:
            recorded_request = _vcr_request(request, kept)
            with self._lock:
                cassette = self._opened()
                if cassette.can_play_response_for(recorded_request):
                    self.stats.count("replayed")
                    return _replayed_response(cassette.play_response(recorded_request), request, self.path)
                if cassette.write_protected:
                    self.stats.count("missed")
                    raise CassetteError(self._miss_message(recorded_request))
        response = network.handle_request(request)
        self.stats.count("sent")
        try:
            content = response.read()
        finally:
            response.close()
        headers = [(name, value) for name, value in response.headers.multi_items()
                   if name.lower() not in _DROPPED_RESPONSE_HEADERS]
        recorded_response = _recorded_response(response, headers, content)
        if recorded_request is None:
            recorded_request = _vcr_request(request, kept)
        with self._lock:
            polled = (request.method, str(request.url))
            self._still_running.pop(polled, None)  # superseded by this answer
            if request.method == "GET" and cassette_format.still_running(content):
                self._still_running[polled] = (recorded_request, recorded_response)
            else:
                self._append(recorded_request, recorded_response)
        return httpx.Response(response.status_code, headers=headers, content=content, request=request,
                              extensions={"reason_phrase": response.reason_phrase.encode("ascii", "replace")})

    def choice(self, name: str, value: str) -> str:
        """What this cassette recorded for the next choice called ``name``; else ``value``, recorded now.

        For what a call decides from timing rather than from the answers it got (which of several
        listed predictions it adopted): a replay must decide the same without that timing. Kept
        as vcrpy cassette metadata, ``<name> #<n>`` for the n-th such choice, beside the interactions.
        """
        vcrpy.ensure()
        from vcr.errors import MissingMetadataError

        with self._lock:
            self._choices[name] += 1
            try:
                return str(self._opened().get_metadata(f"{name} #{self._choices[name]}", value))
            except MissingMetadataError:  # a replay-only cassette recorded without it
                return value

    def save(self) -> None:
        """Save what was recorded (when the test's calls are over: a cassette is saved once).

        Exchanges count as recorded here, once they are on disk: a cassette that is not saved
        (a call failed) or fails to save recorded nothing.
        """
        with self._lock:
            for request, response in self._still_running.values():
                self._append(request, response)
            self._still_running.clear()
            try:
                self._vcr_context.close()  # leaves vcrpy's context: its hooks (redaction), then our persister
            except OSError as error:  # the folder changed since it was probed, or the disk filled up
                raise CassetteError(
                    f"cannot save cassette {self.where}: {error.strerror or type(error).__name__}; the calls "
                    "were made but their recording is lost: fix the folder and re-run to record them"
                ) from None
            if self.recorded:
                self.stats.add({"recorded": self.recorded})

    def _append(self, request: VcrRequest, response: dict[str, Any]) -> None:
        self._opened().append(request, response)
        self.recorded += 1

    def _command(self, mode: str) -> str:
        return " ".join(part for part in (self.record_hint, "pytest", self.rerun_hint, f"--record-mode={mode}") if part)

    def _miss_message(self, request: VcrRequest) -> str:
        where = f"{request.method} {request.path}"
        lines = [f"cassette miss: no recorded response for {where}",
                 f"  cassette: {self.where} (record mode: {self.record_mode})"]
        if not self.path.exists():
            lines[0] = f"cassette miss: no cassette recorded for this item ({where})"
            lines.append(f"  record it: {self._command('once')}")
            return "\n".join(lines)
        cassette = self._opened()
        try:
            already = cassette.responses_of(request)
        except Exception:
            already = []
        if already:
            lines.append(f"  all {len(already)} recorded responses for this request were already replayed")
        else:
            closest = cassette.find_requests_with_most_matches(request)
            if closest:
                recorded, _, failures = closest[0]
                differences = _json_differences(recorded.body, request.body)
                if differences is None:
                    differences = [f"{name}: {message}" for name, message in failures]
                lines.append("  the closest recorded request differs in:")
                lines.extend(f"    {line}" for line in differences[:10])
        lines.append(f"  re-record it: {self._command('rewrite')}")
        return "\n".join(lines)


def _vcr_request(request: httpx.Request, headers: dict[str, str]) -> VcrRequest:
    """``request`` as vcrpy records and matches it: the headers given (those kept), its body read."""
    vcrpy.ensure()
    from vcr.request import Request as VcrRequest

    return VcrRequest(request.method, str(request.url), request.read(), headers)


def _recorded_response(response: httpx.Response, headers: list[tuple[str, str]], content: bytes) -> dict[str, Any]:
    grouped: dict[str, list[str]] = {}
    for name, value in headers:
        grouped.setdefault(name, []).append(value)
    return {"status": {"code": response.status_code, "message": response.reason_phrase},
            "headers": grouped, "body": {"string": content}}


def _replayed_response(recorded: dict[str, Any], request: httpx.Request, path: Path) -> httpx.Response:
    """The recorded response as httpx's; a hand-edited, malformed one is a :class:`CassetteError`.

    The response's ``REPLAYED`` extension is the cassette's path, so messages about what came
    back can say which file to fix (turned into a display path only then: replay is hot).
    """
    try:
        body = recorded["body"]["string"]
        headers = [(str(name), str(value)) for name, values in recorded["headers"].items() for value in values]
        code = recorded["status"]["code"]
        message = recorded["status"].get("message") or ""
        if isinstance(code, bool) or not isinstance(code, int) or not 100 <= code <= 599:
            raise ValueError(f"status code {code!r} is not an HTTP status")
        if not isinstance(body, (str, bytes)):
            raise ValueError(f"body is {type(body).__name__}, not text")
    except (KeyError, TypeError, AttributeError, ValueError) as error:
        detail = str(error) if isinstance(error, ValueError) else f"missing or malformed {error}"
        raise CassetteError(
            f"cassette {display_path(path)} holds a malformed response for {request.method} {request.url.path}: "
            f"{detail}; re-record it with --record-mode=rewrite"
        ) from None
    return httpx.Response(
        code,
        headers=headers,
        content=body.encode() if isinstance(body, str) else body,
        request=request,
        extensions={REPLAYED: path, "reason_phrase": str(message).encode("ascii", "replace")},
    )


def _json_differences(recorded: Any, new: Any) -> list[str] | None:
    """``input.temperature: 0.01 -> 0.2`` lines, or None when a body is not JSON."""
    try:
        before, after = json.loads(recorded or b"null"), json.loads(new or b"null")
    except (TypeError, ValueError):
        return None
    lines: list[str] = []
    _walk(before, after, "", lines)
    return lines or ["(bodies are equal; the method, path or query differs)"]


def _walk(before: Any, after: Any, where: str, lines: list[str]) -> None:
    if isinstance(before, dict) and isinstance(after, dict):
        for key in sorted(set(before) | set(after)):
            path = f"{where}.{key}" if where else str(key)
            if key not in before:
                lines.append(f"{path}: (not recorded) -> {json.dumps(after[key])}")
            elif key not in after:
                lines.append(f"{path}: {json.dumps(before[key])} -> (not sent)")
            else:
                _walk(before[key], after[key], path, lines)
    elif before != after:
        lines.append(f"{where or '(body)'}: {_changed(before, after)}")


# How much of two differing values a miss shows: the text just before the first difference,
# and at most this much of what differs (and a little after it).
_CONTEXT, _SHOWN = 12, 40


def _changed(before: Any, after: Any) -> str:
    """``before -> after`` as JSON, each cut to the region where the two differ.

    Cutting both at the same length would hide a change in the middle of a long prompt.
    """
    old, new = json.dumps(before, ensure_ascii=False), json.dumps(after, ensure_ascii=False)
    start = _shared_prefix(old, new)
    same_end = _shared_prefix(old[start:][::-1], new[start:][::-1])  # what both end with
    first = max(0, start - _CONTEXT)

    def window(text: str) -> str:
        last = min(len(text), max(start + 1, len(text) - same_end) + _CONTEXT, start + _SHOWN)
        return ("..." if first else "") + text[first:last] + ("..." if last < len(text) else "")

    return f"{window(old)} -> {window(new)}"


def _shared_prefix(a: str, b: str) -> int:
    return next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))


class CassetteTransport(httpx.BaseTransport):
    """Routes each request through the cassette it carries; requests without one go live."""

    def __init__(self, network: httpx.BaseTransport) -> None:
        self.network = network

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        cassette: Cassette | None = request.extensions.get(CASSETTE)
        if cassette is None:
            return self.network.handle_request(request)
        return cassette.exchange(request, self.network)

    def close(self) -> None:
        self.network.close()


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def cassette_file_name(test_name: str) -> str:
    """A readable, filesystem-safe name; the hash keeps names that slug alike apart."""
    slug = _UNSAFE.sub("_", test_name).strip("_.")[:80] or "case"
    digest = hashlib.sha1(test_name.encode("utf-8")).hexdigest()[:8]
    return f"{slug}.{digest}.yaml"
