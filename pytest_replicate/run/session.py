"""The session object the plugin owns; pytest hooks delegate to it.

Custom pytest items cannot request fixtures, so everything an item needs at run time
(providers, the shared HTTP client, cassettes, graders) hangs off this one object. It
knows nothing of pytest's hooks, so the Python API can use it too.
"""

from __future__ import annotations

import json
import os
import shlex
import threading
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import CancelledError
from pathlib import Path
from typing import Any

import httpx

from ..assertions.base import GRADER_PURPOSES
from ..cassettes.cassette import Cassette, CassetteStats, WritableFolders, cassette_file_name
from ..errors import CassetteError, ConfigError, display_path
from ..http.client import CallClient, make_client
from ..providers import CallContext, PredictionClaims, Provider, create_provider
from ..providers.replicate.api import TOKEN_VARIABLES, ClientSettings
from ..providers.replicate.text import resolved_versions
from ..redaction import Redactor, protect
from ..results.case import CaseResult
from ..results.scores import MetricScores
from ..suite.model import Case, EvalSuite, ProviderSpec
from .runner import call_case, grade_case, run_case
from .scheduler import Scheduler
from .select_best import Held, needs_siblings, sibling_cases
from .settings import DEFAULT_CASSETTE_DIR, DEFAULT_GRADERS, Settings

assert set(DEFAULT_GRADERS) == set(GRADER_PURPOSES)
# Printed before ``pytest`` in the command that records a missing cassette.
RECORD_HINT = f"{TOKEN_VARIABLES[-1]}=..."
# Provider config keys that tell the scheduler, not the provider, what to do.
SCHEDULING_KEYS = ("max_concurrency",)


def cassette_path(case: Case, directory: str = DEFAULT_CASSETTE_DIR) -> Path:
    """``<eval folder>/cassettes/<eval file name>/<item name>.<hash>.yaml``."""
    suite_name = case.suite.file.name.rsplit(".", 1)[0]
    return case.suite.base_dir / directory / suite_name / cassette_file_name(case.name)


