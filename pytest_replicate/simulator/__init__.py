"""A local stand-in for Replicate's predictions API.

Tests, the example-suite recorder and benchmarks run against this instead of
api.replicate.com: real HTTP, deterministic model outputs, no token or network needed,
and injectable faults (429, 5xx, dropped connections, slow replies, failed predictions)
to exercise the client's retry and polling paths.

    with Simulator(latency=0.1) as sim:
        sim.add_fault(Fault("status", status=429, retry_after=1))
        ...  # point the client at sim.url
"""

from .models import MODELS
from .server import Fault, ReceivedRequest, Simulator

__all__ = ["MODELS", "Fault", "ReceivedRequest", "Simulator"]
