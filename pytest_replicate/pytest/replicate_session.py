"""What the fixtures hand to tests: call models, grade, record one cassette per test.

A test's calls use the plugin's session (pooled client, providers, graders, secret
scrubbing) and one cassette per test from the session's cassette library, named by the
eval items' rule: ``<module dir>/cassettes/<module>/<test name>.<hash>.yaml``. The hash
keeps our file apart from pytest-recording's ``<test name>.yaml`` in the same folder.

Nothing here imports vcrpy at import time: the HTTP layer comes with the session, which
``state.eval_session`` makes when something first needs it.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Mapping
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import pytest

from ..api import (
    AssertionInput,
    ModelResult,
    PromptInput,
    assert_output,
    grade_output,
    render_prompt,
    without_traceback,
)
from ..assertions import GradingResult
from ..cassettes import library
from ..cassettes.record_modes import RECORD_MODES
from ..errors import CassetteError, ConfigError, ProviderError, ReplicateEvalError
from ..providers.base import CallContext, Provider
from ..providers.replicate.settings import looks_secret
from ..redaction import protect
from ..report.failure import format_failure
from ..results.case import CaseResult
from ..run.runner import run_case as _run_case
from ..run.settings import command_line_record_mode
from .state import eval_session

if TYPE_CHECKING:
    from ..cassettes.cassette import Cassette
    from ..run.graders import SessionGraders
    from ..run.session import EvalSession
    from ..simulator import Simulator
    from ..suite.model import Case

# Not a real token: the simulator accepts any ``r8_`` token.
SIMULATOR_TOKEN = "r8_simulator_not_a_real_token"

_slots_key = pytest.StashKey[threading.BoundedSemaphore]()


class ReplicateModel:
    """A provider as a test sees it: ``llm("Say hi")`` or ``await llm.acall("Say hi")``."""

    def __init__(self, provider: Provider, session: ReplicateSession) -> None:
        self.provider = provider
        self._session = session

    @property
    def id(self) -> str:
        return self.provider.id

    def __call__(self, prompt: PromptInput, *, vars: Mapping[str, Any] | None = None) -> ModelResult:
        """Render ``prompt`` (a template, or chat messages) with ``vars`` and call the model.

        A failed prediction raises :class:`ProviderError`; a call the cassette cannot
        replay raises :class:`CassetteError` saying how to record it.
        """
        __tracebackhide__ = True
        try:
            return self._session._call(self.provider, prompt, vars)
        except ReplicateEvalError as error:
            raise without_traceback(error) from None

    async def acall(self, prompt: PromptInput, *, vars: Mapping[str, Any] | None = None) -> ModelResult:
        """The same call from an async test (asyncio or trio, through anyio): it runs in a
        worker thread, so ``asyncio.gather`` of several calls runs them at once, within
        the session's bound."""
        __tracebackhide__ = True
        import anyio.to_thread  # httpx depends on anyio, so it is always there

        try:
            return await anyio.to_thread.run_sync(partial(self._session._call, self.provider, prompt, vars))
        except ReplicateEvalError as error:
            raise without_traceback(error) from None

    def __repr__(self) -> str:
        return f"<ReplicateModel {self.provider.id}>"


class ProviderFactory(Protocol):
    """The ``replicate_provider`` fixture's type, for annotating a test's argument."""

    def __call__(self, provider_id: str, *, label: str | None = None, **config: Any) -> ReplicateModel: ...


