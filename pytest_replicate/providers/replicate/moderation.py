"""``replicate:moderation:...``: Llama Guard style classifiers."""

from __future__ import annotations

import re

from ...errors import ProviderError
from ..base import CallContext, ModerationResult
from .text import ReplicateProvider

LLAMA_GUARD_CATEGORIES = {
    "S1": "Violent Crimes", "S2": "Non-Violent Crimes", "S3": "Sex-Related Crimes",
    "S4": "Child Sexual Exploitation", "S5": "Defamation", "S6": "Specialized Advice",
    "S7": "Privacy", "S8": "Intellectual Property", "S9": "Indiscriminate Weapons",
    "S10": "Hate", "S11": "Suicide & Self-Harm", "S12": "Sexual Content", "S13": "Elections",
    "S14": "Code Interpreter Abuse",
}


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
