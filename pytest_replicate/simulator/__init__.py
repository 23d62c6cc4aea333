"""A local stand-in for Replicate's HTTP API.

Tests, the example-suite recorder and benchmarks run against this instead of
api.replicate.com: real HTTP, deterministic model outputs, no token or network needed,
and injectable faults that mirror the real service's.

    with Simulator(latency=0.1) as sim:
        sim.add_fault(Fault("status", status=429, retry_after=1))
        ...  # point the client at sim.url

What it serves: prediction create (official model, version, deployment; ``Prefer: wait``,
``Cancel-After``), get, cancel, list (cursor pages), ``urls.stream`` (server-sent events),
models, versions, deployments, file uploads (``POST /v1/files``) and the account. Models
come from a catalogue (:mod:`.catalogue`; ``python -m pytest_replicate.simulator --models
FILE``) and validate inputs against their schema.

Python API for tests
--------------------
``Simulator(latency=0, tokens=None, file_output="url", catalogue=None, rate_limit=None,
strict=True, page_size=100)``; ``start()``/``stop()`` or a ``with`` block; ``url``.

Faults and limits
    ``add_fault(Fault(kind, ...))`` (kinds in :mod:`.faults`), ``rate_limit =
    RateLimit(concurrent=N | per_window=N, window=s)``, ``stop()`` kills the server
    mid-run, ``reset()`` forgets everything.
A model that changed
    ``change_answer("owner/name", when, output)``: from now on the model answers prompts
    containing ``when`` with ``output`` (drift tests: record, change, compare).
Counters
    ``requests`` (every :class:`ReceivedRequest`), ``predictions_created()`` (create bodies),
    ``inputs_by_model()`` (``[("owner/name", input), ...]`` per prediction created),
    ``creates_per_model()`` (``{"owner/name": n}``: a create never sent twice),
    ``peak_running()`` (most predictions in flight at once), ``running()`` (in flight now),
    ``cancel_log()`` (:class:`CancelRecord` per canceled/aborted prediction, by client or
    deadline), ``canceled`` (ids of cancel requests), ``throttled()`` (429s from the limit).
"""

from .catalogue import BUILTIN, Catalogue, CatalogueError, ModelSpec, load_catalogue, parse_catalogue
from .faults import Fault, RateLimit
from .messages import ReceivedRequest
from .server import CancelRecord, Simulator

MODELS = BUILTIN.models

__all__ = ["BUILTIN", "MODELS", "CancelRecord", "Catalogue", "CatalogueError", "Fault", "ModelSpec",
           "RateLimit", "ReceivedRequest", "Simulator", "load_catalogue", "parse_catalogue"]
