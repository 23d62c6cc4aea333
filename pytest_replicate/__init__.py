"""pytest-replicate: promptfoo-style evals of Replicate models as pytest tests."""

from .errors import CassetteError, ConfigError, ProviderError, ReplicateEvalError, TemplateError, TransformError

__all__ = ["CassetteError", "ConfigError", "ProviderError", "ReplicateEvalError", "TemplateError", "TransformError"]
__version__ = "0.1.0"
