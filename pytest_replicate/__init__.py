"""pytest-replicate: promptfoo-style evals of Replicate models as pytest tests.

The names below are the public API; every module behind them is internal and may change.

Exceptions (every error a user can cause; shown as one message, without a traceback)::

    ReplicateEvalError          base class
    ├── ConfigError             a malformed eval file, referenced file or provider config
    ├── TemplateError           a prompt or assertion value could not be rendered
    ├── TransformError          user Python code (transform, python assertion) raised
    ├── ProviderError           a model call failed: token, model id, input, prediction
    └── CassetteError           a cassette could not be replayed (miss, corrupt file)
"""

from importlib.metadata import PackageNotFoundError, version

from .api import AssertionInput, ModelResult, PromptInput, assert_output, grade_output, load_suite, parse_assertions
from .assertions import GradingResult
from .errors import CassetteError, ConfigError, ProviderError, ReplicateEvalError, TemplateError, TransformError
from .providers import CallContext, ImageOutput, Provider, ProviderResponse, create_provider
from .pytest.fixtures import ProviderFactory, ReplicateModel, ReplicateSession
from .results.case import CaseResult
from .suite.model import Case

try:
    __version__ = version("pytest-replicate")
except PackageNotFoundError:  # pragma: no cover - running from a source tree that is not installed
    __version__ = "0+unknown"

__all__ = [
    "AssertionInput",
    "CallContext",
    "Case",
    "CaseResult",
    "CassetteError",
    "ConfigError",
    "GradingResult",
    "ImageOutput",
    "ModelResult",
    "PromptInput",
    "Provider",
    "ProviderError",
    "ProviderFactory",
    "ProviderResponse",
    "ReplicateEvalError",
    "ReplicateModel",
    "ReplicateSession",
    "TemplateError",
    "TransformError",
    "__version__",
    "assert_output",
    "create_provider",
    "grade_output",
    "load_suite",
    "parse_assertions",
]
