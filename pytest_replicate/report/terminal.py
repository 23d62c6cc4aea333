"""The plugin's sections of pytest's terminal summary, rendered from the report document.

Everything shown comes from the document (``model.py``), which is built from results that are
the same in a plain run and under pytest-xdist, so ``-n 2`` prints what a plain run does.
A line is a list of segments, each a text and pytest's markup keywords for it; the caller
applies them with pytest's terminal writer, so ``--color=no`` gives plain text and widths are
measured here without escape codes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..errors import display_path
from ..providers.replicate.text import resolved_version_lines
from ..text import counted, dollars
from .drift import drift_lines

Markup = Mapping[str, bool]  # keywords of pytest's TerminalWriter.markup: {"red": True}, ...
Segment = tuple[str, Markup]
Line = list[Segment]

PLAIN: Markup = {}
BOLD: Markup = {"bold": True}
GREEN: Markup = {"green": True}
RED: Markup = {"red": True}
YELLOW: Markup = {"yellow": True}

INDENT = "  "
GAP = "  "  # between the columns of a matrix
MIN_COLUMN = 6  # narrower than this, a label says nothing: list the columns one per line instead
NONE = "—"  # no case in this cell, or no figure for this column


@dataclass(frozen=True)
class Section:
    """A titled part of the summary (pytest draws the title as a ``---- title ----`` line)."""

    title: str
    lines: list[Line]
    markup: Markup = field(default_factory=dict)


def summary_sections(document: Mapping[str, Any], *, width: int, verbosity: int) -> list[Section]:
    """The sections worth showing: ``verbosity`` is pytest's (``-q`` is -1, ``-v`` 1).

    Default: per eval file a matrix of figures per (prompt, provider) column, then the run-wide
    counts; ``-v`` adds a row per test case; ``-q`` shows one line per file; ``-qq`` nothing.
    """
    if verbosity <= -2:
        return []
    sections = []
    if document["files"]:
        lines: list[Line] = []
        for file in document["files"]:
            lines.extend(_file_brief(file, width) if verbosity < 0 else _file_matrix(file, width, cases=verbosity > 0))
        sections.append(Section("replicate evals", lines))
    plan = document["run"].get("plan")
    if plan:
        cases = [case for file in document["files"] for case in file["cases"]]
        sections.append(_plan_section(plan, cases, width=width, verbose=verbosity > 0))
    if verbosity >= 0:
        sections.extend(_run_sections(document["run"]))
        flaky: list[Line] = []
        drifting = []  # the cases are read once, one at a time (a run's may be views of compact results)
        for case in (case for file in document["files"] for case in file["cases"]):
            if case.get("repeat") and case["repeat"]["flaky"]:
                flaky.append(_flaky_line(case))
            if case.get("drift"):
                drifting.append(case)
        if flaky:
            sections.append(Section("replicate flaky cases (some samples passed, some failed)", flaky))
        drift = drift_lines(drifting)
        if drift:
            sections.append(Section("replicate drift (cassettes against the live models)",
                                    [[(line, PLAIN)] for line in drift]))
    stale = document.get("stale")
    if stale and any(stale.values()):
        sections.append(_stale_section(stale))
    if document.get("comparison"):
        sections.append(_comparison_section(document["comparison"], brief=verbosity < 0))
    gate = document.get("gate")
    if gate and (gate["failed"] or verbosity >= 0):
        sections.append(_gate_section(gate))
    return sections


def plain_text(line: Line) -> str:
    """A line without its markup."""
    return "".join(text for text, _ in line)


# -- per eval file -------------------------------------------------------------------------------


def _headline(file: Mapping[str, Any], width: int, more: Sequence[Line] = ()) -> list[Line]:
    """``file: 4 of 8 passed (50%), 1 error``, green when every graded case passed, then
    ``more`` items, wrapped to the width."""
    figures = file["figures"]
    graded = figures["cases"] - figures["skipped"]
    counts = f"{figures['passed']} of {graded} passed"
    if figures["pass_rate"] is not None:
        counts += f" ({_percent(figures['pass_rate'])})"
    markup = GREEN if figures["passed"] == graded else RED
    items = [[(counts, markup)]]
    if figures["errors"]:
        items.append([(f"{figures['errors']} error{'s' if figures['errors'] != 1 else ''}", RED)])
    if figures["skipped"]:
        items.append([(f"{figures['skipped']} skipped", YELLOW)])
    if file.get("below_bar"):
        items.append([(f"below the minimum pass rate {_percent(file['min_pass_rate'])}", RED)])
    return _pack([(f"{file['file']}: ", BOLD)], [*items, *more], width)


def _file_brief(file: Mapping[str, Any], width: int) -> list[Line]:
    """``-q``: the headline and the file's metric means."""
    metrics = [[(f"{'mean ' if index == 0 else ''}{name} {figure['mean']:.2f}", PLAIN)]
               for index, (name, figure) in enumerate(file["figures"]["metrics"].items())]
    return _headline(file, width, metrics)


