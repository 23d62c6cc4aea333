"""Everything pytest-replicate knows about pytest-xdist, in one place.

Public xdist API where it has one: ``config.workerinput`` tells a worker (xdist's documented
test), ``workeroutput`` carries data to the controller at the end of a worker's session
(read in ``pytest_testnodedown``), and the ``pytest_xdist_node_collection_finished`` hook
gives the controller the collected node ids. Case results travel on test reports, which
xdist serializes with their extra attributes (see ``reporting.py``).

One thing has no public API: which items a worker has been sent but not run yet. The
scheduler needs it to start those items' calls early, so :func:`queued_indices` reads it
from xdist's worker object, here and nowhere else.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import pytest

_STATS = "pytest_replicate_stats"  # the workeroutput key of a worker's RunStats.as_dict()
_DESELECTED = "pytest_replicate_deselected"  # the workeroutput key: the worker deselected items
_LEDGER = "pytest_replicate_spend_ledger"  # the workerinput key: the file the workers' live spend adds up in
_ledger_key = pytest.StashKey[Path]()


def is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def is_controller(config: pytest.Config) -> bool:
    """Whether this process hands the items to xdist workers (``-n``)."""
    return config.pluginmanager.hasplugin("dsession")


def send_stats(config: pytest.Config, stats: dict[str, Any]) -> None:
    """On a worker, at session finish: hand ``stats`` to the controller."""
    config.workeroutput[_STATS] = stats  # type: ignore[attr-defined]


def received_stats(node: Any) -> dict[str, Any] | None:
    """On the controller, in ``pytest_testnodedown``: what worker ``node`` sent, if anything."""
    return getattr(node, "workeroutput", {}).get(_STATS)


class DeselectionNote:
    """On a worker: tell the controller that items were deselected, which it cannot see (workers
    collect, so the controller's ``pytest_deselected`` never fires): the run is partial."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config

    def pytest_deselected(self, items: list[pytest.Item]) -> None:
        if items:
            self.config.workeroutput[_DESELECTED] = True  # type: ignore[attr-defined]


def worker_deselected(node: Any) -> bool:
    """On the controller, in ``pytest_testnodedown``: whether worker ``node`` deselected items."""
    return bool(getattr(node, "workeroutput", {}).get(_DESELECTED))


def queued_indices(config: pytest.Config) -> list[int] | None:
    """On a worker: positions in ``session.items`` of the items sent to it and not run yet,
    the next one first; None outside a worker.

    Reads xdist internals (``WorkerInteractor.torun`` and ``nextitem_index``, pytest-xdist 3.x);
    if they change, the worker only starts calls later, when their items run.
    """
    if not is_worker(config):
        return None
    worker = next((plugin for plugin in config.pluginmanager.get_plugins()
                   if hasattr(plugin, "torun") and hasattr(plugin, "nextitem_index")), None)
    if worker is None:
        return []
    with worker.torun.lock() as queue:
        indices = [index for index in queue if isinstance(index, int)]
    following = worker.nextitem_index
    if isinstance(following, int):
        indices.insert(0, following)
    return indices


def share_spend(node: Any) -> None:
    """On the controller, as it starts worker ``node`` of a run with a spend limit: name the file every
    worker appends its live spend to (``run/spend.py``), so the limit caps the whole run, not each worker."""
    config = node.config
    ledger = config.stash.get(_ledger_key, None)
    if ledger is None:
        descriptor, name = tempfile.mkstemp(prefix="pytest-replicate-spend-", suffix=".txt")
        os.close(descriptor)
        ledger = config.stash[_ledger_key] = Path(name)
    node.workerinput[_LEDGER] = str(ledger)


def spend_ledger(config: pytest.Config) -> Path | None:
    """On a worker: the shared spend file the controller named; None elsewhere or without a limit."""
    name = getattr(config, "workerinput", {}).get(_LEDGER)
    return Path(name) if name else None


def remove_spend_ledger(config: pytest.Config) -> None:
    """On the controller, at the end: delete the shared spend file, if one was made."""
    ledger = config.stash.get(_ledger_key, None)
    if ledger is not None:
        ledger.unlink(missing_ok=True)
