"""--replicate-html: the report of a real run, opened from file:// in headless Chromium.

Needs Debian's Chromium (/usr/bin/chromium) and Playwright for Python; ``.ci/run`` installs
both. Playwright's own browser download is not used (it is unreachable from CI machines).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import CHROMIUM, CHROMIUM_ARGS

SDXL = "replicate:image:stability-ai/sdxl:7762fd07cf82c948538e41f63f77d685e02b063e37e496e96eefd46c929f9bdc"
GREETINGS = """
prompts:
  - "Say hello to {{ name }}"
  - "Greet {{ name }} warmly"
providers:
  - {id: echo, label: first}
  - {id: echo, label: second}
tests:
  - description: greets Ada
    vars: {name: Ada}
    assert: [{type: icontains, value: ada}]
  - description: hostile name
    vars: {name: "Bob <img src=x onerror=\\"window.pwned = 1\\"><script>window.pwned = 2</script>"}
    assert: [{type: contains, value: warmly}]
"""
IMAGES = f"""
prompts: ['Generate an image: {{{{ subject }}}}']
providers: [{{id: "{SDXL}", config: {{width: 64, height: 64}}}}]
tests:
  - vars: {{subject: fruit loops}}
    assert: [{{type: is-image, value: {{width: 64, height: 64}}}}]
"""


@pytest.fixture
def browser():
    sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed (pip install playwright)")
    if not CHROMIUM.exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def test_report_of_a_run_in_a_browser(pytester, write_eval, replicate_env, browser, tmp_path: Path):
    from playwright.sync_api import expect

    write_eval(GREETINGS, "greetings.eval.yaml")
    write_eval(IMAGES, "images.eval.yaml")
    result = pytester.runpytest("--replicate-html=reports/run.html")
    result.assert_outcomes(passed=7, failed=2)  # 2 prompts x 2 providers x 2 tests (one prompt fails one), an image
    report = pytester.path / "reports" / "run.html"

    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    problems: list[str] = []
    requests: list[str] = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("request", lambda request: requests.append(request.url))
    page.goto(report.as_uri())

    assert page.locator("[data-case]").count() == 9
    assert page.locator(".row:visible").count() == 3
    assert page.locator("#shown").text_content() == "3 of 3 rows shown"

    page.click('[data-filter="failed"]')
    assert page.locator(".row:visible .description").all_text_contents() == ["hostile name"]
    page.click('[data-filter="passed"]')
    assert page.locator(".row:visible").count() == 2  # Ada's, and the image's
    page.click('[data-filter="all"]')
    page.fill("#search", "fruit")
    expect(page.locator("#shown")).to_have_text("1 of 3 rows shown")  # once the typing pauses
    assert page.locator(".row:visible .var").all_text_contents() == ["subject fruit loops"]
    page.fill("#search", "")
    expect(page.locator("#shown")).to_have_text("3 of 3 rows shown")

    failing = page.locator(".cell.fail").first
    failing.locator("summary").click()
    detail = failing.locator(".detail")
    assert "Say hello to Bob <img src=x" in detail.locator("pre").first.text_content()
    assert "output does not contain 'warmly'" in detail.locator(".assertions").text_content()

    image = page.locator("img.image")
    assert image.count() == 1
    assert image.evaluate("img => img.complete && img.naturalWidth") == 64
    assert page.evaluate("window.pwned") is None  # the hostile var stayed text
    assert problems == []
    assert [url for url in requests if not url.startswith("data:")] == [report.as_uri()]

    shot = tmp_path / "report.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.read_bytes().startswith(b"\x89PNG")
    page.close()


def test_written_once_by_the_controller_under_xdist(pytester, write_eval):
    write_eval(GREETINGS, "greetings.eval.yaml")
    pytester.runpytest_subprocess("-p", "xdist", "-n", "2", "--replicate-html=run.html").assert_outcomes(
        passed=6, failed=2)
    page = (pytester.path / "run.html").read_text(encoding="utf-8")
    assert page.count('data-case="') == 8
    assert "&lt;script&gt;window.pwned = 2&lt;/script&gt;" in page
    assert [path.name for path in pytester.path.glob("*run.html*")] == ["run.html"]  # no temporary file left
