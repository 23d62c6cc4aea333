"""The terminal summary's renderer, on hand-made report documents: what each verbosity shows,
how it fits the width, where colour goes, and the baseline comparison and gate."""

from __future__ import annotations

from typing import Any

from pytest_replicate.report.model import build_report
from pytest_replicate.report.terminal import GREEN, RED, Section, plain_text, summary_sections

RUN = {"record_mode": "none", "exchanges": {"replayed": 6, "recorded": 0, "missed": 1}, "throttled": 0,
       "slowed_to": None, "peak_concurrency": 0, "versions": {}}


def case(prompt: str, provider: str, name: str, *, passed: bool = True, score: float | None = None,
         error: str | None = None, outcome: str | None = None, live: bool = False, latency: float | None = None,
         cost: float | None = None, scores: dict[str, float] | None = None, missed: int = 0) -> dict[str, Any]:
    return {
        "nodeid": f"a.eval.yaml::{name}[{prompt}-{provider}]", "file": "a.eval.yaml", "test": "a.eval.yaml:5",
        "outcome": outcome or ("passed" if passed else "failed"), "description": "greets", "vars": {"name": name},
        "prompt_label": prompt, "provider_label": provider, "provider": "echo", "passed": passed,
        "score": score if score is not None else (None if error or outcome == "skipped" else float(passed)),
        "error": error, "named_scores": scores or {}, "live": live, "latency_ms": latency, "cost": cost,
        "replayed": 0 if live else 1 - missed, "recorded": 1 if live else 0, "missed": missed,
    }


def document() -> dict[str, Any]:
    """Two prompts x two providers; one cell empty, one error, one skip, one miss."""
    results = [
        case("polite", "llama", "Ada", scores={"tone": 1.0}, cost=0.002),
        case("polite", "gemma", "Ada", passed=False, score=0.5, scores={"tone": 0.5}, cost=0.001),
        case("terse", "llama", "Ada", error="boom", passed=False, missed=1),
        case("terse", "gemma", "Ada", scores={"tone": 0.0}, passed=False),
        case("polite", "llama", "Linus", scores={"tone": 0.5}, cost=0.002),
        case("polite", "gemma", "Linus", outcome="skipped", passed=False),
        case("terse", "llama", "Linus", scores={"tone": 1.0}),
    ]
    return build_report(results, run=RUN)


def text(sections: list[Section]) -> list[str]:
    return [line for section in sections for line in [f"--- {section.title}", *map(plain_text, section.lines)]]


def test_a_matrix_of_figures_per_column_then_the_run_wide_counts():
    assert text(summary_sections(document(), width=100, verbosity=0)) == [
        "--- replicate evals",
        "a.eval.yaml: 3 of 6 passed (50%), 1 error, 1 skipped",
        "  prompt                polite    polite   terse    terse",
        "  provider              llama     gemma    llama    gemma",
        "  pass rate             100% 2/2  0% 0/1   50% 1/2  0% 0/1",
        "  errors                0         0        1        0",
        "  skipped               0         1        0        0",
        "  tone                  0.75      0.50     1.00     0.00",
        "  cost replayed         $0.0040   $0.0010  —        —",
        "  live/replayed/missed  0/2/0     0/2/0    0/1/1    0/1/0",
        "--- replicate cassettes",
        "6 replayed, 0 recorded, 1 missed (record mode: none)",
    ]


def test_verbose_adds_each_case_verdict_and_score_per_column():
    lines = text(summary_sections(document(), width=100, verbosity=1))
    assert lines[4:6] == [
        "  greets (name=Ada)     PASS 1.00  FAIL 0.50  ERR        FAIL 0.00",
        "  greets (name=Linus)   PASS 1.00  SKIP       PASS 1.00  —",
    ]


def test_cells_are_coloured_by_verdict():
    evals = summary_sections(document(), width=100, verbosity=1)[0]
    ada = evals.lines[3]
    assert ("PASS 1.00", GREEN) in ada and ("FAIL 0.50", RED) in ada and ("ERR", RED) in ada
    headline = evals.lines[0]
    assert headline[1][1] == RED


def test_columns_that_do_not_fit_are_listed_one_per_line_within_the_width():
    lines = text(summary_sections(document(), width=50, verbosity=1))
    evals = lines[1:lines.index("--- replicate cassettes")]
    assert all(len(line) <= 50 for line in evals), evals
    assert evals[:6] == [
        "a.eval.yaml: 3 of 6 passed (50%), 1 error,",
        "      1 skipped",
        "  [1] polite | llama: pass rate 100% 2/2,",
        "      errors 0, skipped 0, tone 0.75,",
        "      cost replayed $0.0040,",
        "      live/replayed/missed 0/2/0",
    ]
    assert evals[-4:] == ["  greets (name=Ada): [1] PASS 1.00 [2] FAIL 0.50",
                          "      [3] ERR [4] FAIL 0.00",
                          "  greets (name=Linus): [1] PASS 1.00 [2] SKIP",
                          "      [3] PASS 1.00 [4] —"]


