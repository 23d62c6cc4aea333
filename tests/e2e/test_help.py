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
