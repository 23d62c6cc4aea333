"""Live-run speed with concurrent provider calls, as ratios measured in one run.

    python benchmarks/concurrency.py [--items 200] [--latency 0.3] [--concurrency 8] [--fast-items 1000] [--repeat 5]

Starts the bundled simulator with a fixed per-prediction latency and records a suite of
Llama items with ``pytest --record-mode=rewrite`` in a subprocess (so every item calls the
simulator), then prints:

1. wall time at ``--concurrency`` against the ideal ``items x latency / concurrency``
   (target: <= 1.05x);
2. the speed-up of ``--concurrency`` over ``--replicate-concurrency=1`` (target: >= 6x);
3. with latency 0 and ``--fast-items`` items: calls per second, and the plugin's own CPU time
   per item (the pytest process's CPU; the simulator runs in this process, not that one);
4. the simulator's own peak of simultaneous predictions, to show it is not the bottleneck.

Wall times cover the whole pytest process, start-up, collection and exit included, in the
environment ``environment.py`` describes (this plugin only, cached bytecode); a warm-up run
comes first. The concurrent run's wall time is
the median of ``--repeat`` runs, since the machines are shared and noisy; every run is printed.
(Its reference, the ideal time, is a constant, so there is nothing to alternate with.)
Uses only the command line, like a user would.
"""

from __future__ import annotations

import argparse
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from environment import pytest_environment

from pytest_replicate.simulator import Simulator

EVAL = """\
prompts: ["Say hello to number {{{{ n }}}}"]
providers:
  - id: replicate:meta/llama-2-7b-chat
tests:
  - vars:
      n: [{numbers}]
    assert:
      - type: icontains
        value: hello
"""


def run(folder: Path, simulator: Simulator, concurrency: int, bytecode: Path) -> tuple[float, float, float]:
    """Wall seconds, child CPU seconds, and pytest's own session time (after start-up) of one run."""
    simulator.reset()
    env = pytest_environment(bytecode, REPLICATE_BASE_URL=simulator.url, REPLICATE_API_TOKEN="r8_benchmark")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--record-mode=rewrite",
         f"--replicate-concurrency={concurrency}", str(folder)],
        env=env, capture_output=True, text=True, check=False,
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if completed.returncode != 0:
        sys.exit(f"pytest failed:\n{completed.stdout[-3000:]}\n{completed.stderr[-3000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    session = re.search(r" in ([\d.]+)s", completed.stdout.strip().splitlines()[-1])
    return wall, cpu, float(session.group(1)) if session else wall


def write_suite(folder: Path, count: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "bench.eval.yaml").write_text(EVAL.format(numbers=", ".join(f"'{n}'" for n in range(count))))
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=200)
    parser.add_argument("--latency", type=float, default=0.3)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--fast-items", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as temporary, Simulator(latency=args.latency) as simulator:
        bytecode = Path(temporary) / "bytecode"
        run(write_suite(Path(temporary) / "warm-up", args.concurrency), simulator, args.concurrency, bytecode)
        folder = write_suite(Path(temporary) / "suite", args.items)
        ideal = args.items * args.latency / args.concurrency
        runs = []
        for _ in range(args.repeat):
            runs.append((*run(folder, simulator, args.concurrency, bytecode), simulator.peak_running()))
        wall = statistics.median(run[0] for run in runs)
        session = statistics.median(run[2] for run in runs)
        peak = max(run[3] for run in runs)
        print(f"{args.items} items, latency {args.latency}s, concurrency {args.concurrency}: median {wall:.2f}s "
              f"(ideal {ideal:.2f}s) -> ratio {wall / ideal:.3f} (target <= 1.05); runs "
              f"{', '.join(f'{run[0]:.2f}s' for run in runs)}")
        print(f"  pytest's session alone (after interpreter and plugin start-up), median: {session:.2f}s "
              f"-> ratio {session / ideal:.3f}")
        print(f"  simulator peak of simultaneous predictions: {peak}")
        serial, _, _ = run(folder, simulator, 1, bytecode)
        print(f"same suite at concurrency 1: {serial:.2f}s -> speed-up {serial / wall:.2f}x (target >= 6x)")

    with tempfile.TemporaryDirectory() as temporary, Simulator(latency=0.0) as simulator:
        bytecode = Path(temporary) / "bytecode"
        run(write_suite(Path(temporary) / "warm-up", args.concurrency), simulator, args.concurrency, bytecode)
        folder = write_suite(Path(temporary) / "fast", args.fast_items)
        wall, cpu, _ = run(folder, simulator, args.concurrency, bytecode)
        print(f"{args.fast_items} items, latency 0, concurrency {args.concurrency}: {wall:.2f}s -> "
              f"{args.fast_items / wall:.0f} calls/s; plugin CPU {cpu / args.fast_items * 1000:.2f} ms per item; "
              f"simulator peak {simulator.peak_running()}")


if __name__ == "__main__":
    main()
