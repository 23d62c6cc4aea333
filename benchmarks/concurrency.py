"""Live-run speed with concurrent provider calls, as ratios measured in one run.

    python benchmarks/concurrency.py [--items 200] [--latency 0.3] [--concurrency 8] [--fast-items 1000]
                                     [--repeat 5] [--against PATH]

Starts the bundled simulator with a fixed per-prediction latency and records a suite of
Llama items with ``pytest --record-mode=rewrite`` in a subprocess (so every item calls the
simulator), then prints:

1. wall time at ``--concurrency`` against the ideal ``items x latency / concurrency``
   (target: <= 1.05x), with pytest's session alone (its "in N s"), the process outside it
   (start-up and exit) and the CPU per item;
2. the speed-up of ``--concurrency`` over ``--replicate-concurrency=1`` (target: >= 6x);
3. with latency 0 and ``--fast-items`` items: calls per second, and the plugin's own CPU time
   per item (the pytest process's CPU; the simulator runs in this process, not that one);
4. the simulator's own peak of simultaneous predictions, to show it is not the bottleneck.

Wall times cover the whole pytest process, start-up, collection and exit included, in the
environment ``environment.py`` describes (this plugin only, cached bytecode); a warm-up run
comes first. The concurrent run's figures are medians of ``--repeat`` runs, since the machines
are shared and noisy; every run is printed. Its reference, the ideal time, is a constant; to
compare with other code, ``--against PATH`` (another checkout, e.g. the main branch) runs it
alternately with this one (A, B, A, B, ...) and prints its medians and the median of the
pairs' ratios too. The processes run in a scratch folder with the checkout first on
PYTHONPATH, so the code timed is the checkout's whatever the current folder.
Uses only the command line, like a user would.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
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


CHECKOUT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Run:
    """One pytest process: wall seconds, its CPU seconds, pytest's session alone, the simulator's peak."""

    wall: float
    cpu: float
    session: float
    peak: int

    @property
    def outside(self) -> float:
        """The process outside pytest's session: interpreter, pytest and plugin start-up, and exit."""
        return self.wall - self.session


def run(folder: Path, simulator: Simulator, concurrency: int, bytecode: Path, checkout: Path = CHECKOUT) -> Run:
    """One recording of ``folder`` by the code of ``checkout``."""
    simulator.reset()
    env = pytest_environment(bytecode, REPLICATE_BASE_URL=simulator.url, REPLICATE_API_TOKEN="r8_benchmark")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, (str(checkout), env.get("PYTHONPATH"))))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--record-mode=rewrite",
         f"--replicate-concurrency={concurrency}", str(folder)],
        env=env, capture_output=True, text=True, check=False, cwd=bytecode.parent,
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if completed.returncode != 0:
        sys.exit(f"pytest failed:\n{completed.stdout[-3000:]}\n{completed.stderr[-3000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    session = re.search(r" in ([\d.]+)s", completed.stdout.strip().splitlines()[-1])
    return Run(wall, cpu, float(session.group(1)) if session else wall, simulator.peak_running())


def summary(name: str, runs: list[Run], items: int, ideal: float) -> str:
    wall, session = statistics.median(r.wall for r in runs), statistics.median(r.session for r in runs)
    return (f"{name}: median {wall:.2f}s (ideal {ideal:.2f}s) -> ratio {wall / ideal:.3f} (target <= 1.05); "
            f"pytest's session alone {session:.2f}s -> {session / ideal:.3f}; outside the session (start-up, "
            f"exit) {statistics.median(r.outside for r in runs):.2f}s; CPU "
            f"{statistics.median(r.cpu for r in runs) / items * 1000:.2f} ms per item\n"
            f"  runs: {', '.join(f'{r.wall:.2f}s (session {r.session:.2f}s)' for r in runs)}")


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
    parser.add_argument("--against", type=Path, default=None, metavar="PATH",
                        help="another checkout, timed alternately with this one")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as temporary, Simulator(latency=args.latency) as simulator:
        bytecode = Path(temporary) / "bytecode"
        other = Path(temporary) / "bytecode-against"
        folder = write_suite(Path(temporary) / "suite", args.items)
        run(write_suite(Path(temporary) / "warm-up", args.concurrency), simulator, args.concurrency, bytecode)
        if args.against is not None:
            run(write_suite(Path(temporary) / "warm-up", args.concurrency), simulator, args.concurrency, other,
                args.against)
        ideal = args.items * args.latency / args.concurrency

        def ours() -> Run:
            return run(folder, simulator, args.concurrency, bytecode)

        print(f"{args.items} items, latency {args.latency}s, concurrency {args.concurrency}")
        if args.against is None:
            runs = [ours() for _ in range(args.repeat)]
            print(summary("this checkout", runs, args.items, ideal))
        else:
            against: Path = args.against
            pairs = [(ours(), run(folder, simulator, args.concurrency, other, against)) for _ in range(args.repeat)]
            runs = [pair[0] for pair in pairs]
            print(summary("this checkout", runs, args.items, ideal))
            print(summary(f"against {against}", [pair[1] for pair in pairs], args.items, ideal))
            print(f"  this checkout / the other, median of the {len(pairs)} pairs: wall "
                  f"{statistics.median(a.wall / b.wall for a, b in pairs):.3f}, CPU "
                  f"{statistics.median(a.cpu / b.cpu for a, b in pairs):.3f}")
        print(f"  simulator peak of simultaneous predictions: {max(r.peak for r in runs)}")
        wall = statistics.median(r.wall for r in runs)
        serial = run(folder, simulator, 1, bytecode).wall
        print(f"same suite at concurrency 1: {serial:.2f}s -> speed-up {serial / wall:.2f}x (target >= 6x)")

    with tempfile.TemporaryDirectory() as temporary, Simulator(latency=0.0) as simulator:
        bytecode = Path(temporary) / "bytecode"
        run(write_suite(Path(temporary) / "warm-up", args.concurrency), simulator, args.concurrency, bytecode)
        folder = write_suite(Path(temporary) / "fast", args.fast_items)
        fast = [run(folder, simulator, args.concurrency, bytecode) for _ in range(min(3, args.repeat))]
        wall, cpu = statistics.median(r.wall for r in fast), statistics.median(r.cpu for r in fast)
        print(f"{args.fast_items} items, latency 0, concurrency {args.concurrency} (median of {len(fast)}): "
              f"{wall:.2f}s -> {args.fast_items / wall:.0f} calls/s; plugin CPU {cpu / args.fast_items * 1000:.2f} ms "
              f"per item (runs: {', '.join(f'{r.cpu / args.fast_items * 1000:.2f}' for r in fast)}); "
              f"simulator peak {max(r.peak for r in fast)}")


if __name__ == "__main__":
    main()