class EvalSession:
    def __init__(self, settings: Settings | None = None, *, env: Mapping[str, str] | None = None,
                 distributed: bool = False) -> None:
        self.settings = settings or Settings()
        self.defaults = ClientSettings(timeout=self.settings.timeout)
        self.env = dict(os.environ if env is None else env)
        protect(self.env, TOKEN_VARIABLES)  # an env mapping pytest may print shows no token
        self.stats = CassetteStats()
        self.writable = WritableFolders()  # cassette folders probed once per session
        self.calls = CallStats()
        self.scores = MetricScores()  # mean score per named metric per eval file, for the summary
        # Provider calls run ahead of the items in worker threads, unless strictly serial. Pure
        # replay (record mode none) waits on no network, so threads would only add overhead.
        concurrent = self.settings.concurrency > 1 and self.settings.record_mode != "none"
        self.scheduler = Scheduler(self.settings.concurrency) if concurrent else None
        self.redactor = Redactor(self.env.get(name) for name in TOKEN_VARIABLES)
        self._providers: dict[str, Provider] = {}
        self._worker_versions: dict[str, str] = {}
        self._lock = threading.Lock()
        self._http: httpx.Client | None = None
        # Set on Ctrl-C: every call in flight, in any thread, cancels its prediction.
        self.cancel = threading.Event()
        self.claims = PredictionClaims()  # which predictions the session's calls follow
        # select-best (see siblings.py): called cases waiting to be graded, by node id; results
        # called here for a sibling before their own item ran; whether other processes run items.
        self._held: dict[str, Held] = {}
        self._called: dict[str, CaseResult] = {}
        self._graded: dict[str, CaseResult] = {}  # select-best results whose items already ran
        self._expanded: dict[int, list[Case]] = {}
        self._cassette_owners: dict[Path, Path] = {}  # cassette -> the eval file whose item records it
        self.distributed = distributed

    @property
    def http(self) -> httpx.Client:
        """One pooled client for the session, created on first use (it costs ~0.1 s)."""
        with self._lock:
            if self._http is None:
                self._http = make_client()
            return self._http

    def provider(self, provider_id: str, *, label: str | None = None, config: Mapping[str, Any] | None = None,
                 env: Mapping[str, str] | None = None) -> Provider:
        """One provider object per distinct (id, label, config, env), shared by its items."""
        file_env = dict(env or {})
        key = json.dumps([provider_id, label, config or {}, file_env], sort_keys=True, default=str)
        with self._lock:
            if key not in self._providers:
                provider = create_provider(provider_id, label=label, config=config,
                                           env={**self.env, **file_env}, defaults=self.defaults)
                self._providers[key] = provider
                self.redactor.add(getattr(provider, "token", None))
            return self._providers[key]

    def provider_for(self, spec: ProviderSpec, suite: EvalSuite) -> Provider:
        config = {key: value for key, value in spec.config.items() if key not in SCHEDULING_KEYS}
        return self.provider(spec.id, label=spec.label, config=config, env=suite.env)

    def claim_cassettes(self, file: Path, cases: Iterable[Case]) -> None:
        """Note the cassettes of ``file``'s cases; a ConfigError if another eval file's item has one.

        Cassette folders are named after the eval file without its extension, so ``a.eval.yaml``
        and ``a.eval.yml`` (or an absolute ``replicate_cassette_dir``) can give two items one
        cassette, and each recording would replace the other's.
        """
        with self._lock:
            for case in cases:
                path = cassette_path(case, self.settings.cassette_dir)
                owner = self._cassette_owners.setdefault(path, file)
                if owner != file:
                    raise ConfigError(
                        f"the item {case.name!r} would share its cassette {display_path(path)} with the "
                        f"same-named item of {display_path(owner)}, and each recording would replace the other's",
                        file=file, hint="rename one of the two eval files (a cassette folder is named after its "
                                        "eval file without the extension)")

    def submit(self, case: Case, nodeid: str) -> None:
        """Start ``case``'s calls early, if the session runs calls concurrently."""
        if self.scheduler is None:
            return
        limit = case.provider.config.get("max_concurrency")
        group = (case.provider.id, json.dumps(case.provider.config, sort_keys=True, default=str))
        self.scheduler.submit(nodeid, lambda: self.run(case, nodeid), group=group,
                              group_limit=int(limit) if limit else None)

    def result(self, case: Case, nodeid: str) -> CaseResult:
        """``case``'s result: from the scheduler if it was submitted, else run now."""
        result = self._scheduled(case, nodeid)
        if result is None:
            with self._lock:
                result = self._called.pop(nodeid, None)  # called already, for a select-best sibling
            if result is None:
                result = self.run(case, nodeid)
        if needs_siblings(case):
            result = self._grade_with_siblings(case, nodeid, result)
        if result.grading is not None and result.grading.named_scores:  # display_path resolves: not per item
            self.scores.add(display_path(case.suite.file), result.grading.named_scores)
        return result

    def _scheduled(self, case: Case, nodeid: str) -> CaseResult | None:
        """``case``'s result from the scheduler, waiting if need be; None if it was not submitted."""
        if self.scheduler is None or not self.scheduler.submitted(nodeid):
            return None
        try:
            return self.scheduler.result(nodeid)
        except CancelledError:
            return CaseResult(case, error="not run: the session stopped before this item's call started")

    def stop(self) -> None:
        """The run is over or was stopped (-x, Ctrl-C): drop queued calls, cancel running ones."""
        self.cancel.set()
        if self.scheduler is not None:
            self.scheduler.stop()

    def open_cassette(self, path: Path, rerun_hint: str, record_mode: str | None = None) -> Cassette:
        """The cassette at ``path``; ``rerun_hint`` names the test. A test function's marker may
        choose ``record_mode``; otherwise the session's applies."""
        return Cassette(path, record_mode or self.settings.record_mode, redactor=self.redactor,
                        rerun_hint=shlex.quote(rerun_hint), record_hint=RECORD_HINT, stats=self.stats,
                        writable=self.writable)

    def call_context(self, vars: Mapping[str, Any], cassette: Cassette | None,
                     on_request: Callable[[], None] | None = None) -> CallContext:
        """What a call needs from the session: the pooled client (through ``cassette``, if any;
        ``on_request`` hears of each request), the Ctrl-C event, and the scheduler, which slows
        every caller down when one sees a 429."""
        return CallContext(vars=vars, http=CallClient(self.http, cassette, on_request), cancel=self.cancel,
                           backpressure=self.scheduler, claims=self.claims)

    def graders(self, *, env: Mapping[str, str] | None = None, file: Path | None = None,
                options: Mapping[str, Any] | None = None) -> SessionGraders:
        """Graders for model-graded checks of one eval case (its file's env, its test's options) or one test function."""
        return SessionGraders(self, env=env, file=file, options=options)

    def run(self, case: Case, nodeid: str | None = None) -> CaseResult:
        """Run one case inside its own cassette; save the cassette if every call succeeded."""
        provider = self.provider_for(case.provider, case.suite)
        path = cassette_path(case, self.settings.cassette_dir)
        try:
            cassette = self.open_cassette(path, nodeid or case.name)
        except CassetteError as error:
            return CaseResult(case, error=str(error), cassette=path)
        scheduler = self.scheduler
        sent = (lambda: scheduler.request_sent(nodeid)) if scheduler is not None and nodeid is not None else None
        context = self.call_context(case.vars, cassette, sent)
        graders = self.graders(env=case.suite.env, file=case.suite.file, options=case.test.options)
        held = needs_siblings(case) and nodeid is not None
        result = call_case(case, provider, context) if held else run_case(case, provider, context, graders=graders)
        result.cassette = path
        if cassette.recorded:  # went live: measured, and paced as the provider's delay asks
            self.calls.add(result.duration)
            if case.provider.delay:
                self.cancel.wait(case.provider.delay)
        if self.scheduler is not None:
            self.scheduler.release_slot()  # saving the cassette below calls no model,
            if cassette.recorded:
                self.scheduler.wait_for_starts()  # and lets the next live calls go out first
        if held and nodeid is not None:  # graded, and its cassette saved, when its item runs
            with self._lock:
                self._held[nodeid] = Held(cassette, context, graders)
        # Saved only when every call succeeded, and never after Ctrl-C or a crash (not reached).
        elif not result.call_failed:
            _save(cassette, result)
        return result

    def _grade_with_siblings(self, case: Case, nodeid: str, result: CaseResult) -> CaseResult:
        """Grade a select-best case with its siblings' outputs (main thread), then save its cassette."""
        with self._lock:
            held = self._held.pop(nodeid, None)
        if held is None:  # not held: it could not even open its cassette
            return result
        if result.error is None:
            outputs: list[Any] = []
            index = 0
            for sibling, sibling_id in sibling_cases(case, nodeid, self._expanded):
                if sibling_id == nodeid:
                    index = len(outputs)
                    outputs.append(result.output)
                    continue
                other = self._sibling_result(sibling, sibling_id, held.context)
                if other.error is not None:
                    result.error = f"select-best needs the output of {sibling.name}, which failed: {other.error}"
                    result.call_failed = other.call_failed
                    break
                outputs.append(other.output)
            else:
                grade_case(result, held.context, graders=held.graders, compared=(outputs, index))
        if not result.call_failed:
            _save(held.cassette, result)
        with self._lock:
            self._graded[nodeid] = result
        return result

    def _sibling_result(self, case: Case, nodeid: str, context: CallContext) -> CaseResult:
        """A sibling's called (ungraded) result; siblings.py says where it comes from."""
        scheduled = self._scheduled(case, nodeid)
        if scheduled is not None:
            return scheduled
        with self._lock:
            called = self._graded.get(nodeid) or self._called.get(nodeid)
        if called is not None:
            return called
        if self.distributed:  # it may run on another worker: call it inside the asking item's cassette
            return call_case(case, self.provider_for(case.provider, case.suite), context)
        called = self.run(case, nodeid)
        with self._lock:
            self._called[nodeid] = called
        return called

    def worker_stats(self) -> dict[str, Any]:
        """What an xdist worker sends to the controller for the summary."""
        return {"cassettes": self.stats.as_dict(), "calls": self.calls.as_dict(self.peak_concurrency),
                "scores": self.scores.as_dict(), "versions": self.resolved_versions()}

    def merge_worker_stats(self, data: dict[str, Any]) -> None:
        self.stats.add(data["cassettes"])
        self.calls.merge(data["calls"])
        self.scores.merge(data.get("scores", {}))
        self._worker_versions.update(data.get("versions", {}))

    def resolved_versions(self) -> dict[str, str]:
        """Models that ran by their latest version (no official endpoint), here and on xdist workers."""
        with self._lock:
            providers = list(self._providers.values())
        return {**self._worker_versions, **resolved_versions(providers)}

    @property
    def peak_concurrency(self) -> int:
        if self.scheduler is not None:
            return self.scheduler.stats.peak
        return 1 if self.calls.latencies else 0

    def close(self) -> None:
        self.stop()
        with self._lock:
            if self._http is not None:
                self._http.close()
                self._http = None
            self._providers.clear()


