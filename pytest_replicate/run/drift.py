"""Drift: did the model change? (``--replicate-drift``)

Each eval item runs twice, one after the other in the same scheduler job: replayed from its
cassette, replay only, as CI would grade it; then called live through a second cassette
object opened on the same path in record mode ``rewrite``, which reads nothing from the file
and sends every exchange (grader calls included) to the network. The live recording stays in
memory: it is dropped, so the cassette file is left byte-identical, unless
``--replicate-drift=update`` is given and the item drifted (its output or its verdict
changed), when it replaces the file, as ``--record-mode=rewrite`` would for that item alone.

The item's pytest outcome is the live result: drift asks what the model does now, and a
run that stayed green while the model stopped passing would hide exactly what it looks for
(the replayed verdict is what a normal CI run already reports). The replayed verdict, score
and output travel in ``CaseResult.drift``, beside the live result's own keys, so its cost is
what was spent live.

Not compared: an item without a cassette (nothing to compare: it runs live, and ``update``
does not record it, ``--record-mode=once`` does) and select-best items, whose grading needs
their siblings' outputs; they run as usual (``session.py``).
"""

from __future__ import annotations

import difflib
import hashlib
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Protocol

from ..assertions.base import Graders
from ..cassettes.cassette import Cassette
from ..cassettes.library import CassetteLibrary
from ..errors import CassetteError
from ..providers.base import CallContext, Provider
from ..results.case import CaseResult, Drift, Replayed
from ..results.stats import CaseExchanges, RunStats
from ..suite.model import Case, EvalSuite, ProviderSpec
from ..text import shorten
from .runner import run_case
from .scheduler import Scheduler
from .spend import RunSpend

DIFF_LINES = 8  # most lines of a diff; longer ones end with how many were left out
CONTEXT = 30  # characters kept either side of the change in a one-line output
REGION = 120  # most characters of the changed region shown per side


class Calls(Protocol):
    """What drift needs from the session (``EvalSession`` is one)."""

    cassettes: CassetteLibrary
    stats: RunStats
    scheduler: Scheduler | None
    spend: RunSpend

    def provider_for(self, spec: ProviderSpec, suite: EvalSuite) -> Provider: ...

    def call_context(self, vars: Mapping[str, Any], cassette: Cassette | None,
                     on_request: Callable[[], None] | None = None,
                     before_live: Callable[[], None] | None = None) -> CallContext: ...

    def graders(self, *, env: Mapping[str, str] | None = None, file: Path | None = None,
                options: Mapping[str, Any] | None = None) -> Graders: ...

    def calls_over(self, case: Case, cassette: Cassette) -> None: ...


class DriftRun:
    """Runs cases replayed and live side by side; ``update`` saves the live recording of those that drifted."""

    def __init__(self, calls: Calls, *, update: bool) -> None:
        self.calls = calls
        self.update = update

    def run(self, case: Case, nodeid: str | None) -> CaseResult:
        """``case``'s live result, with its ``drift``."""
        library = self.calls.cassettes
        scheduler = self.calls.scheduler
        # The scheduler hears when the live call sends its first request (the replay sends none).
        sent = (lambda: scheduler.request_sent(nodeid)) if scheduler is not None and nodeid is not None else None
        path = library.path(case.suite.file, case.name)
        hint = nodeid or case.name
        replayed = self._replay(case, path, hint) if path.is_file() else None
        try:
            cassette = library.open(path, hint, record_mode="rewrite", stats=CaseExchanges(self.calls.stats))
        except CassetteError as error:
            live = CaseResult(case, error=str(error), cassette=path)
            live.drift = compare(replayed, live)
            return live
        gate = self.calls.spend.gate()  # under --replicate-max-cost, refused once the spend reached it
        live = self._run(case, cassette, sent, gate)
        self.calls.calls_over(case, cassette)
        if gate is not None and gate.refused is not None:  # nothing went live: skipped, nothing saved
            library.done(cassette, save=False)
            return CaseResult(case, skipped=gate.refused, cassette=path)
        drift = live.drift = compare(replayed, live)
        save = self.update and drifted(drift) and not live.call_failed
        try:
            library.done(cassette, save=save)
        except CassetteError as error:  # as in any run: the item fails saying why the recording is lost
            live.error, save = str(error), False
        drift["updated"] = save
        return live

    def _replay(self, case: Case, path: Path, hint: str) -> CaseResult:
        """``case`` graded from its cassette alone; nothing goes live and nothing is saved."""
        library = self.calls.cassettes
        try:
            cassette = library.open(path, hint, record_mode="none", stats=CaseExchanges(self.calls.stats))
        except CassetteError as error:  # corrupt: the live call will be compared with that
            return CaseResult(case, error=str(error), cassette=path)
        result = self._run(case, cassette, None)
        library.done(cassette, save=False)
        return result

    def _run(self, case: Case, cassette: Cassette, on_request: Callable[[], None] | None,
             before_live: Callable[[], None] | None = None) -> CaseResult:
        provider = self.calls.provider_for(case.provider, case.suite)
        context = self.calls.call_context(case.vars, cassette, on_request, before_live)
        graders = self.calls.graders(env=case.suite.env, file=case.suite.file, options=case.test.options)
        result = run_case(case, provider, context, graders=graders)
        result.cassette, result.exchanges = cassette.path, cassette.stats
        return result