class ReplicateSession:
    """The plugin's session as one test sees it: its cassette, its marker's options, the
    simulator if it asked for one. The ``replicate_session`` fixture returns it."""

    def __init__(self, session: EvalSession, *, cassette: Path | None, rerun_hint: str,
                 record_mode: str | None = None, provider_defaults: Mapping[str, Any] | None = None,
                 env: Mapping[str, str] | None = None, slots: threading.BoundedSemaphore | None = None) -> None:
        self.session = session
        self.cassette_path = cassette  # None: calls go straight to the (simulated) API
        self.record_mode = record_mode or session.settings.record_mode
        self.provider_defaults = dict(provider_defaults or {})
        self.env = dict(env or {})
        self._rerun_hint = rerun_hint
        self._slots = slots or threading.BoundedSemaphore(session.settings.concurrency)
        self._lock = threading.Lock()
        self._cassette: Cassette | None = None
        # A call failed or missed its cassette: saving would make replay repeat the failure.
        self._call_failed = False

    def provider(self, provider_id: str, *, label: str | None = None, **config: Any) -> ReplicateModel:
        """A model from the same id and config as in YAML; the marker's config are defaults."""
        __tracebackhide__ = True
        # pytest -l --full-trace prints this frame's locals even when it is hidden: the token too.
        protect(config, ["apiKey", *(key for key in config if looks_secret(key))])
        try:
            provider = self.session.provider(provider_id, label=label, config={**self.provider_defaults, **config},
                                             env=self.env)
        except ReplicateEvalError as error:
            raise without_traceback(error) from None
        return ReplicateModel(provider, self)

    @property
    def graders(self) -> SessionGraders:
        return self.session.graders(env=self.env)

    def grade_output(self, output: Any, assertions: AssertionInput, value: Any = None, **options: Any) -> GradingResult:
        """:func:`grade_output` with this test's graders: model-graded checks work on any output
        (text your own code produced, a ``run_case`` result), their calls in this test's cassette."""
        __tracebackhide__ = True
        return grade_output(output, assertions, value, **self._grading(options))

    def assert_output(self, output: Any, assertions: AssertionInput, value: Any = None, **options: Any) -> GradingResult:
        """:func:`assert_output` with this test's graders (see :meth:`grade_output`); its report hides the
        session's tokens whatever the output is (text your code made from a var, say)."""
        __tracebackhide__ = True
        try:
            return assert_output(output, assertions, value, **self._grading(options))
        except AssertionError as failure:
            raise AssertionError(self.session.redactor.redact(str(failure))) from None

    def _grading(self, options: dict[str, Any]) -> dict[str, Any]:
        options.setdefault("graders", self.graders)
        if "call_context" not in options:
            try:
                options["call_context"] = self._context(options.get("vars") or {})
            except ReplicateEvalError as error:
                raise without_traceback(error) from None
        return options

    def run_case(self, case: Case, *, check: bool = True) -> CaseResult:
        """Evaluate one case from :func:`load_suite` inside this test's cassette.

        With ``check`` (the default) a failing case raises ``AssertionError`` with the
        eval failure report; ``check=False`` returns the result for checks of your own.
        """
        __tracebackhide__ = True
        suite = dataclasses.replace(case.suite, env={**case.suite.env, **self.env})
        try:
            provider = self.session.provider_for(case.provider, suite)
            context = self._context(case.vars)
        except ReplicateEvalError as error:
            raise without_traceback(error) from None
        with self._slots:
            result = _run_case(case, provider, context, graders=self.session.graders(env=suite.env, file=suite.file,
                                                                                       options=case.test.options))
        result.cassette = self.cassette_path
        result.redactor = self.session.redactor
        if result.call_failed:
            self._call_failed = True
        if check and not result.passed:
            raise AssertionError(self.session.redactor.redact(format_failure(result)))
        return result

    def _call(self, provider: Provider, prompt: PromptInput, vars: Mapping[str, Any] | None) -> ModelResult:
        variables = dict(vars or {})
        text = render_prompt(prompt, variables)
        context = self._context(variables)
        with self._slots:
            try:
                response = provider.call(text, context)
            except BaseException:  # a cassette miss, a network error, Ctrl-C
                self._call_failed = True
                raise
        if response.error is not None:
            self._call_failed = True
            raise ProviderError(response.error)
        return ModelResult(provider.id, text, variables, response, graders=self.graders, call_context=context,
                           redactor=self.session.redactor)

    def _context(self, vars: Mapping[str, Any]) -> CallContext:
        # 429s tell the scheduler too, so eval items running ahead slow down with the test.
        return self.session.call_context(vars, self._open())

    def _open(self) -> Cassette | None:
        """The test's cassette, opened on its first call: a test that calls nothing writes nothing."""
        if self.cassette_path is None:
            return None
        with self._lock:
            if self._cassette is None:
                self._cassette = self.session.cassettes.open(self.cassette_path, self._rerun_hint, self.record_mode)
            return self._cassette

    def __repr__(self) -> str:
        return f"<ReplicateSession {self._rerun_hint}>"

    def finish(self) -> None:
        """The test is done with its cassette: saved if every call succeeded (as an eval item's
        is), never after Ctrl-C."""
        if self._cassette is None:
            return
        try:
            self.session.cassettes.done(self._cassette,
                                        save=not self._call_failed and not self.session.cancel.is_set())
        except CassetteError as error:
            pytest.fail(str(error), pytrace=False)


