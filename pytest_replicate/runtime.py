"""The session-level object the plugin owns.

Custom pytest items cannot request fixtures, so everything an item needs at run time
(providers, the HTTP client, cassettes) hangs off this one object, stored on the config.
"""

from __future__ import annotations

import json
import os
from typing import Any, Mapping

from .config.model import Case, EvalSuite, ProviderSpec
from .providers import CallContext, Provider, create_provider
from .runner import CaseResult, run_case


class EvalRuntime:
    def __init__(self) -> None:
        self._providers: dict[str, Provider] = {}

    def provider_for(self, spec: ProviderSpec, suite: EvalSuite) -> Provider:
        """One provider object per distinct (id, config, env), shared by all its items."""
        env = {**os.environ, **suite.env}
        key = json.dumps([spec.id, spec.label, spec.config, suite.env], sort_keys=True, default=str)
        if key not in self._providers:
            self._providers[key] = create_provider(spec.id, label=spec.label, config=spec.config, env=env)
        return self._providers[key]

    def run(self, case: Case) -> CaseResult:
        provider = self.provider_for(case.provider, case.suite)
        return run_case(case, provider, CallContext(vars=case.vars))

    def close(self) -> None:
        self._providers.clear()