def drifted(drift: Drift) -> bool:
    """Compared with a cassette, and the output or the verdict changed."""
    return drift["replayed"] is not None and (drift["output_changed"] or drift["verdict"] is not None)


def compare(replayed: CaseResult | None, live: CaseResult) -> Drift:
    """How ``live`` differs from ``replayed`` (None: no cassette); ``updated`` is decided later."""
    if replayed is None:
        return Drift(output_changed=False, verdict=None, diff=None, replayed=None, updated=False)
    before, after = comparable(replayed), comparable(live)
    changed = before != after
    verdict = None
    if replayed.passed != live.passed:
        verdict = "pass→fail" if replayed.passed else "fail→pass"
    data = replayed.to_dict()
    return Drift(
        output_changed=changed,
        verdict=verdict,
        diff=output_diff(_shown(before, replayed), _shown(after, live)) if changed else None,
        replayed=Replayed(passed=data["passed"], score=data["score"], output=data["output"], error=data["error"]),
        updated=False,
    )


def comparable(result: CaseResult) -> str | None:
    """The output as text to compare; None without one. An image is compared by its bytes,
    since its URL changes with every prediction."""
    image = result.response.image if result.response is not None else None
    if image is not None:
        digest = hashlib.sha256(image.data).hexdigest()[:12]
        return f"image sha256:{digest} ({len(image.data)} bytes, {image.media_type})"
    if result.output is None:
        return None
    if isinstance(result.output, str):
        return result.output
    return json.dumps(result.output, indent=2, sort_keys=True, ensure_ascii=False, default=str)


def _shown(text: str | None, result: CaseResult) -> str:
    return text if text is not None else f"(no output: {(result.error or 'none').splitlines()[0]})"


def output_diff(before: str, after: str) -> str:
    """A short diff, ``-`` replayed and ``+`` live: the changed region of one-line outputs with a
    little context, else a unified diff of the lines, at most ``DIFF_LINES`` lines."""
    old, new = before.splitlines() or [""], after.splitlines() or [""]
    if len(old) == 1 and len(new) == 1:
        return "\n".join(_changed_region(old[0], new[0]))
    lines = list(difflib.unified_diff(old, new, lineterm="", n=1))[2:]  # without the ---/+++ header
    if len(lines) > DIFF_LINES:
        lines = [*lines[: DIFF_LINES - 1], f"... ({len(lines) - DIFF_LINES + 1} more lines)"]
    return "\n".join(lines)


def _changed_region(old: str, new: str) -> tuple[str, str]:
    """``- ...context[old part]context...`` and ``+ ...`` for the part that differs."""
    start = 0
    while start < min(len(old), len(new)) and old[start] == new[start]:
        start += 1
    end = 0  # characters in common at the end, not overlapping the common start
    while end < min(len(old), len(new)) - start and old[-1 - end] == new[-1 - end]:
        end += 1
    left = max(0, start - CONTEXT)

    def side(text: str) -> str:
        right = min(len(text), len(text) - end + CONTEXT)
        middle = shorten(text[start: len(text) - end], REGION)
        shown = text[left:start] + middle + text[len(text) - end: right]
        return ("..." if left else "") + shown + ("..." if right < len(text) else "")

    return f"- {side(old)}", f"+ {side(new)}"
