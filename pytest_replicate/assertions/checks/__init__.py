"""The check modules; importing this package declares every assertion type."""

from . import (
    comparison,
    conversation,
    deterministic,
    function_calls,
    html,
    image,
    metrics,
    model_graded,
    moderation,
    rag,
    refusal,
    similarity,
    sql,
    tool_call_f1,
    webhook,
    xml,
)

__all__ = ["comparison", "conversation", "deterministic", "function_calls", "html", "image", "metrics", "model_graded", "moderation",
           "rag", "refusal", "similarity", "sql", "tool_call_f1", "webhook", "xml"]
