"""What the plugin adds to pytest's start-up in a project with no eval file, measured in one run.

    python benchmarks/startup.py [--repeat 15]

Runs ``pytest`` on one trivial test, alternately with and without this plugin loaded, and
prints the median wall time and the median peak resident memory of each, and the difference.
Target: at most +0.03 s and +3 MB. It also lists the heavy libraries the plugin's process
imported that bare pytest's did not: with lazy start-up there should be none.

Both commands run in the environment ``environment.py`` describes (this plugin only, cached
bytecode); the plugin-less run has no ``-p`` at all.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from alternating import alternate, median_of
from environment import pytest_environment

TEST = "def test_trivial():\n    assert True\n"
# Printed by the child at exit: the heavy modules it imported, to say where start-up goes.
REPORT_IMPORTS = """
import atexit, sys
HEAVY = ("httpx", "jinja2", "jsonschema", "vcr", "yaml")
def _report():
    loaded = sorted({name.split(".")[0] for name in sys.modules if name.split(".")[0] in HEAVY})
    ours = sum(1 for name in sys.modules if name.startswith("pytest_replicate"))
    sys.__stderr__.write("IMPORTED " + (", ".join(loaded) or "none") + f" ({ours} modules of the plugin)\\n")
atexit.register(_report)
"""


def run_once(folder: Path, env: dict[str, str]) -> tuple[float, float, str]:
    """(seconds, peak MB, imported heavy modules) of one pytest process."""
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_one.py"],
                               cwd=folder, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    stderr = process.stderr.read().decode() if process.stderr else ""
    process.stderr.close() if process.stderr else None
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"pytest failed:\n{stderr}")
    imported = next((line.removeprefix("IMPORTED ") for line in stderr.splitlines() if line.startswith("IMPORTED ")), "")
    return seconds, usage.ru_maxrss / 1024, imported


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=15, help="runs of each command, alternating (default 15)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temp:
        root = Path(temp)
        folder = root / "project"
        folder.mkdir()
        (folder / "test_one.py").write_text(TEST)
        (root / "sitecustomize").mkdir()
        (root / "sitecustomize" / "sitecustomize.py").write_text(REPORT_IMPORTS)
        path = os.pathsep.join(filter(None, [str(root / "sitecustomize"), os.environ.get("PYTHONPATH")]))
        with_plugin = pytest_environment(root / "bytecode", PYTHONPATH=path)
        without = {**with_plugin, "PYTEST_ADDOPTS": ""}
        for env in (without, with_plugin):  # warm-up: bytecode cached, files in the page cache
            run_once(folder, env)
        pairs = alternate(args.repeat, lambda: run_once(folder, with_plugin), lambda: run_once(folder, without))
    for side, name in ((1, "bare pytest"), (0, "with the plugin")):
        print(f"{name:16s} median of {args.repeat}: {median_of(pairs, side):.3f} s, peak {median_of(pairs, side, 1):.1f} MB; "
              f"imported: {pairs[-1][side][2]}")
    extra_seconds = statistics.median(a[0] - b[0] for a, b in pairs)
    extra_mb = statistics.median(a[1] - b[1] for a, b in pairs)
    print(f"plugin start-up cost, median of {args.repeat} alternating pairs' differences: {extra_seconds:+.3f} s "
          f"(target <= +0.030 s), {extra_mb:+.1f} MB (target <= +3.0 MB)")

if __name__ == "__main__":
    main()
