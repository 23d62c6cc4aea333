"""The session object the plugin owns; pytest hooks delegate to it.

Custom pytest items cannot request fixtures, so everything an item needs at run time
(providers, the shared HTTP client, cassettes, graders) hangs off this one object. It
knows nothing of pytest's hooks, so the Python API can use it too. It keeps the HTTP
client and the provider cache, runs cases, and hands the rest to its parts: the cassette
library (``cassettes/library.py``), graders (``graders.py``), select-best
(``select_best.py``) and, under ``--replicate-drift``, drift (``drift.py``).
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import CancelledError
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx

from ..cassettes.cassette import Cassette, WritableFolders
from ..cassettes.library import CassetteLibrary, CassetteUse
from ..errors import CassetteError, ConfigError
from ..http.client import CallClient, make_client
from ..providers import CallContext, PredictionClaims, Provider, create_provider
from ..providers.replicate.api import TOKEN_VARIABLES, ClientSettings
from ..providers.replicate.text import resolved_versions
from ..redaction import Redactor, protect
from ..results.case import CaseResult
from ..results.stats import CaseExchanges, RunStats
from ..suite.model import MAX_CONCURRENCY, NOT_REPEATABLE, Case, EvalSuite, ProviderSpec, Repeat
from .drift import DriftRun
from .graders import SessionGraders
from .plan import PLAN_ONLY, plan_case
from .runner import call_case, run_case, run_samples, sampled
from .scheduler import Scheduler
from .select_best import Held, SelectBest, needs_siblings
from .settings import Settings
from .spend import RunSpend

# Printed before ``pytest`` in the command that records a missing cassette.
RECORD_HINT = f"{TOKEN_VARIABLES[-1]}=..."
# Provider config keys that tell the scheduler, not the provider, what to do.
SCHEDULING_KEYS = (MAX_CONCURRENCY,)


class EvalSession:
    def __init__(self, settings: Settings | None = None, *, env: Mapping[str, str] | None = None,
                 distributed: bool = False, spend_ledger: Path | None = None) -> None:
        self.settings = settings or Settings()
        self.defaults = ClientSettings(timeout=self.settings.timeout)
        self.env = dict(os.environ if env is None else env)
        protect(self.env, TOKEN_VARIABLES)  # an env mapping pytest may print shows no token
        self.stats = RunStats()  # this process's counts; an xdist controller merges its workers' in
        # What live calls cost, and --replicate-max-cost; xdist workers share it through ``spend_ledger``.
        self.spend = RunSpend(self.stats, self.settings.max_cost, spend_ledger)
        self.writable = WritableFolders()  # cassette folders probed once per session
        # Provider calls run ahead of the items in worker threads, unless strictly serial. Pure
        # replay (record mode none, and no drift) waits on no network, so threads would only add overhead.
        live = self.settings.record_mode != "none" or self.settings.drift is not None
        concurrent = self.settings.concurrency > 1 and live and not self.settings.plan
        self.scheduler = Scheduler(self.settings.concurrency, self.stats) if concurrent else None
        self.redactor = Redactor(self.env.get(name) for name in TOKEN_VARIABLES)
        self.cassettes = CassetteLibrary(self.settings.cassette_dir, self.settings.record_mode,
                                         redactor=self.redactor, stats=self.stats, writable=self.writable,
                                         record_hint=RECORD_HINT)
        self._providers: dict[str, Provider] = {}
        self._lock = threading.Lock()
        # When every call goes live (rewrite, all, drift), the network is made ready while pytest collects.
        every_call_live = self.settings.record_mode in ("all", "rewrite") or self.settings.drift is not None
        self._http: httpx.Client | None = (make_client(self.settings.max_response_size, live=True)
                                           if every_call_live and not self.settings.plan else None)
        # Set on Ctrl-C: every call in flight, in any thread, cancels its prediction.
        self.cancel = threading.Event()
        self.claims = PredictionClaims()  # which predictions the session's calls follow
        self.distributed = distributed  # other processes (xdist workers) run items too
        self.select_best = SelectBest(self)
        self.drift = DriftRun(self, update=self.settings.drift == "update") if self.settings.drift else None

    @property
    def http(self) -> httpx.Client:
        """One pooled client for the session, created on first use (or as the session starts, see above)."""
        with self._lock:
            if self._http is None:
                self._http = make_client(self.settings.max_response_size)
            return self._http

    def provider(self, provider_id: str, *, label: str | None = None, config: Mapping[str, Any] | None = None,
                 env: Mapping[str, str] | None = None) -> Provider:
        """One provider object per distinct (id, label, config, env), shared by its items.

        Scheduling keys in ``config`` bound eval items' calls (see ``submit``) and never reach
        the model; test functions' calls share ``--replicate-concurrency`` instead.
        """
        config = {key: value for key, value in (config or {}).items() if key not in SCHEDULING_KEYS}
        file_env = dict(env or {})
        key = json.dumps([provider_id, label, config, file_env], sort_keys=True, default=str)
        with self._lock:
            if key not in self._providers:
                provider = create_provider(provider_id, label=label, config=config,
                                           env={**self.env, **file_env}, defaults=self.defaults)
                self._providers[key] = provider
                self.redactor.add(getattr(provider, "token", None))
            return self._providers[key]

    def provider_for(self, spec: ProviderSpec, suite: EvalSuite) -> Provider:
        return self.provider(spec.id, label=spec.label, config=spec.config,
                             env={**suite.env, **spec.env} if spec.env else suite.env)

    def collected(self, file: Path, cases: list[Case], names: list[str] | None = None) -> None:
        """An eval file's items were collected: check that ``--replicate-repeat`` suits them, claim
        their cassettes (a ConfigError if another eval file's item has one) and keep select-best
        tests' cases as each other's siblings. ``names``: the cases' names, if already made."""
        self.check_repeat(cases)
        self.cassettes.claim(file, names if names is not None else (case.name for case in cases))
        self.select_best.add(cases)

    def submit(self, case: Case, nodeid: str) -> None:
        """Start ``case``'s calls early, if the session runs calls concurrently."""
        if self.scheduler is None or case.suite.stores_outputs:  # storeOutputAs: in order, as later cases read it
            return
        limit = case.provider.config.get(MAX_CONCURRENCY)
        group = (case.provider.id, json.dumps(case.provider.config, sort_keys=True, default=str))
        self.scheduler.submit(nodeid, lambda: self.run(case, nodeid), group=group,
                              group_limit=int(limit) if limit else None)

    def result(self, case: Case, nodeid: str) -> CaseResult:
        """``case``'s result: from the scheduler if it was submitted, else run now; under
        ``--replicate-plan``, what it would call, and nothing is called."""
        if self.settings.plan:
            return CaseResult(case, skipped=PLAN_ONLY, plan=dict(plan_case(self, case)))
        result = self.scheduled(case, nodeid)
        if result is None:
            result = self.select_best.take_called(nodeid)  # called already, for a select-best sibling
        if result is None:
            result = self.run(case, nodeid)
        if needs_siblings(case) and result.skipped is None:
            result = self.select_best.grade(case, nodeid, result)
        return result

    def scheduled(self, case: Case, nodeid: str) -> CaseResult | None:
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

    def call_context(self, vars: Mapping[str, Any], cassette: Cassette | None,
                     on_request: Callable[[], None] | None = None,
                     before_live: Callable[[], None] | None = None) -> CallContext:
        """What a call needs from the session: the pooled client (through ``cassette``, if any;
        ``on_request`` hears of each request, ``before_live`` may refuse one going to the network),
        the Ctrl-C event, the scheduler, which slows every caller down when one sees a 429, and
        the run's spend, which hears what each live call cost."""
        return CallContext(vars=vars, http=CallClient(self.http, cassette, on_request, before_live),
                           cancel=self.cancel, backpressure=self.scheduler, claims=self.claims, spend=self.spend)

    def graders(self, *, env: Mapping[str, str] | None = None, file: Path | None = None,
                options: Mapping[str, Any] | None = None) -> SessionGraders:
        """Graders for model-graded checks of one eval case (its file's env, its test's options) or one test function."""
        return SessionGraders(self.provider, text_grader=self.settings.grader, env=env, file=file, options=options)

    def check_drift_token(self, provider: Provider) -> None:
        """Under ``--replicate-drift`` every item calls its model live: a Replicate provider without
        a token (environment, the eval file's ``env``, ``apiKey``) is refused before anything runs."""
        if self.drift is not None and getattr(provider, "token", True) is None:
            raise ConfigError(f"--replicate-drift calls {provider.id} live, but it has no Replicate API token",
                              hint=f"set {TOKEN_VARIABLES[-1]} (or {TOKEN_VARIABLES[0]}), or give the provider "
                                   "apiKey or the eval file env")

    def run(self, case: Case, nodeid: str | None = None) -> CaseResult:
        """Run one case inside its own cassette; save the cassette if every call succeeded."""
        # Replayed and live, compared (drift.py); select-best and repeated cases run as usual: their
        # verdicts need their siblings or all their samples.
        if self.drift is not None and not needs_siblings(case) and self.repeat_of(case) is None:
            return self.drift.run(case, nodeid)
        provider = self.provider_for(case.provider, case.suite)
        path = self.cassettes.path(case.suite.file, case.name)
        try:
            cassette = self.cassettes.open(path, nodeid or case.name, stats=CaseExchanges(self.stats))
        except CassetteError as error:
            return CaseResult(case, error=str(error), cassette=path)
        scheduler = self.scheduler
        sent = ((lambda: scheduler.request_sent(nodeid, live=not cassette.replay_only))
                if scheduler is not None and nodeid is not None else None)
        # Under --replicate-max-cost: refused at its first live request once the spend reached the limit.
        gate = self.spend.gate()
        context = self.call_context(case.vars, cassette, sent, gate)
        graders = self.graders(env=case.suite.env, file=case.suite.file, options=case.test.options)
        held = needs_siblings(case) and nodeid is not None
        repeat = self.repeat_of(case)
        recorded = 0  # exchanges that went live before the latest pause

        def pace() -> None:  # went live: paced as the provider's delay asks
            nonlocal recorded
            if cassette.recorded > recorded and case.provider.delay:
                self.cancel.wait(case.provider.delay)
            recorded = cassette.recorded

        if held:
            result = call_case(case, provider, context)
        elif repeat is None:
            result = run_case(case, provider, context, graders=graders)
        else:
            result = sampled(case, repeat, run_samples(case, repeat.count, provider, context, graders=graders,
                                                       after_each=pace))
            if result.samples and result.call_failed and _exhausted(cassette):
                result.error = _short_cassette(cassette, len(result.samples), repeat.count)
        if gate is not None and gate.refused is not None:  # nothing went live: skipped, its cassette unsaved
            result = CaseResult(case, skipped=gate.refused, call_failed=True)
        result.cassette, result.exchanges = path, cassette.stats
        self.calls_over(case, cassette, paced=recorded)
        if held and nodeid is not None and result.skipped is None:  # graded, and its cassette saved, when its item runs
            self.select_best.hold(nodeid, Held(cassette, context, graders))
        else:
            self.cassette_done(cassette, result)
        return result

    def repeat_of(self, case: Case) -> Repeat | None:
        """How often ``case`` runs: ``--replicate-repeat`` > the test's ``repeat`` (or defaultTest's) >
        once. The command line sets the count only; the reducer stays the file's (else all)."""
        count, repeat = self.settings.repeat, case.test.repeat
        if count is None:
            return repeat
        return Repeat(count) if repeat is None else replace(repeat, count=count)

    def check_repeat(self, cases: list[Case]) -> None:
        """A ConfigError, at collection, for a test that ``--replicate-repeat`` cannot run."""
        if self.settings.repeat is None:
            return  # the loader checked the file's own repeat
        for case in cases:
            repeat = self.repeat_of(case)
            problem = repeat.problem() if repeat is not None else None
            if needs_siblings(case):
                problem = NOT_REPEATABLE
            if problem is not None:
                raise ConfigError(f"{problem} (--replicate-repeat {self.settings.repeat})", file=case.test.file,
                                  path=case.test.path, line=case.test.line,
                                  hint="give --replicate-repeat a count these tests can use, or change their repeat")

    def calls_over(self, case: Case, cassette: Cassette, *, paced: int = 0) -> None:
        """``case``'s calls through ``cassette`` are over. If exchanges went live beyond the ``paced``
        first ones (a repeated case pauses as each sample ends), pause for the provider's ``delay``.
        What is left (saving the cassette) calls no model: free the scheduler slot, and let the next
        live calls go out first."""
        if cassette.recorded > paced and case.provider.delay:
            self.cancel.wait(case.provider.delay)
        if self.scheduler is not None:
            self.scheduler.release_slot()
            if cassette.recorded:
                self.scheduler.wait_for_starts()

    def cassette_done(self, cassette: Cassette, result: CaseResult) -> None:
        """``result``'s case is done with ``cassette``: saved only when every call succeeded, and
        never after Ctrl-C or a crash (not reached). If saving fails (a folder that broke since
        it was probed, a full disk), the case fails with that one message."""
        try:
            self.cassettes.done(cassette, save=not result.call_failed)
        except CassetteError as error:
            result.error = str(error)

    def worker_stats(self) -> dict[str, Any]:
        """What an xdist worker sends to the controller for the summary: counts, and the cassettes it used."""
        self.stats.merge({"versions": self.resolved_versions()})  # the providers' own, added at the end
        return {**self.stats.as_dict(), "cassettes": [use.as_dict() for use in self.cassettes.used()]}

    def merge_worker_stats(self, data: dict[str, Any]) -> None:
        self.stats.merge(data)
        self.cassettes.add_used(map(CassetteUse.from_dict, data.get("cassettes", ())))

    def resolved_versions(self) -> dict[str, str]:
        """Models that ran by their latest version (no official endpoint), here and on xdist workers."""
        with self._lock:
            providers = list(self._providers.values())
        return {**self.stats.as_dict()["versions"], **resolved_versions(providers)}

    def close(self) -> None:
        self.stop()
        with self._lock:
            if self._http is not None:
                self._http.close()
                self._http = None
            self._providers.clear()


def _exhausted(cassette: Cassette) -> bool:
    """Replay only, and every interaction played: the next request could only miss."""
    return cassette.replay_only and len(cassette.played) == cassette.interaction_count


def _short_cassette(cassette: Cassette, held: int, asked: int) -> str:
    """The miss of a cassette recorded with fewer samples than are asked for now."""
    command = " ".join(part for part in (cassette.record_hint, "pytest", cassette.rerun_hint,
                                         "--record-mode=rewrite") if part)
    return (f"cassette miss: the cassette holds {held} sample{'s' if held != 1 else ''} of this case, {asked} were "
            f"asked for\n  cassette: {cassette.where}\n  record all {asked} again: {command}")