# --- options from the marker --------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class MarkerOptions:
    record_mode: str | None = None
    cassette: str | None = None
    provider_defaults: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    @classmethod
    def of(cls, node: pytest.Item) -> MarkerOptions:
        """Every ``replicate`` marker of the test, its class and module; the closest wins."""
        merged: dict[str, Any] = {}
        for mark in reversed(list(node.iter_markers("replicate"))):
            if mark.args:
                raise ConfigError(f"@pytest.mark.replicate takes keyword arguments only, got {mark.args!r}")
            merged.update(mark.kwargs)
        record_mode = merged.pop("record_mode", None)
        if record_mode is not None and record_mode not in RECORD_MODES:
            raise ConfigError(f"@pytest.mark.replicate(record_mode={record_mode!r}): choose one of "
                              f"{', '.join(RECORD_MODES)}")
        cassette = merged.pop("cassette", None)
        return cls(record_mode, None if cassette is None else str(cassette), merged)


def record_mode_for(config: pytest.Config, marker: str | None) -> str | None:
    """pytest-recording's precedence: command line > marker > ini > default.

    ``None`` means the session's mode (ini or default) applies.
    """
    return None if command_line_record_mode(config) else marker


def cassette_path_for(node: pytest.Item, directory: str, name: str | None = None) -> Path:
    """The test's cassette by the library's rule (its name: the node id within the module), or the marker's ``cassette``."""
    if name is not None:
        return library.shared_cassette_path(Path(node.path), name, directory)
    return library.cassette_path(Path(node.path), library.name_in_source(node.nodeid), directory)


def _slots(config: pytest.Config, session: EvalSession) -> threading.BoundedSemaphore:
    """Model calls made through fixtures at once, across the whole session and in any thread
    (sync tests, and ``acall`` from asyncio or anyio tests): ``--replicate-concurrency``.

    Kept beside the session in the config stash. The scheduler bounds eval items' calls
    with the same number; a test function's calls wait for this bound, not the scheduler's
    queue, since pytest runs the test while the scheduler works ahead on later items.
    """
    if _slots_key not in config.stash:
        config.stash[_slots_key] = threading.BoundedSemaphore(session.settings.concurrency)
    return config.stash[_slots_key]


def simulator_env(simulator: Simulator) -> dict[str, str]:
    """What points providers at the simulator: its URL and a fake token."""
    return {"REPLICATE_BASE_URL": simulator.url, "REPLICATE_API_TOKEN": SIMULATOR_TOKEN}


def session_for(request: pytest.FixtureRequest) -> ReplicateSession:
    """The ``replicate_session`` fixture's value: the test's cassette, marker options and simulator."""
    node = request.node
    assert isinstance(node, pytest.Item)
    session = eval_session(request.config)
    options = MarkerOptions.of(node)
    env: dict[str, str] = {}
    cassette: Path | None = cassette_path_for(node, session.settings.cassette_dir, options.cassette)
    if "replicate_simulator" in request.fixturenames:
        env = simulator_env(request.getfixturevalue("replicate_simulator"))
        cassette = None
    return ReplicateSession(session, cassette=cassette, rerun_hint=node.nodeid,
                            record_mode=record_mode_for(request.config, options.record_mode),
                            provider_defaults=options.provider_defaults, env=env, slots=_slots(request.config, session))
