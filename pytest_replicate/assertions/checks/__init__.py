"""The check modules; importing this package declares every assertion type."""

from . import (
    comparison,
    deterministic,
    function_calls,
    html,
    image,
    javascript,
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

__all__ = ["comparison", "deterministic", "function_calls", "html", "image", "javascript", "metrics", "model_graded", "moderation",
           "rag", "refusal", "similarity", "sql", "tool_call_f1", "webhook", "xml"]
