"""``echo``: returns the rendered prompt, as promptfoo's provider of the same id does.

Useful to test prompts and assertions without a model, and in the plugin's own tests.
"""

from __future__ import annotations

from .base import CallContext, Provider, ProviderResponse


class EchoProvider(Provider):
    def call(self, prompt: str, context: CallContext) -> ProviderResponse:
        return ProviderResponse(output=prompt, cost=0.0)  # free, as promptfoo's echo says
