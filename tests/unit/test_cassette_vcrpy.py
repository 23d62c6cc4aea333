"""vcrpy is imported when a cassette first needs it, in one place (``cassettes/vcrpy.py``): never
by two of the plugin's threads at once, which can deadlock in Python's per-module import locks."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest_replicate

IMPORTS_AT_ONCE = textwrap.dedent("""
    import sys
    import threading

    import httpx

    from pytest_replicate.cassettes import cassette, vcrpy

    assert "vcr" not in sys.modules  # the plugin's cassette module does not import it
    vcrpy.IMPORT_AFTER = 0.0
    vcrpy.import_soon()  # a rewrite's first request is out: the import starts on its own thread
    errors = []

    def need() -> None:  # a call's answer comes back and is recorded meanwhile
        try:
            cassette._vcr_request(httpx.Request("GET", "http://127.0.0.1/v1/predictions/x"), {})
            cassette.match_on()
        except Exception as error:
            errors.append(repr(error))

    threads = [threading.Thread(target=need) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    print("errors:", errors)
""")


def test_threads_needing_vcrpy_while_it_is_imported_all_get_it() -> None:
    for _ in range(3):
        completed = subprocess.run([sys.executable, "-c", IMPORTS_AT_ONCE], capture_output=True, text=True,
                                   timeout=60, check=False)
        assert completed.returncode == 0, completed.stderr
        assert completed.stdout.strip() == "errors: []"


def test_every_import_of_vcrpy_goes_through_ensure() -> None:
    """A vcrpy module imported on its own, while another thread imports the package, can deadlock."""
    package = Path(pytest_replicate.__file__).parent
    for source in package.rglob("*.py"):
        lines = source.read_text(encoding="utf-8").splitlines()
        for number, line in enumerate(lines):
            if not re.match(r"\s*(from vcr[\w.]* import|import vcr)", line) or source.name == "vcrpy.py":
                continue
            if line.endswith("# called by vcrpy, so vcrpy is loaded"):  # a hook of vcrpy's (redaction.py)
                continue
            before = [text.strip() for text in lines[:number] if text.strip()]
            while before and before[-1].startswith("from vcr"):
                before.pop()
            assert before and (before[-1] in ("vcrpy.ensure()", "if TYPE_CHECKING:")), f"{source.name}:{number + 1}"
