"""``python -m pytest_replicate.simulator``: serve the simulator from another process.

Used by benchmarks and manual runs, where the client must not share a process (or a GIL)
with the server. Prints one line with the URL, then serves until Ctrl-C or SIGTERM.
``--models FILE`` adds the models of a JSON/YAML catalogue; ``--list-models`` prints the
catalogue and exits.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence

from .catalogue import BUILTIN, CatalogueError, load_catalogue
from .faults import RateLimit
from .server import Simulator


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m pytest_replicate.simulator",
                                     description="Serve a simulated Replicate API.")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port to bind; 0 picks a free one (default)")
    parser.add_argument("--latency", type=float, default=0.0,
                        help="seconds from creating a prediction to its terminal status (default 0)")
    parser.add_argument("--file-output", choices=("url", "data"), default="url",
                        help="image outputs as URLs on this server or as data: URIs (default url)")
    parser.add_argument("--token", dest="tokens", action="append", default=None,
                        help="accept only this token (repeatable); default: any r8_ token")
    parser.add_argument("--models", dest="model_files", action="append", default=[], metavar="FILE",
                        help="JSON or YAML catalogue adding or replacing models (repeatable)")
    parser.add_argument("--list-models", action="store_true", help="print the catalogue and exit")
    parser.add_argument("--lenient", dest="strict", action="store_false",
                        help="run version-only models (sdxl, llama-guard-3-8b) by name, and 404 unknown versions")
    parser.add_argument("--max-concurrent", type=int, default=None, metavar="N",
                        help="throttle creates (429) while N predictions are in flight")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse_args(argv)
    catalogue = BUILTIN
    try:
        for path in args.model_files:
            catalogue = catalogue.merged(load_catalogue(path))
    except (OSError, CatalogueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.list_models:
        print(catalogue.describe())
        return 0
    limit = RateLimit(concurrent=args.max_concurrent) if args.max_concurrent else None
    simulator = Simulator(host=args.host, port=args.port, latency=args.latency, tokens=args.tokens,
                          file_output=args.file_output, catalogue=catalogue, rate_limit=limit,
                          strict=args.strict).start()
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
