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

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .api import AssertionInput, ModelResult, PromptInput, assert_output, grade_output, load_suite, parse_assertions
    from .assertions import GradingResult
    from .errors import CassetteError, ConfigError, ProviderError, ReplicateEvalError, TemplateError, TransformError
    from .providers import CallContext, ImageOutput, Provider, ProviderResponse, create_provider
    from .pytest.replicate_session import ProviderFactory, ReplicateModel, ReplicateSession
    from .results.case import CaseResult
    from .suite.model import Case

# Where each public name lives. Imported on first use, not with the package: pytest imports the
# plugin (and so this package) in every project it is installed in, eval files or not.
_HOMES = {
    "api": ("AssertionInput", "ModelResult", "PromptInput", "assert_output", "grade_output", "load_suite",
            "parse_assertions"),
    "assertions": ("GradingResult",),
    "errors": ("CassetteError", "ConfigError", "ProviderError", "ReplicateEvalError", "TemplateError",
               "TransformError"),
    "providers": ("CallContext", "ImageOutput", "Provider", "ProviderResponse", "create_provider"),
    "pytest.replicate_session": ("ProviderFactory", "ReplicateModel", "ReplicateSession"),
    "results.case": ("CaseResult",),
    "suite.model": ("Case",),
}
_MODULE_OF = {name: module for module, names in _HOMES.items() for name in names}


def __getattr__(name: str) -> Any:
    # Not cached here: the module's own attribute stays the one truth, also where a tool such
    # as pytester unloads and re-imports modules between runs.
    if name == "__version__":
        from .version import package_version

        return package_version()
    if name in _MODULE_OF:
        return getattr(import_module(f".{_MODULE_OF[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])


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
