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


def test_every_page_is_in_the_nav():
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
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
    from pytest_replicate.assertions.registry import ASSERTION_TYPES, PROMPTFOO_ONLY_TYPES

    unsupported = set().union(*(names(feature) for feature, status, _ in migration_rows()
                                if status == "not supported" and feature.startswith("Assertions:")))
    assert sorted(PROMPTFOO_ONLY_TYPES - unsupported) == [], "add them to a 'not supported' row of migration.md"
    assert sorted(unsupported & set(ASSERTION_TYPES)) == [], "they are supported now: move them to a 'works' row"


UNSUPPORTED_KEYS = sorted(set().union(*(names(feature) for feature, status, _ in migration_rows()
                                        if status == "not supported" and feature.startswith("Config:"))))


@pytest.mark.parametrize("key", UNSUPPORTED_KEYS)
def test_a_key_the_migration_table_calls_unsupported_is_refused_saying_so(key, pytester):
    pytester.makefile(".eval.yaml", suite=f"prompts: [Hi]\nproviders: [echo]\n{key}: {{}}\n")
    result = pytester.runpytest()
    result.stdout.fnmatch_lines([f"suite.eval.yaml:3: {key}: *", "  hint: *not supported*"], consecutive=True)
