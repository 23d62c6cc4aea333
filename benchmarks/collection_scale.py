"""Collection time and peak memory for one eval file of many cases, against bare pytest.

    python benchmarks/collection_scale.py [--cases 100000] [--shape tests|lists] [--repeat 3] [--first-run]

Writes an eval file of ``--cases`` cases into a temporary folder and runs
``pytest --collect-only -q`` on it in a child process, with the case limit raised, alternately
with bare pytest (no plugin) collecting as many trivial parametrized tests, ``--repeat`` times
each, in the environment ``environment.py`` describes (cached bytecode, warmed first). Prints
the medians of the pairs' ratios of wall time and of the child's peak resident memory
(``ru_maxrss``). Targets: <= 1.1x time, <= 1.2x memory.

Both sides run as a user's second run does: pytest's cacheprovider on, each command run once
before the timed runs, so pytest's cache folder holds what the first run left there (for this
plugin, the parsed eval file: ``suite/parse_cache.py``; for bare pytest, its own data).
``--first-run`` measures a first run instead: both sides with ``-p no:cacheprovider``, so the
eval file is parsed every time.

Shapes: ``tests`` is one test entry per case (each with two vars and an assertion), the
usual shape of generated suites; ``lists`` is a few tests whose list vars expand into the
cases (cartesian product).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from alternating import alternate, listed, median_of, median_ratio, timed_process
from environment import pytest_environment

TRIVIAL = """\
import pytest

@pytest.mark.parametrize("n", range({count}))
def test_trivial(n):
    assert n >= 0
"""
COLLECT = [sys.executable, "-m", "pytest", "--collect-only", "-q"]
NO_CACHE = ["-p", "no:cacheprovider"]


def write_suite(folder: Path, cases: int, shape: str) -> Path:
    lines = ['prompts: ["Answer in one word: {{ question }} ({{ topic }})"]', "providers: [echo]", "tests:"]
    if shape == "tests":
        for n in range(cases):
            lines.append(f'  - vars: {{question: "question number {n}", topic: "topic {n % 97}"}}')
            lines.append(f'    assert: [{{type: contains, value: "number {n}"}}]')
    else:
        per_test = 1000
        for t in range(max(1, cases // per_test)):
            questions = ", ".join(f'"question {t}-{n}"' for n in range(per_test // 10))
            lines.append(f"  - description: group {t}")
            lines.append(f"    vars: {{question: [{questions}], topic: [{', '.join(repr(f'topic {k}') for k in range(10))}]}}")
            lines.append('    assert: [{type: contains, value: "question"}]')
    file = folder / "scale.eval.yaml"
    file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return file


def collect(folder: Path, target: str, env: dict[str, str], cache: bool = True) -> tuple[float, float, float, str]:
    """Seconds, peak MB, CPU seconds and the last line of ``pytest --collect-only -q`` in a fresh child process."""
    options = ["-o", f"replicate_max_cases={10**9}"] if target.endswith(".yaml") else []
    options += [] if cache else NO_CACHE
    seconds, peak, cpu, output = timed_process(COLLECT + options + [target], folder, env)
    return seconds, peak, cpu, output.strip().splitlines()[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--shape", choices=("tests", "lists"), default="tests")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each command, alternating (default 3)")
    parser.add_argument("--first-run", action="store_true", help="without pytest's cache on either side (a first run)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        file = write_suite(folder, args.cases, args.shape)
        (folder / "test_trivial.py").write_text(TRIVIAL.format(count=args.cases))
        size_mb = file.stat().st_size / 2**20
        ours = pytest_environment(folder / "bytecode")
        bare = {**ours, "PYTEST_ADDOPTS": ""}
        warm_up = folder / "warm-up"
        warm_up.mkdir()
        cache = not args.first_run
        collect(warm_up, write_suite(warm_up, 10, args.shape).name, ours)
        if cache:  # a user's second run: what the first left in .pytest_cache is there
            collect(folder, file.name, ours)
            collect(folder, "test_trivial.py", bare)
        lines: list[str] = []

        def measure(target: str, env: dict[str, str]) -> tuple[float, float, float]:
            seconds, peak, cpu, line = collect(folder, target, env, cache)
            lines.append(line)
            return seconds, peak, cpu

        pairs = alternate(args.repeat, lambda: measure(file.name, ours), lambda: measure("test_trivial.py", bare))
    run = "first run, no cache" if args.first_run else "second run, pytest's cache warm"
    print(f"{args.cases:,} cases ({args.shape}, {size_mb:.1f} MB of YAML, {run}): {lines[0]}; bare pytest: {lines[1]}")
    print(f"collection time: median {median_of(pairs, 0):.2f} s ({listed([a[0] for a, _ in pairs], ' s')}); "
          f"bare pytest {median_of(pairs, 1):.2f} s ({listed([b[0] for _, b in pairs], ' s')})")
    print(f"peak memory:     median {median_of(pairs, 0, 1):.0f} MB; bare pytest {median_of(pairs, 1, 1):.0f} MB")
    print(f"CPU time:        median {median_of(pairs, 0, 2):.2f} s; bare pytest {median_of(pairs, 1, 2):.2f} s")
    print(f"ratios, median of {args.repeat} alternating pairs: time {median_ratio(pairs):.2f}x (target <= 1.1x), "
          f"memory {median_ratio(pairs, 1):.2f}x (target <= 1.2x), CPU time {median_ratio(pairs, 2):.2f}x")


if __name__ == "__main__":
    main()
