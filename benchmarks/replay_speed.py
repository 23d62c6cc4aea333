"""Replay speed and memory of cassette-backed eval items, as ratios measured in one run.

    python benchmarks/replay_speed.py [--items 1000] [--memory-items 10000] [--repeat 5] [--memory-repeat 3]

1. Records ``--items`` Llama items against the bundled simulator, then runs ``CI=true pytest``
   replaying them and plain pytest running as many trivial parametrized tests, alternately,
   ``--repeat`` times each. Prints the median of the pairs' time ratios. Target: <= 1.5x.
   Then the floor under that ratio: the same trivial tests with a conftest that only imports
   the libraries every replay needs (vcrpy, httpx, Jinja2, jsonschema, PyYAML), against plain
   pytest, alternately: what a replay costs before it does any work.
2. Replays ``--memory-items`` items and prints the median peak resident memory of that pytest
   process over ``--memory-repeat`` runs (alternating with plain pytest running as many trivial
   tests, shown for scale). Target: <= 120 MB. Those cassettes are copies of one recorded
   cassette with the prompt changed, since recording 10,000 items only re-measures the simulator.

Both commands run in the environment ``environment.py`` describes (this plugin only, cached
bytecode, warmed by the recording run).
"""

from __future__ import annotations

import argparse
import copy
import sys
import tempfile
from pathlib import Path

from alternating import alternate, listed, median_of, median_ratio, timed_process
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
# What a replay imports whatever it replays (vcrpy's own import brings in vcr.patch and the HTTP
# libraries it could patch): the floor measure's conftest imports just these.
REPLAY_IMPORTS = "import httpx, jinja2, jsonschema, vcr, yaml\n"
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


def replay_env(bytecode: Path) -> dict[str, str]:
    return pytest_environment(bytecode, CI="true")  # both runs load the same plugins: ours only


def record(folder: Path, count: int, bytecode: Path) -> None:
    write_suite(folder, count)
    with Simulator() as simulator:
        env = pytest_environment(bytecode, REPLICATE_BASE_URL=simulator.url, REPLICATE_API_TOKEN="r8_benchmark")
        timed_process(PYTEST + ["--record-mode=rewrite"], folder, env)


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--memory-items", type=int, default=10000)
    parser.add_argument("--repeat", type=int, default=5, help="runs of each command, alternating (default 5)")
    parser.add_argument("--memory-repeat", type=int, default=3, help="runs of the memory measure (default 3)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        replay_dir, plain_dir, memory_dir = root / "replay", root / "plain", root / "memory"
        bytecode = root / "bytecode"
        env = replay_env(bytecode)
        print(f"recording {args.items} items against the simulator ...", flush=True)
        record(replay_dir, args.items, bytecode)
        plain_dir.mkdir()
        (plain_dir / "test_trivial.py").write_text(TRIVIAL.format(count=args.items))
        timed_process(PYTEST, plain_dir, env)  # warm-up: its bytecode cached

        pairs = alternate(args.repeat, lambda: timed_process(PYTEST, replay_dir, env)[:3],
                          lambda: timed_process(PYTEST, plain_dir, env)[:3])
        print(f"replay {args.items} cassette-backed items: median {median_of(pairs, 0):.2f} s "
              f"({listed([a[0] for a, _ in pairs], ' s')})")
        print(f"plain pytest, {args.items} trivial parametrized tests: median {median_of(pairs, 1):.2f} s "
              f"({listed([b[0] for _, b in pairs], ' s')})")
        print(f"ratio replay / plain, median of {args.repeat} alternating pairs: {median_ratio(pairs):.2f}x "
              f"(target <= 1.5x); CPU time {median_of(pairs, 0, 2):.2f} s against {median_of(pairs, 1, 2):.2f} s, "
              f"{median_ratio(pairs, 2):.2f}x", flush=True)

        floor_dir = root / "floor"
        floor_dir.mkdir()
        (floor_dir / "test_trivial.py").write_text(TRIVIAL.format(count=args.items))
        (floor_dir / "conftest.py").write_text(REPLAY_IMPORTS)
        timed_process(PYTEST, floor_dir, env)  # warm-up
        floor = alternate(args.repeat, lambda: timed_process(PYTEST, floor_dir, env)[:3],
                          lambda: timed_process(PYTEST, plain_dir, env)[:3])
        print(f"floor: plain pytest that only imports what a replay needs / plain pytest, median of {args.repeat} "
              f"alternating pairs: {median_ratio(floor):.2f}x ({median_of(floor, 0):.2f} s against "
              f"{median_of(floor, 1):.2f} s; CPU {median_ratio(floor, 2):.2f}x)", flush=True)

        clone_cassettes(replay_dir, memory_dir, args.memory_items)
        (plain_dir / "test_trivial.py").write_text(TRIVIAL.format(count=args.memory_items))
        memory = alternate(args.memory_repeat, lambda: timed_process(PYTEST, memory_dir, env)[:2],
                           lambda: timed_process(PYTEST, plain_dir, env)[:2])
        print(f"peak memory replaying {args.memory_items} items, median of {args.memory_repeat}: "
              f"{median_of(memory, 0, 1):.0f} MB (target <= 120 MB); plain pytest, {args.memory_items} trivial "
              f"tests: {median_of(memory, 1, 1):.0f} MB; replay / plain {median_ratio(memory, 1):.2f}x")


if __name__ == "__main__":
    main()