class SessionGraders:
    """Graders for one case or test function, first found wins (promptfoo's order, then ours):

    the assertion's ``provider``, the test's ``options.provider`` (defaultTest's when the
    test has none), ``--replicate-grader`` / ini ``replicate_grader`` (text grading only),
    then the default for the purpose. Each may be an id, ``{id, config}``, or a map by
    purpose such as ``{text: ..., embedding: ...}``. An id of the wrong kind (a chat model
    where an embedding model is needed) is skipped, except on the assertion itself, where
    it is an error as in promptfoo. ``env`` is the eval file's ``env`` (or a test's
    overrides); ``file`` is named in configuration errors.
    """

    def __init__(self, session: EvalSession, *, env: Mapping[str, str] | None = None,
                 file: Path | None = None, options: Mapping[str, Any] | None = None) -> None:
        self.session = session
        self.env = dict(env or {})
        self.file = file
        self.options = options or {}

    def grader(self, purpose: str, override: Any = None) -> Provider:
        if override is not None:
            spec = grader_spec(override, purpose)
            if spec is None:
                raise ConfigError(f"the assertion's provider {_describe(override)} cannot do {purpose} grading",
                                  file=self.file, hint=_PURPOSE_HINTS.get(purpose))
        else:
            levels = (self.options.get("provider"),
                      self.session.settings.grader if purpose == "text" else None,
                      DEFAULT_GRADERS.get(purpose))
            spec = next((found for level in levels if level is not None
                         if (found := grader_spec(level, purpose)) is not None), None)
        if spec is None:
            raise ConfigError(f"no {purpose} grader is configured", file=self.file,
                              hint="give the assertion a provider")
        try:
            return self.session.provider(spec["id"], label=spec.get("label"), config=spec.get("config"),
                                         env=self.env)
        except ConfigError as error:  # a bad grader config, e.g. a non-numeric temperature
            raise ConfigError(f"assertion provider {spec['id']}: {error.message}", file=self.file,
                              hint=error.hint) from None