def test_long_labels_are_cut_to_fit():
    results = [case("a very long prompt label " * 4, "replicate:meta/meta-llama-3-8b-instruct", "Ada"),
               case("short", "echo", "Ada")]
    lines = text(summary_sections(build_report(results, run=RUN), width=60, verbosity=0))
    assert all(len(line) <= 60 for line in lines[1:]), lines
    assert lines[2:4] == ["  prompt                a very long prompt label …  short",
                          "  provider              replicate:meta/meta-llama…  echo"]


def test_quiet_is_one_line_per_file_and_very_quiet_nothing():
    assert text(summary_sections(document(), width=100, verbosity=-1)) == [
        "--- replicate evals", "a.eval.yaml: 3 of 6 passed (50%), 1 error, 1 skipped, mean tone 0.60"]
    assert summary_sections(document(), width=100, verbosity=-2) == []


def test_live_calls_show_latency_cost_and_the_run_wide_calls():
    results = [case("p", "llama", "Ada", live=True, latency=300, cost=0.01),
               case("p", "llama", "Bob", live=True, latency=1200, cost=0.02)]
    run = {**RUN, "exchanges": {"replayed": 0, "recorded": 2, "missed": 0}, "peak_concurrency": 2, "throttled": 3,
           "slowed_to": 1, "versions": {"meta/llama-guard-3-8b": "77f38b16022e9f94"}}
    lines = text(summary_sections(build_report(results, run=run), width=80, verbosity=0))
    assert "  latency p50/p95       0.30s/1.20s" in lines and "  cost live             $0.0300" in lines
    assert lines[lines.index("--- replicate calls") + 1] == (
        "2 calls ran live: p50 0.30s, p95 1.20s, peak concurrency 2; throttled 3 times, slowed to 1 at once")
    assert lines[-1].startswith("meta/llama-guard-3-8b has no official endpoint: ran its latest version 77f38b16022e")


def with_comparison(report: dict[str, Any]) -> dict[str, Any]:
    counts = {"pass_to_fail": 1, "fail_to_pass": 0, "score_changed": 2, "output_changed": 1, "new": 1, "gone": 1}
    report["comparison"] = {"baseline": "baseline.json", "counts": counts, "files": {"a.eval.yaml": counts},
                            "regressions": ["a.eval.yaml::Ada[polite-gemma]"], "gone": ["a.eval.yaml::Bob[p-q]"]}
    cases = report["files"][0]["cases"]
    cases[1]["comparison"] = {"status": "changed", "verdict": "pass→fail", "baseline_score": 1.0,
                              "score_delta": -0.5, "output_changed": True}
    cases[0]["comparison"] = {"status": "changed", "verdict": None, "baseline_score": 0.75, "score_delta": 0.25,
                              "output_changed": False}
    cases[6]["comparison"] = {"status": "new", "verdict": None, "baseline_score": None, "score_delta": None,
                              "output_changed": False}
    report["gate"] = {"failed": True, "reasons": ["1 case passed in the baseline and fails now"]}
    return report


def test_the_comparison_and_the_gate_close_the_summary():
    sections = summary_sections(with_comparison(document()), width=100, verbosity=0)
    lines = text(sections)
    assert lines[lines.index("--- replicate comparison with baseline.json"):] == [
        "--- replicate comparison with baseline.json",
        "1 pass→fail, 2 score changed, 1 output changed, 1 new, 1 gone",
        "a.eval.yaml: 1 pass→fail, 2 score changed, 1 output changed, 1 new, 1 gone",
        "regressions (passed in the baseline, fail now):",
        "  a.eval.yaml::Ada[polite-gemma]",
        "gone (in the baseline, not run now):",
        "  a.eval.yaml::Bob[p-q]",
        "--- replicate gate: failed",
        "1 case passed in the baseline and fails now",
    ]
    gate = sections[-1]
    assert gate.markup["red"] and gate.lines == [[("1 case passed in the baseline and fails now", RED)]]
    assert sections[-2].lines[1][1] == ("1 pass→fail", RED)


