"""vcrpy, imported whole when a cassette first needs it: :func:`ensure` comes before every
``from vcr... import`` of the plugin's.

Importing vcrpy takes 70 to 90 ms (``vcr.patch`` imports requests, botocore, urllib3 and
unittest.mock to learn what it could patch), so it is not imported with the eval machinery.
A rewrite needs none of it until its first answer is recorded: its first requests go out,
then :func:`import_soon` imports it on a thread of its own while they wait for the model.

vcrpy's package imports its modules from its ``__init__``, and two threads importing different
vcrpy modules at once can deadlock in Python's per-module import locks (Python then fails one
of the imports). So the plugin imports vcrpy in one place, under one lock, and whole.
"""

from __future__ import annotations

import sys
import threading
import time

# After the first request of a rewrite is written, the import waits this long, so that the
# calls starting with it are out too before it takes the interpreter lock for ~80 ms.
IMPORT_AFTER = 0.02  # seconds

_lock = threading.Lock()  # held while the plugin imports vcrpy
_asking = threading.Lock()
_asked = False


def ensure() -> None:
    """Import vcrpy unless it is imported already (waiting for an import of ours in progress)."""
    module = sys.modules.get("vcr")
    if module is not None and not getattr(module.__spec__, "_initializing", False):
        return
    with _lock:
        import vcr  # noqa: F401  (the whole package: its __init__ imports its modules)


def import_soon() -> None:
    """Import vcrpy on a thread of its own, shortly (``IMPORT_AFTER``), once per process."""
    global _asked
    with _asking:
        if _asked or "vcr" in sys.modules:
            return
        _asked = True

    def load() -> None:
        time.sleep(IMPORT_AFTER)
        try:
            ensure()
        except Exception:  # whatever needs vcrpy imports it again, and says what is wrong
            pass

    threading.Thread(target=load, name="pytest-replicate-import-vcrpy", daemon=True).start()
