"""The session-level object the plugin owns.

Custom pytest items cannot request fixtures, so everything an item needs at run time
(providers, the shared HTTP client, cassettes) hangs off this one object.
"""

from __future__ import annotations

import json
import os
import threading
from typing import Any, Mapping

import httpx

from .config.model import Case, EvalSuite, ProviderSpec
from .transport import LiveTransport, make_client
from .providers import CallContext, Provider, create_provider
from .providers.replicate_api import ClientSettings
from .runner import CaseResult, run_case


class EvalRuntime:
    def __init__(self, *, defaults: ClientSettings | None = None, env: Mapping[str, str] | None = None) -> None:
        self.defaults = defaults or ClientSettings()
        self.env = dict(os.environ if env is None else env)
        self._providers: dict[str, Provider] = {}
        self._lock = threading.Lock()
        self._http: httpx.Client | None = None

    @property
    def http(self) -> httpx.Client:
        """One pooled client for the session, created on first use (it costs ~0.1 s)."""
        with self._lock:
            if self._http is None:
                self._http = make_client(LiveTransport())
            return self._http

    def provider(self, provider_id: str, *, label: str | None = None, config: Mapping[str, Any] | None = None,
                 env: Mapping[str, str] | None = None) -> Provider:
        """One provider object per distinct (id, label, config, env), shared by its items."""
        file_env = dict(env or {})
        key = json.dumps([provider_id, label, config or {}, file_env], sort_keys=True, default=str)
        with self._lock:
            if key not in self._providers:
                self._providers[key] = create_provider(provider_id, label=label, config=config,
                                                       env={**self.env, **file_env}, defaults=self.defaults)
            return self._providers[key]

    def provider_for(self, spec: ProviderSpec, suite: EvalSuite) -> Provider:
        return self.provider(spec.id, label=spec.label, config=spec.config, env=suite.env)

    def run(self, case: Case) -> CaseResult:
        provider = self.provider_for(case.provider, case.suite)

        def resolve(reference: Any, default_id: str) -> Provider:
            """An assertion's ``provider``: an id, a {id, config} mapping, or the default."""
            if isinstance(reference, dict):
                return self.provider(reference["id"], label=reference.get("label"),
                                     config=reference.get("config"), env=case.suite.env)
            return self.provider(reference or default_id, env=case.suite.env)

        return run_case(case, provider, CallContext(vars=case.vars, http=self.http), resolve_provider=resolve)

    def close(self) -> None:
        with self._lock:
            if self._http is not None:
                self._http.close()
                self._http = None
            self._providers.clear()