def _file_matrix(file: Mapping[str, Any], width: int, *, cases: bool) -> list[Line]:
    """The headline, then a row per figure (and per test case with ``cases``) and a column per
    (prompt, provider); a listing, one line per column, when the columns do not fit."""
    columns = file["columns"]
    case_rows = [(_row_label(row), [_verdict(file["cases"][index]) if index is not None else (NONE, PLAIN)
                                    for index in row["cells"]]) for row in file["rows"]] if cases else []
    figure_rows = _figure_rows(file)
    header = [("prompt", [(column["prompt"], PLAIN) for column in columns]),
              ("provider", [(column["provider_label"], PLAIN) for column in columns])]
    table = _table(header, case_rows + figure_rows, width)
    if table is not None:
        return [*_headline(file, width), *table]
    lines = _headline(file, width)
    for number, column in enumerate(columns, 1):
        title = f"{INDENT}[{number}] {_fit(column['prompt'], width // 3)} | {_fit(column['provider_label'], width // 3)}: "
        lines.extend(_pack([(title, PLAIN)], [[(f"{label} ", PLAIN), cells[number - 1]] for label, cells in figure_rows],
                           width))
    for label, cells in case_rows:
        lines.extend(_pack([(f"{INDENT}{_fit(label, width // 2)}: ", PLAIN)],
                           [[(f"[{number}] ", PLAIN), cell] for number, cell in enumerate(cells, 1)], width, commas=False))
    return lines


def _figure_rows(file: Mapping[str, Any]) -> list[tuple[str, list[Segment]]]:
    """(label, a cell per column) for each figure this file has: the pass rate always; errors,
    skips, metric means, latency, cost and exchanges where some column has them."""
    overall = file["figures"]
    per_column = [column["figures"] for column in file["columns"]]
    rows = [("pass rate", [_rate(figures) for figures in per_column])]
    for key, markup in (("errors", RED), ("skipped", YELLOW)):
        if overall[key]:
            rows.append((key, [(str(figures[key]), markup if figures[key] else PLAIN) for figures in per_column]))
    for metric in overall["metrics"]:
        rows.append((metric, [(f"{figures['metrics'][metric]['mean']:.2f}", PLAIN) if metric in figures["metrics"]
                              else (NONE, PLAIN) for figures in per_column]))
    if overall["latency_ms"]["count"]:
        rows.append(("latency p50/p95", [(f"{_seconds(figures['latency_ms']['p50'])}/"
                                          f"{_seconds(figures['latency_ms']['p95'])}", PLAIN)
                                         if figures["latency_ms"]["count"] else (NONE, PLAIN)
                                         for figures in per_column]))
    for kind in ("live", "replayed"):
        if overall["cost"][kind]:  # a free provider (echo) costs nothing worth a row
            rows.append((f"cost {kind}", [(_dollars(figures["cost"][kind]), PLAIN) for figures in per_column]))
    if overall.get("samples"):
        rows.append(("samples passed", [_samples(figures.get("samples")) for figures in per_column]))
    if any(overall["exchanges"].values()):
        rows.append(("live/replayed/missed", [_exchanges(figures["exchanges"]) for figures in per_column]))
    return rows


def _rate(figures: Mapping[str, Any]) -> Segment:
    graded = figures["cases"] - figures["skipped"]
    if figures["pass_rate"] is None:
        return NONE, PLAIN
    return f"{_percent(figures['pass_rate'])} {figures['passed']}/{graded}", GREEN if figures["passed"] == graded else RED


def _samples(samples: Mapping[str, Any] | None) -> Segment:
    """``7/10 [0.40-0.89]``: the samples that passed and the 95% Wilson interval of the rate."""
    if not samples or not samples["count"]:
        return NONE, PLAIN
    low, high = samples["interval"]
    markup = GREEN if samples["passed"] == samples["count"] else YELLOW if samples["passed"] else RED
    return f"{samples['passed']}/{samples['count']} [{low:.2f}-{high:.2f}]", markup


