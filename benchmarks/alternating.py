"""Run a measurement and its reference alternately, and summarise them by medians.

The machines the benchmarks run on are shared and noisy: load comes and goes over seconds.
Running A, B, A, B, ... puts each A next to a B under about the same load, so the median of
the pairs' ratios is steadier than any best-of or one-off figure.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path


def alternate(repeat: int, measure: Callable[[], Sequence[float]],
              reference: Callable[[], Sequence[float]]) -> list[tuple[Sequence[float], Sequence[float]]]:
    """``repeat`` pairs of (measure's figures, reference's figures), taken A, B, A, B, ..."""
    pairs = []
    for _ in range(repeat):
        pairs.append((measure(), reference()))
    return pairs


def median_ratio(pairs: list[tuple[Sequence[float], Sequence[float]]], index: int = 0) -> float:
    """The median over pairs of measure / reference, for the figure at ``index``."""
    return statistics.median(a[index] / b[index] for a, b in pairs)


def median_of(pairs: list[tuple[Sequence[float], Sequence[float]]], side: int, index: int = 0) -> float:
    """The median of one side's figure at ``index`` (side 0: the measure, 1: the reference)."""
    return statistics.median(pair[side][index] for pair in pairs)


def listed(values: Sequence[float], unit: str = "") -> str:
    return ", ".join(f"{value:.2f}{unit}" for value in values)


def timed_process(args: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float, float, str]:
    """(wall seconds, peak resident MB, CPU seconds, output) of one child process, which must succeed.

    The CPU time (user and system) is printed beside the wall time: on a shared machine other
    processes' load stretches wall times, much less the CPU a process itself needs.
    """
    with tempfile.TemporaryFile() as output:
        started = time.perf_counter()
        process = subprocess.Popen(args, cwd=cwd, env=env, stdout=output, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        output.seek(0)
        text = output.read().decode(errors="replace")
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{' '.join(args)} failed in {cwd}:\n{text[-3000:]}")
    return seconds, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime, text  # ru_maxrss is in KiB on Linux
