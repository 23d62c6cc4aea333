"""Collection time and peak memory for one eval file of many cases.

    python benchmarks/collection_scale.py [--cases 100000] [--shape tests|lists] [--repeat 1]

Writes an eval file of ``--cases`` cases into a temporary folder and runs
``pytest --collect-only -q`` on it in a child process, with the case limit raised, in the
environment ``environment.py`` describes (this plugin only, cached bytecode, warmed first). Prints
the wall time and the child's peak resident memory (``ru_maxrss``).

Shapes: ``tests`` is one test entry per case (each with two vars and an assertion), the
usual shape of generated suites; ``lists`` is a few tests whose list vars expand into the
cases (cartesian product). Targets for 100,000 cases: below 5 s and 300 MB.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from environment import pytest_environment


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


def collect(folder: Path, file: Path, bytecode: Path) -> tuple[float, float, str]:
    """Seconds and peak MB of ``pytest --collect-only -q`` in a fresh child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    process = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
         "-o", "replicate_max_cases=" + str(10**9), file.name],
        cwd=folder, capture_output=True, text=True, env=pytest_environment(bytecode),
    )
    seconds = time.perf_counter() - started
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if process.returncode != 0:
        sys.exit(f"collection failed ({process.returncode}):\n{process.stdout[-3000:]}\n{process.stderr[-3000:]}")
    if peak_kb <= before:
        print("note: the child's peak was below an earlier child's; run one shape per process", file=sys.stderr)
    return seconds, peak_kb / 1024, process.stdout.strip().splitlines()[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--shape", choices=("tests", "lists"), default="tests")
    parser.add_argument("--repeat", type=int, default=1, help="best of N timings (peak memory of the first)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        file = write_suite(folder, args.cases, args.shape)
        size_mb = file.stat().st_size / 2**20
        warm_up = folder / "warm-up"
        warm_up.mkdir()
        collect(warm_up, write_suite(warm_up, 10, args.shape), folder / "bytecode")
        results = [collect(folder, file, folder / "bytecode") for _ in range(args.repeat)]
    seconds = min(r[0] for r in results)
    peak = results[0][1]
    print(f"{args.cases:,} cases ({args.shape}, {size_mb:.1f} MB of YAML): {results[0][2]}")
    print(f"collection time: {seconds:.2f} s   (target < 5 s)")
    print(f"peak memory:     {peak:.0f} MB (target < 300 MB)")


if __name__ == "__main__":
    main()
