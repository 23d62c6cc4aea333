"""Re-record example_suite's cassettes against the bundled simulator.

    python scripts/record_example_suite.py

The simulator listens on a fixed port so that re-recording changes only what really
changed. To record against the real API instead, run
``REPLICATE_API_TOKEN=r8_... pytest example_suite --record-mode=rewrite``.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import pytest

from pytest_replicate.simulator import Simulator

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8787)
    args = parser.parse_args()
    with Simulator(port=args.port, latency=0.2) as simulator:
        os.environ["REPLICATE_BASE_URL"] = simulator.url
        os.environ["REPLICATE_API_TOKEN"] = "r8_simulator"  # not a real token; scrubbed anyway
        os.environ.pop("CI", None)
        return int(pytest.main([str(ROOT / "example_suite"), "--record-mode=rewrite", "-q", "-p", "no:cacheprovider"]))


if __name__ == "__main__":
    sys.exit(main())
