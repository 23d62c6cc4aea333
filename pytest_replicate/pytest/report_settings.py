"""What the reports are asked for: files to write, a baseline to compare with, and gates.

Resolved once at configure time from the command line and ini keys (command line wins),
so a bad value is a usage error before anything runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ..run.settings import ini_number

MIN_PASS_RATE_OPTION = "replicate_min_pass_rate"
RATE_EXPECTED = "a pass rate from 0 to 1, such as 0.9"


@dataclass(frozen=True)
class ReportSettings:
    json: Path | None = None  # --replicate-json
    html: Path | None = None  # --replicate-html
    baseline: Path | None = None  # --replicate-baseline: a JSON report of an earlier run
    fail_on_regression: bool = False  # a case that passed in the baseline fails now: the session fails
    min_pass_rate: float | None = None  # a file below this pass rate fails the session; failures alone do not

    @classmethod
    def from_pytest(cls, config: pytest.Config) -> ReportSettings:
        option = config.option
        settings = cls(
            json=_path(option.replicate_json),
            html=_path(option.replicate_html),
            baseline=_path(option.replicate_baseline),
            fail_on_regression=bool(option.replicate_fail_on_regression),
            min_pass_rate=_rate(config),
        )
        if settings.fail_on_regression and settings.baseline is None:
            raise pytest.UsageError("--replicate-fail-on-regression needs a run to compare with: add "
                                    "--replicate-baseline=PATH, a JSON report (--replicate-json) of an earlier run")
        return settings

    def read_baseline(self) -> dict[str, Any] | None:
        """The baseline's report document, checked; one usage error that names the file and the fix."""
        if self.baseline is None:
            return None
        from ..report.baseline import BaselineError, load_baseline
        from ..report.model import SCHEMA_VERSION

        try:
            return load_baseline(self.baseline)
        except BaselineError as error:
            raise pytest.UsageError(
                f"--replicate-baseline={self.baseline}: the file {error}. Give a JSON report written by "
                f"--replicate-json (schema_version {SCHEMA_VERSION}), e.g. from a run of the main branch, "
                "or leave the option out") from None

    @property
    def image_folder(self) -> Path | None:
        """Where generated images are written for the reports: beside the JSON report, else the HTML one."""
        report = self.json or self.html
        return None if report is None else report.with_name(f"{report.stem}-images")

    @property
    def wanted(self) -> bool:
        """Whether anything beyond the terminal summary needs the report document."""
        return any((self.json, self.html, self.baseline, self.fail_on_regression, self.min_pass_rate is not None))


def _path(value: str | None) -> Path | None:
    return Path(value) if value else None


def _rate(config: pytest.Config) -> float | None:
    """``--replicate-min-pass-rate`` > ini ``replicate_min_pass_rate``; a number from 0 to 1."""
    value, source = config.option.replicate_min_pass_rate, "--replicate-min-pass-rate"
    if value is None:
        value, source = ini_number(config, MIN_PASS_RATE_OPTION, RATE_EXPECTED), MIN_PASS_RATE_OPTION
    if value in (None, ""):
        return None
    try:
        rate = float(value)
    except ValueError:
        rate = -1.0
    if not 0 <= rate <= 1:  # nan fails both comparisons
        raise pytest.UsageError(f"{source} = {value!r}: give {RATE_EXPECTED}")
    return rate
