"""The options and ini keys users see in ``pytest --help``."""

from __future__ import annotations

import pytest


def test_help_lists_our_options_and_ini_keys(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--help")
    result.stdout.fnmatch_lines(
        [
            "pytest-replicate (LLM evals on Replicate):",
            "  --replicate-record-mode={none,once,new_episodes,all,rewrite}",
            "*cassette record mode for eval items: none (replay only),*",
        ]
    )
    result.stdout.fnmatch_lines(["  --record-mode={none,once,new_episodes,all,rewrite}"])
    for key in ("replicate_eval_files (args):", "replicate_record_mode (string):",
                "replicate_cassette_dir (string):", "replicate_timeout (float):"):
        result.stdout.fnmatch_lines([f"  {key}"])


def test_help_beside_pytest_recording_says_what_record_mode_does_for_eval_items(pytester: pytest.Pytester) -> None:
    """pytest-recording's --record-mode help names its own default; ours says how eval items take it."""
    pytest.importorskip("pytest_recording")
    result = pytester.runpytest("-p", "recording", "--help")
    text = " ".join(" ".join(result.stdout.lines).split())  # help lines are wrapped
    assert "VCR.py record mode" in text  # pytest-recording's --record-mode, not ours
    assert ("Default: none on CI (the CI environment variable set, but not to false or 0), else once. Wins over "
            "--record-mode, which sets it too (pytest-recording's included: its default, none, is for its own "
            "cassettes only).") in text
