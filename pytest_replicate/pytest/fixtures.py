"""Fixtures for the test suites people already have: call models, grade, record per test.

Only the fixture functions live here, so pytest can register them without loading the
machinery behind them (``replicate_session.py``), which a test pays for when it uses one.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from ..simulator import Simulator
    from .replicate_session import ProviderFactory, ReplicateSession

MARKER = (
    "replicate(record_mode=None, cassette=None, **provider_config): options for the model calls this test "
    "makes through pytest-replicate's fixtures: the cassette record mode (the command line's --record-mode "
    "wins), a cassette name shared with other tests, and provider config defaults such as temperature."
)


@pytest.fixture
def replicate_session(request: pytest.FixtureRequest) -> Iterator[ReplicateSession]:
    """The plugin's session for this test: ``.provider(...)``, ``.run_case(case)``, its cassette.

    Tests that also use ``replicate_simulator`` call the simulator directly, without a
    cassette: it answers the same way every time, so there is nothing to record.
    """
    from .replicate_session import session_for
    from .state import settings_key

    if request.config.stash[settings_key].plan:  # its calls cannot be known without running it
        pytest.skip("plan only (--replicate-plan): a test calling models through replicate_session is not run")
    scope = session_for(request)
    yield scope
    scope.finish()


@pytest.fixture
def replicate_provider(replicate_session: ReplicateSession) -> ProviderFactory:
    """``replicate_provider("replicate:meta/llama-2-7b-chat", temperature=0.01)``: a callable model.

    Keyword arguments are the provider's ``config`` as in YAML (``prompt={"prefix": ...}``,
    ``max_new_tokens``, ``apiKey``...); ``label=`` names it.
    """
    return replicate_session.provider


@pytest.fixture(scope="session")
def replicate_simulator() -> Iterator[Simulator]:
    """The bundled Replicate simulator on 127.0.0.1 for the test session (opt-in).

    Fixture-made providers in tests that request it call the simulator with a fake token.
    Point your own client at it with ``monkeypatch.setenv("REPLICATE_BASE_URL", replicate_simulator.url)``.
    """
    from ..simulator import Simulator

    with Simulator() as simulator:
        yield simulator
