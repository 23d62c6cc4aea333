"""What an eval file's collection built, kept out of the garbage collector's sight for the session.

Collecting a file of many cases builds millions of objects (the suite, its cases, their items)
that all live as long as the session, yet every later full collection would walk all of them
again: pytest's own while it collects and runs, and the five it runs at exit to surface
unraisable exceptions, over a second for 100,000 items. So once a file's items are built,
every object alive is frozen (``gc.freeze``), and given back to the collector when pytest's
own cleanup is over, so that an in-process run (pytester) leaves nothing frozen behind. A
cycle that is already garbage when the file is frozen is kept until then: the collector is
paused while a file is built, so there is next to none. A heap someone else froze (a program
calling ``pytest.main()``) is left as it is, and not thawed.
"""

from __future__ import annotations

import gc

import pytest

_froze = pytest.StashKey[bool]()


def thaw_at_the_end(config: pytest.Config) -> None:
    """Unfreeze when the session's cleanup ends, if a file was frozen.

    Called from ``pytest_configure``, which runs before pytest's own plugins' (this plugin is
    registered after them): cleanups run in reverse, so this one runs after pytest's collections.
    """
    def thaw() -> None:
        if config.stash.get(_froze, False):
            gc.unfreeze()

    config.add_cleanup(thaw)


def freeze_collected(config: pytest.Config) -> None:
    """Freeze every object alive now (called once an eval file's items are built)."""
    if gc.get_freeze_count() and not config.stash.get(_froze, False):
        return  # frozen by someone else, who would not expect it thawed
    config.stash[_froze] = True
    gc.freeze()
