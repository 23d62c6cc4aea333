"""``replicate:owner/model[:version]``: language models, and the base of every Replicate provider.

Follows promptfoo's provider (see shared/reference) where it is right, and does better
where our notes say so: only model parameters reach the model input, timeouts cancel the
prediction, 429 honours Retry-After, and a create is never silently sent twice.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Iterable, Mapping, MutableMapping
from typing import Any

from ...errors import ConfigError, ProviderError
from ...redaction import Secret, protect, scrub, secret
from ..base import CallContext, Provider, ProviderResponse
from ..claims import PredictionClaims
from .api import ClientSettings, ModelRef, PredictionRun
from .inputs import inputs_from_vars, parse_input_vars
from .messages import status_error
from .pricing import Prices
from .settings import (
    ENV_PARAMETERS,
    SETTING_KEYS,
    TOKEN_VARIABLES,
    TYPED_PARAMETERS,
    check_keys,
    client_settings,
    coerce,
    resolve_token,
)


def split_chat(prompt: str) -> tuple[str, str | None]:
    """A JSON list of chat messages becomes (prompt, system_prompt); other text is unchanged."""
    stripped = prompt.strip()
    if not stripped.startswith("["):
        return prompt, None
    try:
        messages = json.loads(stripped)
    except json.JSONDecodeError:
        return prompt, None
    if not isinstance(messages, list) or not all(isinstance(m, dict) and "content" in m for m in messages):
        return prompt, None
    system = [str(m["content"]) for m in messages if m.get("role") == "system"]
    rest = [str(m["content"]) for m in messages if m.get("role") != "system"]
    return "\n".join(rest), ("\n".join(system) if system else None)


class ReplicateProvider(Provider):
    """``replicate:owner/model[:version]`` and ``replicate:deployment:owner/name``."""

    # Keys besides the settings that are known model parameters (typos of them are refused).
    KNOWN_PARAMETERS: frozenset[str] = frozenset(TYPED_PARAMETERS)

    def __init__(self, provider_id: str, ref: ModelRef, *, label: str | None = None,
                 config: Mapping[str, Any] | None = None, env: Mapping[str, str] | None = None,
                 defaults: ClientSettings | None = None) -> None:
        super().__init__(provider_id, label)
        if isinstance(config, MutableMapping):
            protect(config, ["apiKey"])  # the caller's config (a case's) now prints without the token
        config = dict(config or {})
        env = env or {}
        self.ref = ref
        self.token = resolve_token(config, env)
        # Every token this provider could know of: none may be sent as model input.
        self.secrets: list[Secret] = [
            value for value in {self.token, *(secret(env.get(name)) for name in TOKEN_VARIABLES)} if value]
        check_keys(config, self.KNOWN_PARAMETERS, self.secrets)
        self.settings = client_settings(config, env, defaults or ClientSettings())
        self.prefix, self.suffix = _prompt_affixes(config.get("prompt") or {})
        self.parameters = self._parameters(config, env)
        self.prices = Prices.from_config(config)
        self.input_vars = parse_input_vars(config.get("input_vars"))
        # Latest versions run for models named without one that have no official endpoint:
        # slug -> version id. The session prints them once, so a run says what it really ran.
        self.resolved_versions: dict[str, str] = {}
        self._lock = threading.Lock()
        self.claims = PredictionClaims()  # for calls whose context brings none (the session's)

    def _parameters(self, config: Mapping[str, Any], env: Mapping[str, str]) -> dict[str, Any]:
        """Model input besides the prompt: config wins over REPLICATE_* env; unset is not sent."""
        parameters = {key: value for key, value in config.items() if key not in SETTING_KEYS}
        for name, kind in TYPED_PARAMETERS.items():
            if name in parameters:
                parameters[name] = coerce(parameters[name], kind, f"config.{name}")
            elif name in ENV_PARAMETERS and env.get(f"REPLICATE_{name.upper()}", "") != "":
                variable = f"REPLICATE_{name.upper()}"
                parameters[name] = coerce(env[variable], kind, f"environment variable {variable}")
        for name, value in parameters.items():
            if not _finite(value):  # JSON has no nan or inf: the create could not even be sent
                raise ConfigError(f"config.{name} must be a finite number, got {value!r}", path=("config", name))
        return parameters

    def build_input(self, prompt: str) -> dict[str, Any]:
        text, system = split_chat(prompt)
        model_input = dict(self.parameters)
        if system is not None:
            model_input["system_prompt"] = system
        model_input["prompt"] = self.wrap(text)
        return model_input

    def wrap(self, text: str) -> str:
        """``text`` between config ``prompt.prefix`` and ``prompt.suffix``, as sent to the model."""
        return f"{self.prefix}{text}{self.suffix}"

    def missing_output(self, what: str, output: Any) -> str:
        """The error for a prediction that succeeded without the output this kind of model gives."""
        return f"{self.ref.slug} returned no {what} (output: {json.dumps(output)[:200]})"

    def call(self, prompt: str, context: CallContext) -> ProviderResponse:
        started = time.perf_counter()
        if context.http is None:
            raise ProviderError(f"{self.id} needs an HTTP client in its call context")
        # A token that reached the input (through a var or a prompt file) is never sent nor saved.
        model_input = self.build_input(prompt)
        model_input.update(inputs_from_vars(self.input_vars, context.vars, self.ref.slug))
        model_input = scrub(model_input, self.secrets)
        run = PredictionRun(context.http, self.settings, self.token, self.ref, context, self.secrets,
                            claims=self.claims if context.claims is None else context.claims)
        try:
            run.create(model_input)
            prediction = run.wait()
        except BaseException:
            run.cancel()  # Ctrl-C, the deadline or a crash must not leave a prediction running
            if run.created_live and context.spend is not None:
                context.spend.charge(None)  # it may have run a while: what it cost is unknown
            raise
        response = ProviderResponse(raw=prediction, metadata=_metadata(prediction))
        response.cost, response.metadata["cost_basis"] = self.prices.bill(prediction)
        if run.created_live and context.spend is not None:
            context.spend.charge(response.cost)
        if run.resolved_version:
            with self._lock:
                self.resolved_versions[f"{self.ref.owner}/{self.ref.name}"] = run.resolved_version
            response.metadata["resolved_version"] = run.resolved_version
        response.error = status_error(str(prediction.get("status")), prediction, self.ref.slug)
        if prediction.get("status") == "failed" and response.metadata["logs_tail"]:
            response.error = f"{response.error}\nlast lines of the model's logs:\n{response.metadata['logs_tail']}"
        if response.error is None:
            self.read_output(prediction, prompt, run, response)
            response.finish_reason = finish_reason(prediction)
        response.latency_ms = (time.perf_counter() - started) * 1000
        return response

    def read_output(self, prediction: dict[str, Any], prompt: str, run: PredictionRun,
                    response: ProviderResponse) -> None:
        output = prediction.get("output")
        if isinstance(output, list) and all(isinstance(item, str) for item in output):
            response.output = "".join(output)
        elif isinstance(output, str) or output is None:
            response.output = output or ""
        else:
            response.output = json.dumps(output)


def resolved_versions(providers: Iterable[Provider]) -> dict[str, str]:
    """``owner/name`` -> the version run, for models that ran by their latest version."""
    resolved: dict[str, str] = {}
    for provider in providers:
        resolved.update(getattr(provider, "resolved_versions", {}))
    return resolved


def resolved_version_lines(resolved: Mapping[str, str]) -> list[str]:
    """One summary line per model that ran by its latest version because it has no official endpoint.

    For the terminal summary, so a run says what it really ran and how to pin it.
    """
    return [f"{slug} has no official endpoint: ran its latest version {version[:12]}... "
            f"(pin it: replicate:{slug}:{version})" for slug, version in sorted(resolved.items())]


def _metadata(prediction: dict[str, Any]) -> dict[str, Any]:
    logs = prediction.get("logs") or ""
    metrics = prediction.get("metrics") or {}
    return {
        "prediction_id": prediction.get("id"),
        "model": prediction.get("model"),
        "version": prediction.get("version"),
        "predict_time": metrics.get("predict_time") if isinstance(metrics, dict) else None,
        "metrics": metrics,
        "logs_tail": "\n".join(str(logs).strip().splitlines()[-10:]),
    }


_TOKEN_LIMITS = ("max_tokens", "max_new_tokens", "max_length")


def finish_reason(prediction: dict[str, Any]) -> str | None:
    """promptfoo's ``length`` when the output used the whole token limit the input set, ``stop``
    when it ended sooner. Replicate states no finish reason, so without a token count in the
    metrics or a limit in the input (a model's own default is not shown) there is none."""
    metrics = prediction.get("metrics")
    count = metrics.get("output_token_count") if isinstance(metrics, dict) else None
    given = prediction.get("input")
    model_input: dict[str, Any] = given if isinstance(given, dict) else {}
    limits = [model_input[key] for key in _TOKEN_LIMITS
              if isinstance(model_input.get(key), int) and not isinstance(model_input[key], bool) and model_input[key] > 0]
    if prediction.get("status") != "succeeded" or not isinstance(count, int) or not limits:
        return None
    return "length" if count >= min(limits) else "stop"


def _finite(value: Any) -> bool:
    """Whether ``value`` (plain data) holds no nan or infinite number."""
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, dict):
        return all(_finite(item) for item in value.values())
    if isinstance(value, (list, tuple)):
        return all(_finite(item) for item in value)
    return True


def _prompt_affixes(prompt: Any) -> tuple[str, str]:
    """``config.prompt``'s (prefix, suffix): text only, as a number would be sent unlike it is written."""
    if not isinstance(prompt, dict):
        raise ConfigError(f"config.prompt must be a mapping with prefix and/or suffix, got {prompt!r}",
                          path=("config", "prompt"))
    affixes = []
    for key in ("prefix", "suffix"):
        value = prompt.get(key, "")
        if not isinstance(value, str):
            raise ConfigError(f"config.prompt.{key} must be text, got {value!r}", path=("config", "prompt", key),
                              hint=f"quote it: {key}: '{value}'")
        affixes.append(value)
    return affixes[0], affixes[1]
