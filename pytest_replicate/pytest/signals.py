"""SIGTERM and SIGHUP stop a run as Ctrl-C does.

CI systems and ``timeout(1)`` cancel a job with SIGTERM (a closed terminal sends SIGHUP), whose
default action ends the process at once: every prediction in flight would keep running, and
billing. While an eval session exists, the main thread turns them into KeyboardInterrupt, so
pytest stops the run and the session cancels its predictions as on Ctrl-C, and the run ends
with pytest's "interrupted" exit status. A second signal meets the previous handler again:
by default it ends the process at once, as a second Ctrl-C breaks the cleanup.

Under pytest-xdist both sides install them. A worker makes its session when it collects eval
files, and a process-group kill reaches it directly. The controller, which xdist leaves to
SIGTERM's default (it would vanish without a word), installs them once a worker collected YAML
items: it then stops as on Ctrl-C, and its workers, told to stop, cancel their predictions.
"""

from __future__ import annotations

import signal
import threading
from types import FrameType
from typing import Any

import pytest

STOPPING_SIGNALS = ("SIGTERM", "SIGHUP")  # by name: Windows has no SIGHUP


class SignalStop:
    """The stopping signals' handlers, installed for the life of an eval session."""

    def __init__(self) -> None:
        self.received: str | None = None  # the first signal's name, once one came
        self._previous: dict[int, Any] = {}

    def install(self) -> None:
        """Handle the signals (Python runs handlers in the main thread only, and sets them only there)."""
        # Once a signal came, never again: a second one must end the process at once.
        if self._previous or self.received is not None or threading.current_thread() is not threading.main_thread():
            return
        for name in STOPPING_SIGNALS:
            number = getattr(signal, name, None)
            if number is not None:
                self._previous[number] = signal.signal(number, self._handle)

    def restore(self) -> None:
        """Put the handlers back as they were before :meth:`install`."""
        for number, previous in self._previous.items():
            signal.signal(number, previous)
        self._previous.clear()

    def _handle(self, number: int, frame: FrameType | None) -> None:
        self.received = signal.Signals(number).name
        self.restore()
        raise KeyboardInterrupt(self.received)


_key = pytest.StashKey[SignalStop]()


def install_signal_handlers(config: pytest.Config) -> None:
    config.stash.setdefault(_key, SignalStop()).install()


def install_for_workers(config: pytest.Config, nodeids: list[str]) -> None:
    """On the xdist controller: handle the signals if the workers collected eval items (YAML files)."""
    if any(nodeid.split("::")[0].endswith((".yaml", ".yml")) for nodeid in nodeids):
        install_signal_handlers(config)


def restore_signal_handlers(config: pytest.Config) -> None:
    stop = config.stash.get(_key, None)
    if stop is not None:
        stop.restore()


def received_signal(config: pytest.Config) -> str | None:
    """The name of the signal that stopped the run, if one did."""
    stop = config.stash.get(_key, None)
    return stop.received if stop is not None else None
