"""How a large HTML report behaves in a real browser, measured in one run.

    python benchmarks/html_report.py [--cases 5000] [--repeat 5]

Builds a report document of ``--cases`` cases (rows of 4 columns: 2 prompts x 2 providers,
outputs of about 600 characters, 3 assertions each, a fifth failing, one in fifty an error),
renders it with ``--replicate-html``'s writer, opens it from ``file://`` in headless Chromium
(Debian's ``/usr/bin/chromium``, driven by Playwright) and prints the median over ``--repeat``
page loads of: the time to load (``page.goto`` until the load event, the navigation timing's
``loadEventEnd``, and the first contentful paint, when the top of the page shows), then the
time a status-filter click takes, the text filter, and the first expanded case (which parses
the cases' JSON), each from the event to the next frame painted. Target at 5,000 cases: the
page loaded within about 1 s, and a filter within 100 ms.
Exits 0 with a message when Playwright or Chromium is missing.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pytest_replicate.report.html import write_html  # noqa: E402
from pytest_replicate.report.model import build_report  # noqa: E402

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
COLUMNS = [("polite", "llama-3-8b"), ("polite", "mistral-7b"), ("terse", "llama-3-8b"), ("terse", "mistral-7b")]
SENTENCE = "The customer asks about a refund for an order that arrived damaged, and wants it fast. "
# Runs in the page: the time from an action to the next frame painted after it.
TIMED = """async (action) => {
  const started = performance.now();
  action === "filter" ? document.querySelector('[data-filter="failed"]').click()
    : action === "all" ? document.querySelector('[data-filter="all"]').click()
    : action === "search" ? (() => { const box = document.getElementById("search");
        box.value = "ticket 7"; box.dispatchEvent(new Event("change")); })()
    : document.querySelector("[data-case] details").open = true;
  await new Promise((done) => requestAnimationFrame(() => setTimeout(done)));
  return performance.now() - started;
}"""


def document(count: int) -> dict[str, Any]:
    results = []
    for index in range(count):
        row, (prompt, provider) = index // len(COLUMNS), COLUMNS[index % len(COLUMNS)]
        failed, error = index % 5 == 1, index % 50 == 3
        results.append({
            "nodeid": f"support.eval.yaml::ticket {row}[{prompt}-{provider}]", "name": f"ticket {row}",
            "outcome": "failed" if failed or error else "passed", "file": "support.eval.yaml",
            "description": f"ticket {row}", "test": f"support.eval.yaml:{10 + row}",
            "vars": {"ticket": f"ticket {row}: my order arrived damaged", "language": "English"},
            "prompt_label": prompt, "provider_label": provider, "provider": f"replicate:meta/{provider}",
            "prompt": f"Answer the ticket politely: ticket {row}", "output": SENTENCE * 7,
            "image": None, "passed": not (failed or error), "score": 0.33 if failed else 1.0,
            "reason": "Expected output to contain 'refund policy'" if failed else "All assertions passed",
            "named_scores": {"tone": 0.5 if failed else 1.0},
            "assertions": [{"type": kind, "value": "refund", "passed": not (failed and kind == "icontains"),
                            "score": 1.0, "reason": "ok", "weight": 1, "metric": None, "children": []}
                           for kind in ("icontains", "javascript", "llm-rubric")],
            "latency_ms": None, "cost": 0.00012, "prediction_id": f"p{index}", "cassette": f"cassettes/{index}.yaml",
            "replayed": 1, "recorded": 0, "missed": 0, "live": False,
            "error": "prediction failed: out of memory" if error else None, "duration": 0.01,
        })
    return build_report(results, run={"record_mode": "none",
                                      "exchanges": {"replayed": count, "recorded": 0, "missed": 0}})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=5000, help="cases in the report (default 5000)")
    parser.add_argument("--repeat", type=int, default=5, help="page loads, each measured (default 5)")
    args = parser.parse_args()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        print("skipped: Playwright is not installed (pip install playwright)")
        return
    if not CHROMIUM.exists():
        print(f"skipped: no Chromium at {CHROMIUM} (apt-get install chromium)")
        return
    with tempfile.TemporaryDirectory() as temp:
        path = Path(temp) / "report.html"
        report = document(args.cases)
        started = time.perf_counter()
        write_html(report, path)
        rendered = time.perf_counter() - started
        print(f"{args.cases} cases, {len(report['files'][0]['rows'])} rows: rendered and written in {rendered:.2f} s, "
              f"{path.stat().st_size / 1e6:.1f} MB")
        figures: dict[str, list[float]] = {}
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            for _ in range(args.repeat):
                page = browser.new_page(viewport={"width": 1400, "height": 900})
                started = time.perf_counter()
                page.goto(path.as_uri(), wait_until="load")
                figures.setdefault("page.goto until load (s)", []).append(time.perf_counter() - started)
                timing = page.evaluate("performance.timing.loadEventEnd - performance.timing.navigationStart")
                figures.setdefault("navigation timing, loadEventEnd (s)", []).append(timing / 1000)
                painted = page.evaluate("performance.getEntriesByName('first-contentful-paint')[0].startTime")
                figures.setdefault("first contentful paint (s)", []).append(painted / 1000)
                for action, label in (("filter", "status filter 'Failed' click"), ("all", "back to 'All'"),
                                      ("search", "text filter, first use"), ("search", "text filter, again"),
                                      ("expand", "first case expanded")):
                    figures.setdefault(f"{label} (ms)", []).append(page.evaluate(TIMED, action))
                page.close()
            browser.close()
    for label, values in figures.items():
        print(f"{label:40} median {statistics.median(values):8.3f}   (min {min(values):.3f}, max {max(values):.3f})")


if __name__ == "__main__":
    main()
