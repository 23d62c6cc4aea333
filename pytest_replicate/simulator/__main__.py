"""``python -m pytest_replicate.simulator``: serve the simulator from another process.

Used by benchmarks and manual runs, where the client must not share a process (or a GIL)
with the server. Prints one line with the URL, then serves until Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import argparse
import signal
import threading
from collections.abc import Sequence

from .server import Simulator


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m pytest_replicate.simulator",
                                     description="Serve a simulated Replicate predictions API.")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port to bind; 0 picks a free one (default)")
    parser.add_argument("--latency", type=float, default=0.0,
                        help="seconds from creating a prediction to its terminal status (default 0)")
    parser.add_argument("--file-output", choices=("url", "data"), default="url",
                        help="image outputs as URLs on this server or as data: URIs (default url)")
    parser.add_argument("--token", dest="tokens", action="append", default=None,
                        help="accept only this token (repeatable); default: any r8_ token")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse_args(argv)
    simulator = Simulator(host=args.host, port=args.port, latency=args.latency,
                          tokens=args.tokens, file_output=args.file_output).start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    print(f"Replicate simulator listening on {simulator.url}", flush=True)
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        simulator.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