def _flaky_line(case: Mapping[str, Any]) -> Line:
    repeat = case["repeat"]
    low, high = repeat["interval"]
    mean = "" if repeat["mean_score"] is None else f", mean score {repeat['mean_score']:.2f}"
    return [(f"{case['nodeid']}: {repeat['passed']}/{repeat['ran']} samples passed{mean}, "
             f"95% interval {low:.2f}-{high:.2f}", YELLOW)]


def _exchanges(counts: Mapping[str, int]) -> Segment:
    return f"{counts['recorded']}/{counts['replayed']}/{counts['missed']}", RED if counts["missed"] else PLAIN


def _row_label(row: Mapping[str, Any]) -> str:
    """A test case as its description and vars (one line)."""
    variables = ", ".join(f"{key}={_one_line(value)}" for key, value in row["vars"].items())
    if not row["description"]:
        return variables or "default"
    return f"{_one_line(row['description'])} ({variables})" if variables else _one_line(row["description"])


def _verdict(case: Mapping[str, Any]) -> Segment:
    """PASS/FAIL/ERR/SKIP, the score, and what changed against the baseline."""
    if case["outcome"] == "skipped":
        word, markup = "SKIP", YELLOW
    elif case["error"] is not None:
        word, markup = "ERR", RED
    else:
        word, markup = ("PASS", GREEN) if case["passed"] else ("FAIL", RED)
    text = word if case.get("score") is None else f"{word} {case['score']:.2f}"
    repeat = case.get("repeat")
    if repeat:
        text += f" {repeat['passed']}/{repeat['ran']}"
    drift = case.get("drift")
    if drift and drift["verdict"]:
        text += f" (drift: was {drift['verdict'].split('→')[0].upper()})"
    comparison = case.get("comparison")
    if comparison:
        if comparison.get("verdict"):
            text += f" (was {comparison['verdict'].split('→')[0].upper()})"
        elif comparison.get("status") == "new":
            text += " (new)"
        elif comparison.get("score_delta"):
            text += f" ({comparison['score_delta']:+.2f})"
    return text, markup


# -- run-wide ------------------------------------------------------------------------------------


def _run_sections(run: Mapping[str, Any]) -> list[Section]:
    """Cassette counts, the calls that ran live, the spend, the models that ran by their latest version."""
    sections = []
    exchanges = run["exchanges"]
    if any(exchanges.values()):
        sections.append(Section("replicate cassettes", [[(
            f"{exchanges['replayed']} replayed, {exchanges['recorded']} recorded, {exchanges['missed']} missed "
            f"(record mode: {run['record_mode']})", RED if exchanges["missed"] else PLAIN)]]))
    latency = run["figures"]["latency_ms"]
    if latency["count"]:
        text = (f"{latency['count']} calls ran live: p50 {_seconds(latency['p50'])}, p95 {_seconds(latency['p95'])}, "
                f"peak concurrency {max(run['peak_concurrency'], 1)}")
        if run["throttled"]:
            text += f"; throttled {run['throttled']} times"
            if run["slowed_to"] is not None:
                text += f", slowed to {run['slowed_to']} at once"
        sections.append(Section("replicate calls", [[(text, PLAIN)]]))
    spend = run.get("spend")
    if spend and (spend["calls"] or spend["limit"] is not None or any(exchanges.values())):
        # Shown whenever the run touched Replicate (even replayed: "$0" is news worth having);
        # a run of echo-only evals has nothing to say about money.
        sections.append(Section("replicate spend", [spend_line(spend)]))
    versions = resolved_version_lines(run["versions"])
    if versions:
        sections.append(Section("replicate models", [[(line, YELLOW)] for line in versions]))
    return sections


_ROUTES = {  # how the plan says what an item would do, by its route (run/plan.py)
    "live": "would call models live",
    "replay": "would replay their cassettes",
    "miss": "would fail: no cassette, and the record mode records none",
    "no token": "would fail before any call is billed: no Replicate API token",
    "free": "call no model",
}
PLAN_LISTED = 10  # items listed as going live, without -v


