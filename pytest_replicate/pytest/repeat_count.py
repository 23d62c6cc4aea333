"""pytest-repeat's ``--count`` and eval files.

pytest-repeat repeats test functions by parametrizing them, which eval items are not: they
would silently run once. Repeated samples of an eval case are ``--replicate-repeat``'s job
(recorded in the case's one cassette and reduced to one verdict), so collecting an eval file
under ``--count`` > 1 is an error. It is raised at collection, before any call is scheduled,
and pytest-xdist workers report it as they report any collection error.
"""

from __future__ import annotations

import pytest


def refuse_repeat_count(config: pytest.Config) -> None:
    """Fail the collection of an eval file when pytest-repeat's ``--count`` is above 1."""
    count = getattr(config.option, "count", None)
    if isinstance(count, int) and count > 1:
        pytest.fail(f"--count={count} (pytest-repeat) does not repeat eval items, which would run once each: "
                    f"use --replicate-repeat={count} to run each eval case {count} times, or --ignore the eval files",
                    pytrace=False)
