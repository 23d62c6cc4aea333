"""The docs site stays navigable: every page is reachable, the README's links land, and the
migration guide's table says what the code does.

The examples in the pages run in ``test_readme.py``; links and anchors inside the site are
checked by ``mkdocs build --strict`` (in ``.ci/run``).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).parents[2]
DOCS = ROOT / "docs"
README = ROOT / "README.md"
STATUSES = ("works", "works differently", "not supported")


def nav_pages(nav: list) -> list[str]:
    pages: list[str] = []
    for entry in nav:
        for value in entry.values() if isinstance(entry, dict) else [entry]:
            pages += nav_pages(value) if isinstance(value, list) else [value]
    return pages


class _ConfigLoader(yaml.SafeLoader):
    """mkdocs.yml as data: MkDocs' own tags (``!relative``) read as their text."""


_ConfigLoader.add_multi_constructor("!", lambda loader, suffix, node: loader.construct_scalar(node))


def test_every_page_is_in_the_nav():
    config = yaml.load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"), Loader=_ConfigLoader)
    listed = nav_pages(config["nav"])
    excluded = config.get("not_in_nav", "").split()  # deliberate exclusions, as mkdocs reads them
    pages = sorted(path.relative_to(DOCS).as_posix() for path in DOCS.rglob("*.md"))
    assert sorted(set(pages) - set(excluded)) == sorted(listed), "add the page to the nav of mkdocs.yml"


def headings_slugs(markdown: str) -> set[str]:
    """The anchors of a page's headings, as GitHub and MkDocs make them."""
    text = re.sub(r"^```.*?^```", "", markdown, flags=re.M | re.S)
    return {re.sub(r"[^\w\- ]", "", title.lower()).strip().replace(" ", "-")
            for title in re.findall(r"^#+ (.+)$", text, re.M)}


def test_the_readme_links_land():
    text = README.read_text(encoding="utf-8")
    links = re.findall(r"\]\(([^)\s]+)\)", text)
    assert any(link.startswith("docs/") for link in links)
    for link in links:
        if re.match(r"https?://", link):
            continue
        path, _, anchor = link.partition("#")
        target = ROOT / path if path else README
        assert target.is_file(), f"README.md links to {link}, which does not exist"
        if anchor:
            assert anchor in headings_slugs(target.read_text(encoding="utf-8")), f"README.md: no #{anchor} in {path or 'README.md'}"


def test_the_readme_stays_a_quick_start():
    size = len(README.read_bytes())
    assert size < 10_000, f"README.md is {size} bytes: move reference text into a page of docs/"


def migration_rows() -> list[tuple[str, str, str]]:
    text = (DOCS / "migration.md").read_text(encoding="utf-8")
    rows = [tuple(cell.strip() for cell in line.strip().strip("|").split("|"))
            for line in text.splitlines() if line.startswith("| ")]
    assert rows[0] == ("feature", "status", "notes")
    return rows[1:]  # type: ignore[return-value]


def names(cell: str) -> set[str]:
    return set(re.findall(r"`([^`]+)`", cell))


def test_the_migration_table_has_one_status_per_row():
    rows = migration_rows()
    assert len(rows) > 20
    for feature, status, _ in rows:
        assert status in STATUSES, f"migration.md: {feature!r} has status {status!r}, not one of {STATUSES}"


def test_the_migration_table_lists_every_unsupported_assertion_type():
    from pytest_replicate.assertions.registry import ASSERTION_TYPES, WHY_UNSUPPORTED

    unsupported = set().union(*(names(feature) for feature, status, _ in migration_rows()
                                if status == "not supported" and feature.startswith("Assertions:")))
    assert sorted(set(WHY_UNSUPPORTED) - unsupported) == [], "add them to a 'not supported' row of migration.md"
    assert sorted(unsupported & set(ASSERTION_TYPES)) == [], "they are supported now: move them to a 'works' row"


UNSUPPORTED_KEYS = sorted(set().union(*(names(feature) for feature, status, _ in migration_rows()
                                        if status == "not supported" and feature.startswith("Config:"))))


@pytest.mark.parametrize("key", UNSUPPORTED_KEYS)
def test_a_key_the_migration_table_calls_unsupported_is_refused_saying_so(key, pytester):
    pytester.makefile(".eval.yaml", suite=f"prompts: [Hi]\nproviders: [echo]\n{key}: {{}}\n")
    result = pytester.runpytest()
    result.stdout.fnmatch_lines([f"suite.eval.yaml:3: {key}: promptfoo's {key} is not supported: *"])


def prose_lines(path: Path) -> list[tuple[int, str, str]]:
    """(line number, line, previous line) of ``path`` outside fenced code blocks, their opening fences included."""
    lines = path.read_text(encoding="utf-8").splitlines()
    found, in_code = [], False
    for number, line in enumerate(lines, 1):
        if not in_code:
            found.append((number, line, lines[number - 2] if number > 1 else ""))
        in_code ^= line.lstrip().startswith("```")
    return found


@pytest.mark.parametrize("path", [README, *sorted(DOCS.glob("*.md"))], ids=lambda path: path.name)
def test_markdown_reads_the_same_on_github_and_in_the_site(path):
    """MkDocs' Markdown needs a blank line before a list and four spaces of indent inside one; GitHub does not."""
    item = re.compile(r"\s*([-*+]|\d+\.) ")
    for number, line, previous in prose_lines(path):
        where = f"{path.relative_to(ROOT)}:{number}"
        if item.match(line) and not line.startswith(" "):
            assert not previous.strip() or item.match(previous) or previous.startswith((" ", "|")), \
                f"{where}: put a blank line before the list, or the site shows it as one paragraph"
        assert not re.match(r" {1,3}```", line), f"{where}: indent a code block inside a list item by four spaces"
