"""The heap as collection leaves it is frozen (``gc.freeze``), so garbage collections skip it.

At the end of a run pytest collects garbage over the whole heap twice (its unraisable-exception
check), and the interpreter does again as it exits; with the eval machinery loaded each pass
walks some 70,000 objects (modules, the items, the suite), which is most of a live run's exit
time. Nearly all of them live until the end anyway. Frozen after collection, they are left out of
those passes and of the collections during the run; objects made later are collected as usual.

When pytest's own command line runs (``pytest``, ``python -m pytest``) the process exits with the
run, so the heap stays frozen to the end. ``pytest.main()`` called by a program that goes on
(pytester's in-process runs, an IDE, a notebook) gets it back at the end of the run
(``gc.unfreeze``), so what the run leaves behind is collected. A heap someone else froze is left
alone.
"""

from __future__ import annotations

import gc
import sys
from types import FrameType

import _pytest.config
import pytest

_PYTEST_CONFIG = _pytest.config.__file__
_COMMAND_LINES = ("console_main", "_console_main")


def freeze_after_collection(config: pytest.Config) -> None:
    """Freeze the heap now (collection is over); thawed at the end unless the process ends with the run."""
    if gc.get_freeze_count():  # frozen by someone else, who would not expect it thawed
        return
    gc.freeze()
    if not _process_ends_with_run(sys._getframe()):
        config.add_cleanup(gc.unfreeze)


def _process_ends_with_run(frame: FrameType | None) -> bool:
    """Whether the pytest run on this stack is pytest's command line rather than ``pytest.main()``.

    The innermost of pytest's entry points on the stack tells: ``_main`` (pytest >= 9.2) is
    called by ``_console_main`` for the command line and by ``main`` for ``pytest.main()``;
    before 9.2, ``main`` is called by ``console_main`` or by the program. Anything else (an
    xdist worker, a pytest that changed these names) counts as a program that goes on.
    """
    while frame is not None:
        code = frame.f_code
        if code.co_filename == _PYTEST_CONFIG:
            if code.co_name in _COMMAND_LINES:
                return True
            if code.co_name == "main":
                caller = frame.f_back
                return (caller is not None and caller.f_code.co_filename == _PYTEST_CONFIG
                        and caller.f_code.co_name in _COMMAND_LINES)
        frame = frame.f_back
    return False
