"""``--replicate-plan``: what an eval item would call, live or from its cassette, and what its
live calls would cost, decided without calling anything.

An item goes live as the run would decide it: by the record mode, whether its cassette file
exists, and whether its provider has a token (without one, the call fails before anything is
billed). Its graders' calls go through the item's cassette, so they go live exactly when the
item does; each model-graded assertion declares the calls it makes at least
(``grader_calls``). Estimates use the prices the ``cost`` assertion uses, from the provider
config (``providers/replicate/pricing.py``), and say their basis, or why there is none.

The plan of one item is plain data (``ItemPlan``) on its case result; the report sums the
items' plans per model (``report/model.py``), so the plan is the same under pytest-xdist.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, Protocol, TypedDict

from ..assertions.base import Graders
from ..assertions.registry import ASSERTION_TYPES
from ..assertions.spec import AssertionSpec
from ..cassettes.library import CassetteLibrary
from ..errors import ReplicateEvalError
from ..providers import Provider
from ..suite.model import Case, EvalSuite, ProviderSpec, Repeat
from .runner import render_prompt
from .settings import Settings

PLAN_ONLY = "plan only (--replicate-plan): nothing was called"
ECHO_NOTE = "calls no model"


class Session(Protocol):
    """What a plan needs from the session (``EvalSession`` is one)."""

    settings: Settings
    cassettes: CassetteLibrary

    @property
    def drift(self) -> object | None: ...  # set under --replicate-drift

    def provider_for(self, spec: ProviderSpec, suite: EvalSuite) -> Provider: ...

    def repeat_of(self, case: Case) -> Repeat | None: ...

    def graders(self, *, env: Mapping[str, str] | None = None, file: Path | None = None,
                options: Mapping[str, Any] | None = None) -> Graders: ...


class PlannedCall(TypedDict):
    """Calls one item would make live to one model."""

    model: str  # the provider id
    role: str  # "provider", or "grader" for a model-graded assertion's calls
    calls: int  # how many: a repeated case's samples, the least a grading makes
    at_least: bool  # graders may make more calls than declared (g-eval per criterion, retries)
    cost: float | None  # estimated dollars for all of them; None when it cannot be estimated
    basis: str  # how the estimate was made, or why there is none


class ItemPlan(TypedDict):
    route: str  # "live", "replay", "miss" (fails, calling nothing), "no token" (fails, billing nothing), "free"
    why: str
    calls: list[PlannedCall]  # the live ones; empty unless route is "live"


def plan_case(session: Session, case: Case) -> ItemPlan:
    """What ``case``'s item would do, and the calls it would make live."""
    provider = session.provider_for(case.provider, case.suite)
    route, why = _route(session, case, provider)
    if route != "live":
        return ItemPlan(route=route, why=why, calls=[])
    repeat = session.repeat_of(case)
    samples = repeat.count if repeat is not None else 1
    try:
        prompt: str | None = render_prompt(case)
    except ReplicateEvalError:
        prompt = None  # the run would fail this item before calling: estimated as if it rendered
    calls = [_priced(provider, "provider", samples, False, prompt)]
    graders = session.graders(env=case.suite.env, file=case.suite.file, options=case.test.options)
    for spec in _flat(case.test.asserts):
        kind = ASSERTION_TYPES.get(spec.type)
        for purpose, count in (kind.grader_calls.items() if kind is not None else ()):
            try:
                grader = graders.grader(purpose, spec.provider)
            except ReplicateEvalError as error:  # the run fails this assertion before calling its grader
                calls.append(PlannedCall(model=f"({purpose} grader)", role="grader", calls=0, at_least=False,
                                         cost=None, basis=f"no call: {error}"))
                continue
            calls.append(_priced(grader, "grader", count * samples, True, None))
    return ItemPlan(route=route, why=why, calls=calls)


def _route(session: Session, case: Case, provider: Provider) -> tuple[str, str]:
    """(route, why): what the item's calls would meet first, its cassette or the network."""
    if not hasattr(provider, "token"):
        return "free", f"{provider.id} {ECHO_NOTE}"
    mode = session.settings.record_mode
    exists = session.cassettes.path(case.suite.file, case.name).is_file()
    if session.drift is not None:
        why = "--replicate-drift calls every item live beside its cassette"
    elif mode == "none":
        if exists:
            return "replay", "replays its cassette (record mode none)"
        return "miss", "has no cassette and record mode none (as on CI) records nothing: it would fail, calling nothing"
    elif mode in ("all", "rewrite"):
        why = f"record mode {mode} records every cassette afresh"
    elif exists:
        note = "; a request not in it would go live (record mode new_episodes)" if mode == "new_episodes" else ""
        return "replay", f"replays its cassette{note}"
    else:
        why = f"has no cassette yet: record mode {mode} records it"
    if getattr(provider, "token", None) is None:
        return "no token", (f"{why}, but {provider.id} has no Replicate API token: the call would fail before "
                            "anything is billed")
    return "live", why


def _priced(provider: Provider, role: str, calls: int, at_least: bool, prompt: str | None) -> PlannedCall:
    prices, parameters = getattr(provider, "prices", None), getattr(provider, "parameters", {})
    if prices is None:
        cost, basis = 0.0, ECHO_NOTE
    else:
        cost, basis = prices.estimate(prompt, parameters)
    return PlannedCall(model=provider.id, role=role, calls=calls, at_least=at_least,
                       cost=None if cost is None else cost * calls, basis=basis)


def _flat(specs: Iterable[AssertionSpec]) -> Iterator[AssertionSpec]:
    """Every assertion, those inside an ``assert-set`` included."""
    for spec in specs:
        yield spec
        yield from _flat(spec.children)
