"""What the plugin keeps on pytest's config: its settings, and the session, made on first need.

The session brings the whole eval machinery (httpx, vcrpy, Jinja2, the schema). pytest loads
this plugin in every project it is installed in, so the session is made only when an eval
file is collected, a fixture of ours runs or a worker's figures arrive, never at start-up.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from ..run.settings import Settings
from .report_settings import ReportSettings
from .signals import install_signal_handlers
from .xdist import is_worker, spend_ledger

if TYPE_CHECKING:
    from ..run.session import EvalSession

settings_key = pytest.StashKey[Settings]()
report_settings_key = pytest.StashKey[ReportSettings]()
_session_key = pytest.StashKey["EvalSession"]()


def eval_session(config: pytest.Config) -> EvalSession:
    """The run's session, made now if this is the first time it is needed."""
    session = config.stash.get(_session_key, None)
    if session is None:
        # Imported only now: it loads the eval machinery (vcrpy itself once a cassette needs it, after
        # pytest-recording has registered vcrpy's matchers for assertion rewriting).
        from ..run.session import EvalSession

        # An xdist worker: other processes run some items (select-best siblings, see select_best.py).
        session = config.stash[_session_key] = EvalSession(config.stash[settings_key], distributed=is_worker(config),
                                                           spend_ledger=spend_ledger(config))
        install_signal_handlers(config)  # SIGTERM and SIGHUP now cancel its predictions as Ctrl-C does
    return session


def started_session(config: pytest.Config) -> EvalSession | None:
    """The session if anything needed it so far; None in a run that used nothing of ours."""
    return config.stash.get(_session_key, None)