_PURPOSE_HINTS = {
    "embedding": "use a replicate:embedding:OWNER/MODEL[:VERSION] id, or a map such as {text: ..., embedding: ...}",
    "moderation": "use a replicate:moderation:OWNER/MODEL id",
    "text": "use a language model id such as replicate:meta/meta-llama-3-70b-instruct",
}


def _save(cassette: Cassette, result: CaseResult) -> None:
    """Save ``cassette``; if that fails (a folder that broke since it was probed, a full disk),
    the case fails with that one message."""
    try:
        cassette.save()
    except CassetteError as error:
        result.error = str(error)


def grader_purpose(provider_id: str) -> str:
    """What a provider id can grade: its kind decides (``replicate:embedding:...`` embeds)."""
    for purpose in ("embedding", "moderation"):
        if provider_id.startswith(f"replicate:{purpose}:"):
            return purpose
    return "text"


def grader_spec(value: Any, purpose: str) -> dict[str, Any] | None:
    """``{id, config, label}`` for ``purpose`` from an id, ``{id, config}`` or purpose map; None if it has none."""
    if isinstance(value, str):
        value = {"id": value}
    if not isinstance(value, dict):
        return None
    if "id" not in value:  # {text: ..., embedding: ...}
        return grader_spec(value[purpose], purpose) if value.get(purpose) is not None else None
    return value if isinstance(value["id"], str) and grader_purpose(value["id"]) == purpose else None


def _describe(value: Any) -> str:
    return repr(value if isinstance(value, str) else value.get("id", value) if isinstance(value, dict) else value)


class CallStats:
    """Latency of the cases that called models live, for the summary; merged across xdist workers."""

    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.peak = 0  # most calls running at once (the largest of any one process)
        self._lock = threading.Lock()

    def add(self, seconds: float) -> None:
        with self._lock:
            self.latencies.append(seconds)

    def merge(self, data: dict[str, Any]) -> None:
        with self._lock:
            self.latencies.extend(data.get("latencies", []))
            self.peak = max(self.peak, data.get("peak", 0))

    def as_dict(self, peak: int) -> dict[str, Any]:
        with self._lock:
            return {"latencies": list(self.latencies), "peak": max(peak, self.peak)}
