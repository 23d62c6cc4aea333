"""``replicate:embedding:owner/model[:version]``: sentence-embedding models on Replicate.

Embedding models on Replicate do not share an input or output schema. The well-known
``replicate/all-mpnet-base-v2`` takes ``text`` (or ``text_batch``, a JSON list) and answers
``[{"embedding": [...]}]``; others answer a bare list of floats or a list of such lists.
We send ``text`` (the input name config ``input_key`` changes it) and accept every shape.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ...errors import ConfigError, ProviderError
from ..base import CallContext, ProviderResponse
from .api import ModelRef, PredictionRun
from .settings import SETTING_KEYS
from .text import ReplicateProvider


def read_embedding(output: Any) -> list[float] | None:
    """The first vector in any shape embedding models return, or None if there is none.

    Accepted: ``[0.1, ...]``; ``[[0.1, ...], ...]``; ``{"embedding": [...]}``;
    ``[{"embedding": [...]}, ...]``; ``{"embeddings": [[...]]}``; a JSON string of any of them.
    """
    if isinstance(output, str):
        try:
            output = json.loads(output)
        except ValueError:
            return None
    if isinstance(output, dict):
        for key in ("embedding", "embeddings", "vector", "output"):
            if key in output:
                return read_embedding(output[key])
        return None
    if isinstance(output, list) and output:
        if all(isinstance(item, (int, float)) and not isinstance(item, bool) for item in output):
            return [float(item) for item in output]
        return read_embedding(output[0])
    return None


class ReplicateEmbeddingProvider(ReplicateProvider):
    """Turns a text into a vector; ``call`` returns the vector as the output."""

    def __init__(self, provider_id: str, ref: ModelRef, *, label: str | None = None,
                 config: Mapping[str, Any] | None = None, env: Mapping[str, str] | None = None,
                 **kwargs: Any) -> None:
        config = dict(config or {})
        input_key = config.pop("input_key", "text")
        if not isinstance(input_key, str) or not input_key:
            raise ConfigError(f"config.input_key must be the name of the model's text input, got {input_key!r}")
        self.input_key = input_key
        super().__init__(provider_id, ref, label=label, config=config, env=env, **kwargs)

    def _parameters(self, config: Mapping[str, Any], env: Mapping[str, str]) -> dict[str, Any]:
        # No REPLICATE_* sampling fallbacks: an embedding model has no temperature.
        return {key: value for key, value in config.items() if key not in SETTING_KEYS}

    def build_input(self, prompt: str) -> dict[str, Any]:
        return {**self.parameters, self.input_key: self.wrap(prompt)}

    def read_output(self, prediction: dict[str, Any], prompt: str, run: PredictionRun,
                    response: ProviderResponse) -> None:
        vector = read_embedding(prediction.get("output"))
        if vector is None:
            response.error = self.missing_output("embedding", prediction.get("output"))
        else:
            response.output = vector

    def embed(self, text: str, context: CallContext) -> list[float]:
        """The vector of ``text``; a failed prediction raises :class:`ProviderError`."""
        response = self.call(text, context)
        if response.error is not None:
            raise ProviderError(f"embedding by {self.id} failed: {response.error}")
        return list(response.output)
