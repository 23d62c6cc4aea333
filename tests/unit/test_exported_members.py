"""The public API is what ``pytest_replicate.__all__`` names; changing it is a decision."""

from __future__ import annotations

import pytest_replicate

EXPORTED = {
    "AssertionInput", "CallContext", "Case", "CaseResult", "CassetteError", "ConfigError", "GradingResult",
    "ImageOutput", "ModelResult", "PromptInput", "Provider", "ProviderFactory", "ProviderError", "ProviderResponse", "ReplicateEvalError", "ReplicateModel", "ReplicateSession", "TemplateError",
    "TransformError", "__version__", "assert_output", "create_provider", "grade_output", "load_suite",
    "parse_assertions",
}


def test_all_is_pinned() -> None:
    assert set(pytest_replicate.__all__) == EXPORTED


def test_every_exported_name_exists() -> None:
    for name in pytest_replicate.__all__:
        assert hasattr(pytest_replicate, name), name


def test_exceptions_form_the_documented_tree() -> None:
    for name in ("ConfigError", "TemplateError", "TransformError", "ProviderError", "CassetteError"):
        assert issubclass(getattr(pytest_replicate, name), pytest_replicate.ReplicateEvalError)
        assert name in (pytest_replicate.__doc__ or "")


def test_one_version_string() -> None:
    from importlib.metadata import version

    assert pytest_replicate.__version__ == version("pytest-replicate")


def test_every_exported_name_has_one_home() -> None:
    """Names load lazily from one table; a name added to ``__all__`` must be added there too."""
    assert set(pytest_replicate._MODULE_OF) | {"__version__"} == set(pytest_replicate.__all__)
