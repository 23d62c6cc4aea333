"""Replicate providers: language models, image generators, Llama Guard moderation.

Follows promptfoo's provider (see shared/reference) where it is right, and does better
where our notes say so: only model parameters reach the model input, timeouts cancel the
prediction, 429 honours Retry-After, and a create is never silently sent twice.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Mapping
from dataclasses import fields, replace
from typing import Any

from ..errors import ConfigError, ProviderError
from ..images import sniff_image
from .base import CallContext, ImageOutput, ModerationResult, Provider, ProviderResponse
from .pricing import PRICE_KEYS, Prices
from .replicate_api import TOKEN_VARIABLES, ClientSettings, ModelRef, PredictionRun

# Sampling parameters with their REPLICATE_* environment fallback and type (seed document).
ENV_PARAMETERS: dict[str, type] = {
    "max_length": int,
    "temperature": float,
    "repetition_penalty": float,
    "top_p": float,
    "top_k": int,
    "seed": int,
    "stop_sequences": str,
    "system_prompt": str,
}
TYPED_PARAMETERS: dict[str, type] = {**ENV_PARAMETERS, "max_new_tokens": int}
# Keys that configure the provider itself; they never reach the model input.
SETTING_KEYS = {
    "apiKey", "prompt", "base_url", "timeout", "wait", "poll_interval", "poll_interval_max",
    "max_retries", "retry_backoff", "retry_backoff_max", *PRICE_KEYS,
}
IMAGE_DEFAULTS = {"width": 768, "height": 768}
LLAMA_GUARD_CATEGORIES = {
    "S1": "Violent Crimes", "S2": "Non-Violent Crimes", "S3": "Sex-Related Crimes",
    "S4": "Child Sexual Exploitation", "S5": "Defamation", "S6": "Specialized Advice",
    "S7": "Privacy", "S8": "Intellectual Property", "S9": "Indiscriminate Weapons",
    "S10": "Hate", "S11": "Suicide & Self-Harm", "S12": "Sexual Content", "S13": "Elections",
    "S14": "Code Interpreter Abuse",
}


def _coerce(name: str, value: Any, kind: type, source: str) -> Any:
    """Parse a parameter to its type; a bad value is a config error naming its source."""
    if kind is str:
        # Replicate takes stop sequences as one comma-separated string.
        return ",".join(str(item) for item in value) if isinstance(value, list) else str(value)
    if isinstance(value, bool):
        raise ConfigError(f"{source} must be a {kind.__name__}, got {value!r}")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{source} must be a {'number' if kind is float else 'whole number'}, got {value!r}") from None
    if kind is int:
        if not number.is_integer():
            raise ConfigError(f"{source} must be a whole number, got {value!r}")
        return int(number)
    return number


def resolve_token(config: Mapping[str, Any], env: Mapping[str, str]) -> str | None:
    return config.get("apiKey") or next((env[name] for name in TOKEN_VARIABLES if env.get(name)), None)


def client_settings(config: Mapping[str, Any], env: Mapping[str, str], defaults: ClientSettings) -> ClientSettings:
    overrides: dict[str, Any] = {}
    for field in fields(ClientSettings):
        if field.name in config:
            kind = str if field.name == "base_url" else (int if field.name in ("wait", "max_retries") else float)
            overrides[field.name] = _coerce(field.name, config[field.name], kind, f"config.{field.name}")
    if "base_url" not in overrides and env.get("REPLICATE_BASE_URL"):
        overrides["base_url"] = env["REPLICATE_BASE_URL"]
    settings = replace(defaults, **overrides)
    if not 0 <= settings.wait <= 60:
        raise ConfigError(f"config.wait must be between 0 and 60 seconds, got {settings.wait}")
    return settings


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

    def __init__(self, provider_id: str, ref: ModelRef, *, label: str | None = None,
                 config: Mapping[str, Any] | None = None, env: Mapping[str, str] | None = None,
                 defaults: ClientSettings | None = None) -> None:
        super().__init__(provider_id, label)
        config = dict(config or {})
        env = env or {}
        self.ref = ref
        self.token = resolve_token(config, env)
        self.settings = client_settings(config, env, defaults or ClientSettings())
        prompt_config = config.get("prompt") or {}
        if not isinstance(prompt_config, dict):
            raise ConfigError("config.prompt must be a mapping with prefix and/or suffix")
        self.prefix = str(prompt_config.get("prefix", ""))
        self.suffix = str(prompt_config.get("suffix", ""))
        self.parameters = self._parameters(config, env)
        self.prices = Prices.from_config(config)

    def _parameters(self, config: Mapping[str, Any], env: Mapping[str, str]) -> dict[str, Any]:
        """Model input besides the prompt: config wins over REPLICATE_* env; unset is not sent."""
        parameters = {key: value for key, value in config.items() if key not in SETTING_KEYS}
        for name, kind in TYPED_PARAMETERS.items():
            if name in parameters:
                parameters[name] = _coerce(name, parameters[name], kind, f"config.{name}")
            elif name in ENV_PARAMETERS and env.get(f"REPLICATE_{name.upper()}", "") != "":
                variable = f"REPLICATE_{name.upper()}"
                parameters[name] = _coerce(name, env[variable], kind, f"environment variable {variable}")
        return parameters

    def build_input(self, prompt: str) -> dict[str, Any]:
        text, system = split_chat(prompt)
        model_input = dict(self.parameters)
        if system is not None:
            model_input["system_prompt"] = system
        model_input["prompt"] = f"{self.prefix}{text}{self.suffix}"
        return model_input

    def call(self, prompt: str, context: CallContext) -> ProviderResponse:
        started = time.perf_counter()
        if context.http is None:
            raise ProviderError(f"{self.id} needs an HTTP client in its call context")
        run = PredictionRun(context.http, self.settings, self.token, self.ref, context.cancel)
        try:
            run.create(self.build_input(prompt))
            prediction = run.wait()
        except BaseException:
            run.cancel()  # Ctrl-C or a crash must not leave a prediction running
            raise
        response = ProviderResponse(raw=prediction, metadata=_metadata(prediction))
        response.cost, response.metadata["cost_basis"] = self.prices.bill(prediction)
        status = prediction.get("status")
        if status == "failed":
            logs = response.metadata.get("logs_tail", "")
            response.error = f"prediction {prediction.get('id')} of {self.ref.slug} failed: {prediction.get('error')}"
            if logs:
                response.error += "\nlast lines of the model's logs:\n" + logs
        elif status == "canceled":
            response.error = f"prediction {prediction.get('id')} of {self.ref.slug} was canceled"
        else:
            self.read_output(prediction, prompt, run, response)
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


def _metadata(prediction: dict[str, Any]) -> dict[str, Any]:
    logs = prediction.get("logs") or ""
    metrics = prediction.get("metrics") or {}
    return {
        "prediction_id": prediction.get("id"),
        "model": prediction.get("model"),
        "version": prediction.get("version"),
        "predict_time": metrics.get("predict_time"),
        "metrics": metrics,
        "logs_tail": "\n".join(logs.strip().splitlines()[-10:]),
    }


class ReplicateImageProvider(ReplicateProvider):
    """``replicate:image:...``: the first output file, downloaded while its URL is valid."""

    def _parameters(self, config: Mapping[str, Any], env: Mapping[str, str]) -> dict[str, Any]:
        parameters = {**IMAGE_DEFAULTS, **{k: v for k, v in config.items() if k not in SETTING_KEYS}}
        for name in ("width", "height", "num_inference_steps"):
            parameters[name] = _coerce(name, parameters[name], int, f"config.{name}") if name in parameters else None
        return {key: value for key, value in parameters.items() if value is not None}

    def build_input(self, prompt: str) -> dict[str, Any]:
        return {**self.parameters, "prompt": f"{self.prefix}{prompt}{self.suffix}"}

    def read_output(self, prediction: dict[str, Any], prompt: str, run: PredictionRun,
                    response: ProviderResponse) -> None:
        output = prediction.get("output")
        url = output[0] if isinstance(output, list) and output else output
        if not isinstance(url, str):
            response.error = f"{self.ref.slug} returned no image (output: {json.dumps(output)[:200]})"
            return
        data, media_type = run.download(url)
        info = sniff_image(data)
        response.image = ImageOutput(
            data=data,
            media_type=info.media_type if info else (media_type or "application/octet-stream"),
            width=info.width if info else None,
            height=info.height if info else None,
            url=url,
        )
        response.output = f"![{prompt}]({url})"


def parse_llama_guard(text: str) -> ModerationResult:
    """``safe`` or ``unsafe`` followed by a line of category codes such as ``S1,S10``."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    if not lines or lines[0].lower() == "safe":
        return ModerationResult({}, text)
    codes = re.findall(r"S\d+", " ".join(lines[1:])) or ["unknown"]
    return ModerationResult({code: LLAMA_GUARD_CATEGORIES.get(code, "Unknown category") for code in codes}, text)


class ReplicateModerationProvider(ReplicateProvider):
    """``replicate:moderation:...``: Llama Guard style classifiers."""

    def moderate(self, user_prompt: str, assistant_output: str, context: CallContext) -> ModerationResult:
        response = self.call(f"Human: {user_prompt}\n\nAssistant: {assistant_output}", context)
        if response.error:
            raise ProviderError(f"moderation by {self.id} failed: {response.error}")
        return parse_llama_guard(str(response.output))


PROVIDER_CLASSES: dict[str, type[ReplicateProvider]] = {
    "text": ReplicateProvider,
    "deployment": ReplicateProvider,
    "image": ReplicateImageProvider,
    "moderation": ReplicateModerationProvider,
}


def _register_embedding() -> None:
    # Its own module (model-graded assertions); imported here so the id registry knows the kind.
    from .replicate_embedding import ReplicateEmbeddingProvider

    PROVIDER_CLASSES["embedding"] = ReplicateEmbeddingProvider


_register_embedding()
