"""Deterministic sentence embeddings for the simulated embedding model.

A hashed bag of words and character trigrams, L2-normalised: texts that share words
get a measurably higher cosine similarity than unrelated ones, which is all that
similarity assertions and answer-relevance grading need, and no model weights are involved.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from typing import Any

DIMENSIONS = 768


def _features(text: str) -> list[tuple[str, float]]:
    words = re.findall(r"[a-z0-9]+", text.lower())
    features = [(f"w:{word}", 1.0) for word in words]
    for word in words:
        padded = f" {word} "
        features += [(f"c:{padded[i:i + 3]}", 0.5) for i in range(len(padded) - 2)]
    return features


def embed(text: str) -> list[float]:
    """A unit vector of ``DIMENSIONS`` floats (all zeros for text without words)."""
    vector = [0.0] * DIMENSIONS
    for feature, weight in _features(text):
        digest = hashlib.blake2b(feature.encode(), digest_size=8).digest()
        index = int.from_bytes(digest[:4], "big") % DIMENSIONS
        vector[index] += weight if digest[4] & 1 else -weight
    norm = math.sqrt(sum(v * v for v in vector))
    return [round(v / norm, 6) for v in vector] if norm else vector


def cosine(a: list[float], b: list[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    norms = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return dot / norms if norms else 0.0


def texts_of(inp: dict[str, Any]) -> list[str]:
    """The texts an all-mpnet-style input asks to encode: ``text`` and/or ``text_batch`` (a JSON list)."""
    texts = [inp["text"]] if isinstance(inp.get("text"), str) and inp["text"] else []
    batch = inp.get("text_batch")
    if isinstance(batch, str) and batch.strip():
        try:
            decoded = json.loads(batch)
        except ValueError:
            decoded = [batch]
        texts += [str(item) for item in (decoded if isinstance(decoded, list) else [decoded])]
    return texts


def embedding_output(inp: dict[str, Any]) -> list[dict[str, list[float]]]:
    """``[{"embedding": [...]}, ...]``, one per input text, as replicate/all-mpnet-base-v2 answers."""
    return [{"embedding": embed(text)} for text in texts_of(inp)]
