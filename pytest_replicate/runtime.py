"""The session-level object the plugin owns.

Custom pytest items cannot request fixtures, so everything an item needs at run time
(providers, the shared HTTP client, cassettes) hangs off this one object.
"""

from __future__ import annotations

import json
import os
import shlex
import threading
from typing import Any, Mapping

import httpx

from .cassettes import CassetteStats, ItemCassette
from .config.model import Case, EvalSuite, ProviderSpec
from .errors import CassetteError, ConfigError
from .providers import CallContext, Provider, create_provider
from .providers.replicate_api import ClientSettings
from .runner import CaseResult, run_case
from .settings import CassetteSettings
from .transport import ItemClient, make_client

TOKEN_VARIABLES = ("REPLICATE_API_TOKEN", "REPLICATE_API_KEY")


class EvalRuntime:
    def __init__(self, *, defaults: ClientSettings | None = None, cassettes: CassetteSettings | None = None,
                 env: Mapping[str, str] | None = None) -> None:
        self.defaults = defaults or ClientSettings()
        self.cassettes = cassettes or CassetteSettings()
        self.env = dict(os.environ if env is None else env)
        self.stats = CassetteStats()
        self._providers: dict[str, Provider] = {}
        self._secrets = {self.env[name] for name in TOKEN_VARIABLES if self.env.get(name)}
        self._lock = threading.Lock()
        self._http: httpx.Client | None = None
        # Set on Ctrl-C: every call in flight, in any thread, cancels its prediction.
        self.cancel = threading.Event()

    @property
    def http(self) -> httpx.Client:
        """One pooled client for the session, created on first use (it costs ~0.1 s)."""
        with self._lock:
            if self._http is None:
                self._http = make_client()
            return self._http

    def provider(self, provider_id: str, *, label: str | None = None, config: Mapping[str, Any] | None = None,
                 env: Mapping[str, str] | None = None) -> Provider:
        """One provider object per distinct (id, label, config, env), shared by its items."""
        file_env = dict(env or {})
        key = json.dumps([provider_id, label, config or {}, file_env], sort_keys=True, default=str)
        with self._lock:
            if key not in self._providers:
                provider = create_provider(provider_id, label=label, config=config,
                                           env={**self.env, **file_env}, defaults=self.defaults)
                self._providers[key] = provider
                token = getattr(provider, "token", None)
                if token:
                    self._secrets.add(token)  # scrubbed from every cassette
            return self._providers[key]

    def provider_for(self, spec: ProviderSpec, suite: EvalSuite) -> Provider:
        return self.provider(spec.id, label=spec.label, config=spec.config, env=suite.env)

    def open_cassette(self, case: Case, nodeid: str) -> ItemCassette:
        with self._lock:
            secrets = set(self._secrets)
        return ItemCassette(self.cassettes.path_for(case), self.cassettes.record_mode, secrets=secrets,
                            rerun_hint=shlex.quote(nodeid), stats=self.stats)

    def run(self, case: Case, nodeid: str | None = None) -> CaseResult:
        """Run one case inside its own cassette; save the cassette if every call succeeded."""
        provider = self.provider_for(case.provider, case.suite)
        try:
            cassette = self.open_cassette(case, nodeid or case.name)
        except CassetteError as error:
            return CaseResult(case, error=str(error))

        def resolve(reference: Any, default_id: str) -> Provider:
            """An assertion's ``provider``: an id, a {id, config} mapping, or the default."""
            spec = reference if isinstance(reference, dict) else {"id": reference or default_id}
            try:
                return self.provider(spec["id"], label=spec.get("label"), config=spec.get("config"),
                                     env=case.suite.env)
            except ConfigError as error:  # a bad grader config, e.g. a non-numeric temperature
                raise ConfigError(f"assertion provider {spec['id']}: {error.message}", file=case.suite.file,
                                  hint=error.hint) from None

        context = CallContext(vars=case.vars, http=ItemClient(self.http, cassette), cancel=self.cancel)
        result = run_case(case, provider, context, resolve_provider=resolve)
        # Saved only when every call succeeded, and never after Ctrl-C or a crash (not reached).
        if not result.call_failed:
            cassette.save()
        return result

    def close(self) -> None:
        with self._lock:
            if self._http is not None:
                self._http.close()
                self._http = None
            self._providers.clear()
