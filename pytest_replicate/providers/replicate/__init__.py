"""Replicate providers, one module per kind of model, on the predictions protocol in ``api``."""

from __future__ import annotations

from .embedding import ReplicateEmbeddingProvider
from .image import ReplicateImageProvider
from .moderation import ReplicateModerationProvider
from .text import ReplicateProvider

# The kind in ``replicate:KIND:owner/model`` -> its provider class (no kind: ``text``).
PROVIDER_CLASSES: dict[str, type[ReplicateProvider]] = {
    "text": ReplicateProvider,
    "deployment": ReplicateProvider,
    "image": ReplicateImageProvider,
    "moderation": ReplicateModerationProvider,
    "embedding": ReplicateEmbeddingProvider,
}

__all__ = ["PROVIDER_CLASSES", "ReplicateEmbeddingProvider", "ReplicateImageProvider", "ReplicateModerationProvider",
           "ReplicateProvider"]
