"""The sibling items of a ``select-best`` case, and their outputs, for the session.

A select-best item needs the outputs of the same test (same vars) under every prompt and
provider of its eval file, in column order. The session calls each such case's model
without grading it (the item's cassette stays open), and grades it when its item runs,
in pytest's main thread, once the siblings' outputs are known. Outputs never wait on
grading, so no call can wait on another in a cycle and the scheduler cannot deadlock.

Where a sibling's output comes from:
- submitted to this process's scheduler: its (ungraded) result, waiting if need be;
- already called here (its item ran, or an earlier sibling asked for it): that result;
- otherwise, in a plain run: called now, in its own cassette, and kept for its own item;
- otherwise, under pytest-xdist (the sibling may run on another worker): called now
  inside the asking item's cassette, so that item replays on its own. Recording live
  with a non-deterministic model, that output may differ from the one the sibling's own
  item reports; replay is always consistent.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..assertions.base import Graders
from ..cassettes.cassette import Cassette
from ..providers.base import CallContext
from ..suite.expand import expand
from ..suite.model import Case, EvalSuite


def needs_siblings(case: Case) -> bool:
    return any(spec.type == "select-best" for spec in case.test.asserts)


@dataclass
class Held:
    """A called, ungraded case: what its grading still needs."""

    cassette: Cassette
    context: CallContext
    graders: Graders


def sibling_cases(case: Case, nodeid: str, expanded: dict[int, list[Case]]) -> list[tuple[Case, str]]:
    """(case, node id) of every case of ``case``'s test and vars, in column order, itself included.

    Expansion is deterministic, so re-expanding the suite gives the collected names; node
    ids share the eval file's prefix. ``expanded`` caches one expansion per suite.
    """
    suite: EvalSuite = case.suite
    cases = expanded.setdefault(id(suite), expand(suite))
    prefix = nodeid[: len(nodeid) - len(case.name)]
    return [(other, prefix + other.name) for other in cases
            if other.test is case.test and other.vars == case.vars]
