"""pytest nodes for eval files: one ``EvalFile`` per file, one ``EvalItem`` per case."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

import pytest
from _pytest._code.code import ReprExceptionInfo, ReprFileLocation, ReprTracebackNative

from ..errors import ConfigError, ConfigErrors, ReplicateEvalError
from ..report.failure import format_failure
from ..results.case import CaseResult
from ..run.session import EvalSession
from ..suite.expand import expand
from ..suite.loader import load_eval_file
from ..suite.model import Case
from ..suite.source import paused_gc
from .frozen import freeze_collected
from .parse_cache import parse_cache
from .state import eval_session, settings_key
from .xdist import queued_indices

JUNIT_OUTPUT_CHARS = 200  # enough to recognise an answer in a CI page, short enough to keep the XML small


class EvalFailed(Exception):
    """Raised by an item whose case failed; carries the result for the failure view."""

    def __init__(self, result: CaseResult) -> None:
        super().__init__(result.error or (result.grading.reason if result.grading else "failed"))
        self.result = result


def failure_repr(text: str, path: str, line: int) -> ReprExceptionInfo:
    """The failure view as pytest's own kind of failure repr: the view as a native traceback,
    its first line as the crash message that the short summary, ``--tb=line`` and JUnit show.

    pytest-xdist sends a repr of this kind to the controller as it is; any other kind arrives as
    its whole text, which the short summary then repeats in full (untruncated on CI).
    """
    return ReprExceptionInfo(reprtraceback=ReprTracebackNative([f"{row}\n" for row in text.splitlines()]),
                             reprcrash=ReprFileLocation(path, line, text.splitlines()[0] if text else ""))


class EvalFile(pytest.File):
    def collect(self) -> list[EvalItem]:
        # A file of many cases builds millions of objects that all live as long as the session:
        # the collector is paused while they are built, then they are frozen (``frozen.py``).
        with paused_gc():
            items = self._collect()
            freeze_collected(self.config)  # before the collector resumes, or it would walk them once first
        return items

    def _collect(self) -> list[EvalItem]:
        suite = load_eval_file(self.path, parse_cache(self.config))
        session = eval_session(self.config)
        problems = []
        for index, spec in enumerate(suite.providers):
            try:
                provider = session.provider_for(spec, suite)
                session.check_drift_token(provider)
            except ConfigError as error:  # a bad config value, e.g. a non-numeric temperature
                problems.append(ConfigError(error.message, file=self.path, path=("providers", index), line=spec.line,
                                            hint=error.hint))
        if problems:
            raise problems[0] if len(problems) == 1 else ConfigErrors(problems, self.path)
        # An explicit string id: pytest >= 9.2 parses ids into name and [params], and
        # --lf compares ids parsed from strings, so ours must be built the same way.
        cases = expand(suite, max_cases=self.config.stash[settings_key].max_cases, redact=session.redactor.redact)
        names = [case.name for case in cases]  # one string per case, shared by its item and the claims
        session.collected(self.path, cases, names)
        return [EvalItem.from_parent(self, name=name, nodeid=f"{self.nodeid}::{name}", case=case)
                for name, case in zip(names, cases, strict=True)]

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException]) -> Any:  # type: ignore[override]
        if isinstance(excinfo.value, ReplicateEvalError):
            # A message may quote the offending value, and that value may be a token (a regex of it
            # that does not compile, say): what the session knows, and anything shaped like one, is hidden.
            return eval_session(self.config).redactor.redact(str(excinfo.value))
        return super().repr_failure(excinfo)


class EvalItem(pytest.Item):
    def __init__(self, *, case: Case, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.case = case
        self.result: CaseResult | None = None
        # Set here, not first when a report reads the properties: an attribute every item gets
        # later turns its shared-key __dict__ into one of its own, 300 bytes more per item.
        self._described = False  # user_properties start with the case's provider and prompt (see below)

    @property
    def user_properties(self) -> list[tuple[str, object]]:
        """The item's user properties (JUnit XML shows them), the case's provider and prompt first.

        Those two are added when a report first reads the list: a collection of 100,000 items
        (``--collect-only``, or all but a few deselected) should not hold 200,000 tuples for nothing.
        """
        properties: list[tuple[str, object]] = self._user_properties
        if not self._described:
            self._described = True
            properties[:0] = _described_by(self.case.provider.id, self.case.prompt.label)
        return properties

    @user_properties.setter
    def user_properties(self, properties: list[tuple[str, object]]) -> None:
        # An attribute, not ``self.__dict__[...]``: reading ``__dict__`` makes each item a dict of its own.
        self._user_properties = properties

    def add_result_properties(self, result: dict[str, Any]) -> None:
        """What JUnit XML shows per case (user properties, read from the teardown report): score,
        latency, cost, prediction and the start of the output (those known), from the redacted ``result``."""
        output = result["output"]
        text = output if isinstance(output, str) else json.dumps(output, ensure_ascii=False)
        if len(text) > JUNIT_OUTPUT_CHARS:
            text = text[: JUNIT_OUTPUT_CHARS - 1] + "…"
        added = (_repeated_property("score", result["score"]), ("latency_ms", result["latency_ms"]),
                 _repeated_property("cost", result["cost"]), ("prediction_id", result["prediction_id"]), ("output", text))
        # A new list of just the right length: grown in place, it would keep room for more until the run ends.
        self.user_properties = list((*self.user_properties, *(pair for pair in added if pair[1] is not None)))

    def runtest(self) -> None:
        problem = self.case.test.problem
        if problem is not None:  # its test cannot run (a bad assertion...): this case fails, the file's others run
            self.result = CaseResult(self.case, error=str(problem))
            raise EvalFailed(self.result)
        self.result = eval_session(self.config).result(self.case, self.nodeid)
        if self.result.skipped is not None:  # shown at the test's line, as a skip mark is
            raise pytest.skip.Exception(self.result.skipped, _use_item_location=True)
        if not self.result.passed:
            raise EvalFailed(self.result)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        if isinstance(excinfo.value, EvalFailed):
            problem = self.case.test.problem  # nothing ran: the problem says it all
            text = str(problem) if problem is not None else format_failure(
                excinfo.value.result, verbose=self.config.get_verbosity() > 1)
            # Vars and prompts may hold a token (a var read from a file, say): never show it.
            text = eval_session(self.config).redactor.redact(text)
            return failure_repr(text, str(self.path), self.reportinfo()[1] + 1)
        return super().repr_failure(excinfo, style)

    def reportinfo(self) -> tuple[Any, int, str]:
        # A line is required: pytest reports skip marks by (path, line).
        _, _, line = self.case.test.location.rpartition(":")
        return self.path, int(line) - 1 if line.isdigit() else 0, f"{self.case.name} ({self.case.test.location})"


@lru_cache(maxsize=256)
def _described_by(provider: str, prompt: str) -> tuple[tuple[str, object], ...]:
    """The first user properties of a (provider, prompt) column's items: one pair of tuples for
    all of them, since every item's reports keep theirs until the run ends."""
    return ("provider", provider), ("prompt", prompt)


