"""The check modules; importing this package declares every assertion type."""

from . import comparison, deterministic, image, metrics, model_graded, moderation, rag, similarity

__all__ = ["comparison", "deterministic", "image", "metrics", "model_graded", "moderation", "rag", "similarity"]
