"""Replay speed and memory of cassette-backed eval items, as ratios measured in one run.

    python benchmarks/replay_speed.py [--items 1000] [--memory-items 10000] [--repeat 3]

1. Records ``--items`` Llama items against the bundled simulator, then times
   ``CI=true pytest`` replaying them, against plain pytest running as many trivial
   parametrized tests. Target: replay / plain <= 2.0.
2. Replays ``--memory-items`` items and reports the peak resident memory of that pytest
   process. Target: < 300 MB. Those cassettes are copies of one recorded cassette with the
   prompt changed, since recording 10,000 items only re-measures the simulator.

Each timing is the best of ``--repeat`` runs: the machines are shared and noisy. Both
commands run in the environment ``environment.py`` describes (this plugin only, cached
bytecode, warmed by the recording run).
"""

from __future__ import annotations

import argparse
import copy
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from environment import pytest_environment

from pytest_replicate import load_suite
from pytest_replicate.cassettes import serializer as cassette_format  # internal: the cassette format
from pytest_replicate.cassettes.library import cassette_path  # internal: where an item's cassette lives
from pytest_replicate.run.settings import DEFAULT_CASSETTE_DIR
from pytest_replicate.simulator import Simulator

EVAL = """\
prompts: ["What is the capital of {{{{ country }}}}? (question {{{{ n }}}})"]
providers:
  - id: replicate:meta/llama-2-7b-chat
    config: {{temperature: 0.01}}
tests:
  - vars:
      country: France
      n: [{numbers}]
    assert:
      - type: icontains
        value: paris
"""
TRIVIAL = """\
import pytest

@pytest.mark.parametrize("n", range({count}))
def test_trivial(n):
    assert n >= 0
"""
PYTEST = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]


def write_suite(folder: Path, count: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "bench.eval.yaml"
    path.write_text(EVAL.format(numbers=", ".join(f"'{n}'" for n in range(count))))
    return path


def run(args: list[str], cwd: Path, env: dict[str, str]) -> float:
    started = time.perf_counter()
    completed = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if completed.returncode != 0:
        sys.exit(f"{' '.join(args)} failed:\n{completed.stdout[-3000:]}\n{completed.stderr[-3000:]}")
    return elapsed


def best_of(repeat: int, args: list[str], cwd: Path, env: dict[str, str]) -> float:
    return min(run(args, cwd, env) for _ in range(repeat))


def replay_env(bytecode: Path) -> dict[str, str]:
    return pytest_environment(bytecode, CI="true")  # both runs load the same plugins: ours only


def record(folder: Path, count: int, bytecode: Path) -> None:
    write_suite(folder, count)
    with Simulator() as simulator:
        env = pytest_environment(bytecode, REPLICATE_BASE_URL=simulator.url, REPLICATE_API_TOKEN="r8_benchmark")
        run(PYTEST + ["--record-mode=rewrite"], folder, env)


def clone_cassettes(source: Path, folder: Path, count: int) -> None:
    """Cassettes for ``count`` items, made from the one recorded for question 0."""
    suite = write_suite(folder, count)
    template_case = load_suite(source / "bench.eval.yaml")[0]
    template_file = cassette_path(template_case.suite.file, template_case.name, DEFAULT_CASSETTE_DIR)
    template = cassette_format.deserialize(template_file.read_text())  # bodies as vcrpy holds them: text
    for case in load_suite(suite):
        cassette = copy.deepcopy(template)
        request = cassette["interactions"][0]["request"]
        request["body"] = request["body"].replace("(question 0)", f"(question {case.vars['n']})")
        path = cassette_path(case.suite.file, case.name, DEFAULT_CASSETTE_DIR)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(cassette_format.serialize(cassette))


def peak_memory_mb(folder: Path, bytecode: Path) -> float:
    """Peak RSS of one pytest process, read by a wrapper that runs nothing else."""
    probe = (
        "import resource, subprocess, sys;"
        f"subprocess.run({PYTEST!r}, check=True, stdout=subprocess.DEVNULL);"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    output = subprocess.run([sys.executable, "-c", probe], cwd=folder, env=replay_env(bytecode), capture_output=True,
                            text=True, check=True)
    return int(output.stdout.strip()) / 1024  # ru_maxrss is in KiB on Linux


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--memory-items", type=int, default=10000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        replay_dir, plain_dir, memory_dir = root / "replay", root / "plain", root / "memory"
        bytecode = root / "bytecode"
        print(f"recording {args.items} items against the simulator ...", flush=True)
        record(replay_dir, args.items, bytecode)
        plain_dir.mkdir()
        (plain_dir / "test_trivial.py").write_text(TRIVIAL.format(count=args.items))

        replay = best_of(args.repeat, PYTEST, replay_dir, replay_env(bytecode))
        plain = best_of(args.repeat, PYTEST, plain_dir, replay_env(bytecode))
        print(f"replay {args.items} cassette-backed items: {replay:.2f} s (best of {args.repeat})")
        print(f"plain pytest, {args.items} trivial parametrized tests: {plain:.2f} s (best of {args.repeat})")
        print(f"ratio replay / plain: {replay / plain:.2f}  (target <= 2.0)")

        clone_cassettes(replay_dir, memory_dir, args.memory_items)
        peak = peak_memory_mb(memory_dir, bytecode)
        print(f"peak memory replaying {args.memory_items} items: {peak:.0f} MB  (target < 300 MB)")


if __name__ == "__main__":
    main()