def test_verbose_cells_tell_what_changed_against_the_baseline():
    lines = text(summary_sections(with_comparison(document()), width=120, verbosity=1))
    assert lines[4:6] == [
        "  greets (name=Ada)     PASS 1.00 (+0.25)  FAIL 0.50 (was PASS)  ERR              FAIL 0.00",
        "  greets (name=Linus)   PASS 1.00          SKIP                  PASS 1.00 (new)  —",
    ]


def test_quiet_keeps_the_comparison_counts_and_a_failed_gate():
    lines = text(summary_sections(with_comparison(document()), width=100, verbosity=-1))
    assert lines[2:] == ["--- replicate comparison with baseline.json",
                         "1 pass→fail, 2 score changed, 1 output changed, 1 new, 1 gone",
                         "--- replicate gate: failed", "1 case passed in the baseline and fails now"]
    passed = {**document(), "gate": {"failed": False, "reasons": []}}
    assert [section.title for section in summary_sections(passed, width=100, verbosity=-1)] == ["replicate evals"]
    assert summary_sections(passed, width=100, verbosity=0)[-1] == Section("replicate gate: passed", [], GREEN)


def test_a_pass_rate_is_never_rounded_to_all_or_none():
    results = [case("p", "q", str(index)) for index in range(199)] + [case("p", "q", "x", passed=False)]
    assert plain_text(summary_sections(build_report(results, run=RUN), width=80, verbosity=-1)[0].lines[0]) == (
        "a.eval.yaml: 199 of 200 passed (99%)")


def test_a_file_below_its_minimum_pass_rate_says_so_in_red():
    results = [case("p", "q", "Ada"), case("p", "q", "Bob", passed=False)]
    report = build_report(results, run=RUN, min_pass_rates={"a.eval.yaml": 0.8})
    headline = summary_sections(report, width=100, verbosity=0)[0].lines[0]
    assert plain_text(headline) == "a.eval.yaml: 1 of 2 passed (50%), below the minimum pass rate 80%"
    assert headline[-1] == ("below the minimum pass rate 80%", RED)


def repeated(name: str, passed: int, ran: int, *, prompt: str = "polite") -> dict[str, Any]:
    """A case run ``ran`` times, ``passed`` of them passing (the reducer ``all``)."""
    from pytest_replicate.results.sampling import wilson_interval

    result = case(prompt, "llama", name, passed=passed == ran)
    result["samples"] = [{"index": index + 1, "passed": index < passed, "score": float(index < passed)}
                         for index in range(ran)]
    result["repeat"] = {"count": ran, "ran": ran, "passed": passed, "reducer": {"name": "all"},
                        "mean_score": passed / ran, "interval": list(wilson_interval(passed, ran)),
                        "flaky": 0 < passed < ran}
    return result


def test_repeated_cases_show_their_samples_per_column_and_the_flaky_ones():
    report = build_report([repeated("Ada", 4, 5), repeated("Linus", 5, 5), repeated("Ada", 0, 5, prompt="terse")],
                          run=RUN)
    lines = text(summary_sections(report, width=100, verbosity=1))
    assert "  samples passed        9/10 [0.60-0.98]  0/5 [0.00-0.43]" in lines
    assert "  greets (name=Ada)     FAIL 0.00 4/5     FAIL 0.00 0/5" in lines
    flaky = lines.index("--- replicate flaky cases (some samples passed, some failed)")
    assert lines[flaky + 1:] == [
        "a.eval.yaml::Ada[polite-llama]: 4/5 samples passed, mean score 0.80, 95% interval 0.38-0.96"]


def test_drifted_cases_show_what_changed_and_the_counts():
    drifted = case("polite", "llama", "Ada", passed=False, live=True, cost=0.01)
    drifted["drift"] = {"output_changed": True, "verdict": "pass→fail", "diff": "- Paris\n+ Lyon",
                        "replayed": {"passed": True, "score": 1.0, "output": "Paris", "error": None}, "updated": False}
    steady = case("polite", "llama", "Linus", live=True, cost=0.01)
    steady["drift"] = {"output_changed": False, "verdict": None, "diff": None,
                       "replayed": {"passed": True, "score": 1.0, "output": "hi", "error": None}, "updated": False}
    lines = text(summary_sections(build_report([drifted, steady], run=RUN), width=100, verbosity=1))
    assert any("FAIL 0.00 (drift: was PASS)" in line for line in lines)
    start = lines.index("--- replicate drift (cassettes against the live models)")
    assert lines[start + 1:start + 3] == ["2 compared with their cassettes: 1 output changed, 1 pass→fail, "
                                          "0 fail→pass, 0 cassettes updated", "spent live: $0.020000"]
    assert "    - Paris" in lines and "    + Lyon" in lines