@lru_cache(maxsize=64, typed=True)
def _repeated_property(name: str, value: float | None) -> tuple[str, float | None]:
    """A user property whose value many items share (a score of 1.0, a model's price per call):
    one tuple for them all, as the reports keep each item's until the run ends."""
    return name, value


def schedule_upcoming(item: pytest.Item, session: EvalSession) -> None:
    """Start the calls of ``item`` and of the eval items that will run after it.

    Only items that will really run: after deselection (they are not in ``session.items``)
    and skip marks. Under pytest-xdist, a worker knows only the items it was sent so far.
    """
    for upcoming in _upcoming(item):
        if isinstance(upcoming, EvalItem) and upcoming.case.test.problem is None and not _skipped(upcoming):
            session.submit(upcoming.case, upcoming.nodeid)


_all_submitted = pytest.StashKey[bool]()


def _upcoming(item: pytest.Item) -> list[pytest.Item]:
    items = item.session.items
    queued = queued_indices(item.config)
    if queued is None:  # not an xdist worker: every item runs here, submitted once
        if item.config.stash.get(_all_submitted, False):
            return []
        item.config.stash[_all_submitted] = True
        return items[items.index(item):] if item in items else [item]
    return [item, *(items[index] for index in queued if index < len(items))]


def _skipped(item: pytest.Item) -> bool:
    """Whether a skip or skipif mark applies (pytest's own evaluation, so conditions agree)."""
    try:
        from _pytest.skipping import evaluate_skip_marks

        return evaluate_skip_marks(item) is not None
    except Exception:  # a condition that cannot be evaluated here fails later, in pytest's own check
        return True