def _plan_section(plan: Mapping[str, Any], cases: Sequence[Mapping[str, Any]], *, width: int,
                  verbose: bool) -> Section:
    """``--replicate-plan``: the items by route, those that would go live, and per model the live
    calls and their estimated cost (or why there is none), then the total."""
    items = sorted(plan["items"].items(), key=lambda item: list(_ROUTES).index(item[0]) if item[0] in _ROUTES else 99)
    lines: list[Line] = [[(f"{counted(sum(count for _, count in items), 'item')}: ", BOLD)] + [
        (f"{', ' if index else ''}{count} {_ROUTES.get(route, route)}", YELLOW if route == "live" else PLAIN)
        for index, (route, count) in enumerate(items)]]
    live: dict[str, list[str]] = {}  # why -> the items that would go live for that reason
    for case in cases:
        if case.get("plan") and case["plan"]["route"] == "live":
            live.setdefault(case["plan"]["why"], []).append(f"{display_path(case['file'])}::{case['name']}")
    listed = 0
    for why, names in live.items():
        lines.append([(f"{INDENT}live, as each {why}:", PLAIN)])
        shown = names if verbose else names[:max(0, PLAN_LISTED - listed)]
        lines.extend([[(_fit(f"{INDENT * 2}{name}", width), PLAIN)] for name in shown])
        listed += len(shown)
        if len(shown) < len(names):
            lines.append([(f"{INDENT * 2}... and {len(names) - len(shown)} more (-v lists them all)", PLAIN)])
    for row in plan["models"]:
        lines.append([(f"{INDENT}{row['model']} ({row['role']}): ", BOLD), *_planned_cost(row)])
        lines.extend([[(f"{INDENT * 2}{basis}", PLAIN)] for basis in row["bases"]])
    lines.append([(f"{INDENT}total: ", BOLD), *_planned_cost(plan["total"])])
    lines.append([("nothing was called (--replicate-plan); --replicate-max-cost=USD caps a real run's live spend",
                   PLAIN)])
    return Section("replicate plan (calls nothing)", lines)


def _planned_cost(row: Mapping[str, Any]) -> Line:
    """``at least 4 live calls, estimated $0.0012, + 4 of unknown cost``."""
    calls = f"{'at least ' if row['at_least'] else ''}{counted(row['calls'], 'live call')}"
    known = row["calls"] - row["unestimated"]
    parts: list[Segment] = [(calls, PLAIN)]
    if known:
        parts.append((f", estimated {dollars(row['estimate'])}", PLAIN))
    if row["unestimated"]:
        parts.append((", cost unknown" if not known else f", + {row['unestimated']} of unknown cost", YELLOW))
    return parts


def spend_line(spend: Mapping[str, Any]) -> Line:
    """``spent live: $0.0123 on 5 live calls (2 of unknown cost: no price in their provider config)``,
    then the limit and the items it skipped."""
    calls, unpriced, limit = spend["calls"], spend["unpriced"], spend["limit"]
    if not calls:
        line: Line = [("spent live: $0 (no live calls)", PLAIN)]
    else:
        text = f"spent live: {dollars(spend['dollars'])} on {counted(calls, 'live call')}"
        line = [(text, PLAIN)]
        if unpriced:
            line.append((f" ({unpriced} of unknown cost: no price in their provider config, see README "
                         "'What costs money')", YELLOW))
    if limit is not None:
        line.append((f"; max cost {dollars(limit)}", PLAIN))
        if spend.get("skipped"):
            line.append((f", reached: {counted(spend['skipped'], 'item')} skipped", YELLOW))
    return line


def _stale_section(stale: Mapping[str, Any]) -> Section:
    """Cassette files no test opens (or the ones ``--replicate-prune`` deleted), and interactions
    of replayed cassettes that no test played."""
    lines: list[Line] = []
    pruned = set(stale["pruned"])
    unused = [path for path in stale["unused"] if path not in pruned]
    if unused:
        lines.append([(f"{counted(len(unused), 'cassette')} no test opens (--replicate-prune deletes them):", YELLOW)])
        lines += [[(f"{INDENT}{display_path(path)}", YELLOW)] for path in unused]
    if pruned:
        lines.append([(f"deleted {counted(len(pruned), 'unused file')} (--replicate-prune):", PLAIN)])
        lines += [[(f"{INDENT}{display_path(path)}", PLAIN)] for path in stale["pruned"]]
    if stale["unplayed"]:
        lines.append([(f"{counted(len(stale['unplayed']), 'cassette')} with interactions no test replayed:", YELLOW)])
        lines += [[(f"{INDENT}{display_path(path)}: interaction {'indices' if len(indices) > 1 else 'index'} "
                    f"{', '.join(map(str, indices))}", YELLOW)] for path, indices in stale["unplayed"].items()]
    return Section("replicate stale cassettes", lines)



def _comparison_section(comparison: Mapping[str, Any], *, brief: bool) -> Section:
    """What changed against the baseline: counts (per file too), then the regressions and the
    cases gone, by node id; ``brief``: the counts only."""
    lines = [_changes(comparison["counts"])]
    if not brief:
        lines += [[(f"{file}: ", BOLD), *_changes(counts)] for file, counts in comparison["files"].items()]
        for key, title, markup in (("regressions", "regressions (passed in the baseline, fail now):", RED),
                                   ("gone", "gone (in the baseline, not run now):", YELLOW)):
            if comparison[key]:
                lines.append([(title, markup)])
                lines += [[(f"{INDENT}{nodeid}", markup)] for nodeid in comparison[key]]
    return Section(f"replicate comparison with {comparison['baseline']}", lines)


