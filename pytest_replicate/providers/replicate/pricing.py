"""What a Replicate prediction cost, from the prices a provider's config gives.

Replicate does not return a price, so promptfoo's ``cost`` assertion has nothing to check
unless the user says what the model costs. Replicate bills most models by run time and
some official language models by token; the prediction's ``metrics`` record both
(``predict_time`` in seconds, ``input_token_count`` / ``output_token_count``), so the
cost of a replayed call is the cost of the recorded one.

Config keys follow promptfoo's providers: ``inputCost`` / ``outputCost`` (or ``cost`` for
both) are dollars per token; ``costPerSecond`` (like promptfoo's ``costPerMinute``) is
dollars per second of ``predict_time``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ...errors import ConfigError

PRICE_KEYS = frozenset({"cost", "inputCost", "outputCost", "costPerSecond"})
# Model inputs that bound the answer's length in tokens, as popular Replicate language models name them.
MAX_TOKEN_INPUTS = ("max_tokens", "max_new_tokens", "max_length")
CHARACTERS_PER_TOKEN = 4  # a rough rule for English text, for estimates only
HOW_TO_PRICE = ("set config.costPerSecond (models billed by time) or config.inputCost and "
                "config.outputCost (models billed by token, dollars per token) on the provider")


def _price(config: Mapping[str, Any], key: str) -> float | None:
    value = config.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise ConfigError(f"config.{key} must be a price in dollars (a number >= 0), got {value!r}")
    return float(value)


@dataclass(frozen=True)
class Prices:
    """Dollars per input token, per output token and per second of prediction time."""

    per_input_token: float | None = None
    per_output_token: float | None = None
    per_second: float | None = None

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Prices:
        """Read the price keys; a per-token price needs both directions (``cost`` gives both)."""
        both = _price(config, "cost")
        per_input = _price(config, "inputCost")
        per_output = _price(config, "outputCost")
        per_input = per_input if per_input is not None else both
        per_output = per_output if per_output is not None else both
        if (per_input is None) != (per_output is None):
            given, missing = ("inputCost", "outputCost") if per_input is not None else ("outputCost", "inputCost")
            raise ConfigError(f"config.{given} is set but config.{missing} is not",
                              hint="set both (0 if that direction is free), or config.cost for both")
        return cls(per_input, per_output, _price(config, "costPerSecond"))

    def bill(self, prediction: Mapping[str, Any]) -> tuple[float | None, str]:
        """(cost in dollars, how it was worked out); the cost is None when it cannot be known.

        Token prices apply when the prediction reports token counts, else the time price.
        """
        metrics = prediction.get("metrics") or {}
        tokens_in, tokens_out = metrics.get("input_token_count"), metrics.get("output_token_count")
        seconds = metrics.get("predict_time")
        if (self.per_input_token is not None and self.per_output_token is not None
                and isinstance(tokens_in, (int, float)) and isinstance(tokens_out, (int, float))):
            cost = tokens_in * self.per_input_token + tokens_out * self.per_output_token
            return cost, (f"{tokens_in:g} input tokens x ${self.per_input_token:g} + "
                          f"{tokens_out:g} output tokens x ${self.per_output_token:g}")
        if self.per_second is not None:
            if isinstance(seconds, (int, float)):
                return seconds * self.per_second, f"predict_time {seconds:g} s x ${self.per_second:g}/s"
            return None, "the prediction reports no metrics.predict_time to bill by time"
        if self.per_input_token is not None:
            return None, "the prediction reports no input/output token counts to bill by token"
        return None, "no price is configured: " + HOW_TO_PRICE

    def estimate(self, prompt: str | None, parameters: Mapping[str, Any]) -> tuple[float | None, str]:
        """(estimated dollars for one call, its basis) before calling: None, with why, when it cannot be told.

        By token: the prompt's length at about 4 characters a token, and at most the answer
        length the model input allows (``max_tokens``, ``max_new_tokens``), so an upper bound.
        By time: unknown, as run time is known only afterwards.
        """
        if self.per_input_token is not None and self.per_output_token is not None:
            bound = next(((name, parameters[name]) for name in MAX_TOKEN_INPUTS
                          if isinstance(parameters.get(name), int) and not isinstance(parameters[name], bool)), None)
            if prompt is None:
                return None, "unknown: billed by token, and its prompt holds the output, known only after the call"
            if bound is None:
                return None, ("unknown: billed by token, and the answer's length is unbounded "
                              "(set max_tokens or max_new_tokens in the provider config to bound it)")
            tokens_in = -(-len(prompt) // CHARACTERS_PER_TOKEN)
            name, tokens_out = bound
            cost = tokens_in * self.per_input_token + tokens_out * self.per_output_token
            return cost, (f"at most: the prompt's tokens (~{CHARACTERS_PER_TOKEN} characters each) x "
                          f"${self.per_input_token:g} + up to {tokens_out} output tokens ({name}) x "
                          f"${self.per_output_token:g}")
        if self.per_second is not None:
            return None, "unknown: billed by run time (config.costPerSecond), which is known only after the call"
        return None, "no price known: " + HOW_TO_PRICE