_CHANGES = (("pass_to_fail", "pass→fail", RED), ("fail_to_pass", "fail→pass", GREEN),
            ("score_changed", "score changed", PLAIN), ("output_changed", "output changed", PLAIN),
            ("new", "new", PLAIN), ("gone", "gone", YELLOW))


def _changes(counts: Mapping[str, int]) -> Line:
    """``1 pass→fail, 2 score changed``: the kinds of change that happened."""
    parts: Line = []
    for key, words, markup in _CHANGES:
        if counts.get(key):
            parts += [(", ", PLAIN)] if parts else []
            parts.append((f"{counts[key]} {words}", markup))
    return parts or [("no changes", PLAIN)]


def _gate_section(gate: Mapping[str, Any]) -> Section:
    """Whether the run passes its bars (pass rate, regressions), and the reasons if not."""
    failed = gate["failed"]
    lines = [[(reason, RED if failed else PLAIN)] for reason in gate["reasons"]]
    lines += [[(note, YELLOW)] for note in gate.get("notes", ())]
    if failed:
        return Section("replicate gate: failed", lines, {"red": True, "bold": True})
    return Section("replicate gate: passed", lines, GREEN)


# -- layout --------------------------------------------------------------------------------------


def _table(header: list[tuple[str, list[Segment]]], body: list[tuple[str, list[Segment]]],
           width: int) -> list[Line] | None:
    """Rows of a label and cells, aligned in columns within ``width``; None when they do not fit.

    Cells are never cut; header labels are, down to the widest cell (at least ``MIN_COLUMN``),
    the room left going to them column by column.
    """
    count = len(header[0][1])
    labels = [label for label, _ in header + body]
    label_width = min(max(map(len, labels)), max(16, width // 3))
    least = [max([MIN_COLUMN, *(len(cells[index][0]) for _, cells in body)]) for index in range(count)]
    wanted = [max([least[index], *(len(cells[index][0]) for _, cells in header)]) for index in range(count)]
    room = width - len(INDENT) - label_width - len(GAP) * count
    if sum(least) > room:
        return None
    widths, spare = list(least), room - sum(least)
    while spare and widths != wanted:
        for index in range(count):
            if spare and widths[index] < wanted[index]:
                widths[index] += 1
                spare -= 1
    return [_row(label, cells, label_width, widths) for label, cells in header + body]


def _row(label: str, cells: Sequence[Segment], label_width: int, widths: Sequence[int]) -> Line:
    line: Line = [(INDENT + _fit(label, label_width).ljust(label_width), PLAIN)]
    for (text, markup), width in zip(cells, widths, strict=True):
        text = _fit(text, width)
        line += [(GAP, PLAIN), (text, markup), (" " * (width - len(text)), PLAIN)]
    while line and not line[-1][0].strip():
        line.pop()
    return line


def _pack(first: Line, items: Sequence[Line], width: int, *, commas: bool = True) -> list[Line]:
    """``first`` followed by ``items`` (separated by commas, else spaces), wrapped to ``width``
    under an indent; an item is never split."""
    if commas:
        items = [[*item, (",", PLAIN)] for item in items[:-1]] + list(items[-1:])
    indent = INDENT * 3
    lines, line, length = [], list(first), len(plain_text(first))
    for position, item in enumerate(items):
        size = len(plain_text(item))
        if position and length + 1 + size > width:
            lines.append(line)
            line, length = [(indent, PLAIN)], len(indent)
        elif position:
            line.append((" ", PLAIN))
            length += 1
        line += item
        length += size
    return [*lines, line]


def _fit(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(width - 1, 0)] + "…"


def _one_line(value: Any) -> str:
    return " ".join(str(value).split())


def _percent(rate: float) -> str:
    """A whole percentage that never rounds a failure up to 100% or a pass down to 0%."""
    percent = round(rate * 100)
    if percent == 100 and rate < 1:
        percent = 99
    elif percent == 0 and rate > 0:
        percent = 1
    return f"{percent}%"


def _seconds(milliseconds: float) -> str:
    return f"{milliseconds / 1000:.2f}s"


def _dollars(value: float | None) -> str:
    return NONE if value is None else f"${value:.4f}"
