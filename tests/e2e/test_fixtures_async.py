"""Async suites call models with ``await llm.acall(...)``: pytest-asyncio and anyio alike."""

from __future__ import annotations

import pytest
from helpers import assert_no_traceback

ASYNCIO_TEST = """
import asyncio

import pytest
from pytest_replicate import assert_output

COUNTRIES = ["France", "Japan", "Italy"]


@pytest.mark.asyncio
async def test_gather(replicate_provider):
    llm = replicate_provider("replicate:meta/llama-2-7b-chat", temperature=0.01)
    results = await asyncio.gather(*(llm.acall("What is the capital of {{ c }}?", vars={"c": c}) for c in COUNTRIES))
    assert [r.vars["c"] for r in results] == COUNTRIES
    for result, capital in zip(results, ["Paris", "Tokyo", "Rome"]):
        assert_output(result, "contains", capital)
"""

ANYIO_TEST = """
import anyio
import pytest


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.mark.anyio
async def test_task_group(replicate_provider):
    llm = replicate_provider("replicate:meta/llama-2-7b-chat")
    texts = {}

    async def ask(country):
        texts[country] = (await llm.acall(f"What is the capital of {country}?")).text

    async with anyio.create_task_group() as group:
        for country in ("Spain", "Canada"):
            group.start_soon(ask, country)
    assert texts == {"Spain": "The capital of Spain is Madrid.", "Canada": "The capital of Canada is Ottawa."}
"""


def test_pytest_asyncio_gathers_calls_records_and_replays(pytester, replicate_env, monkeypatch):
    pytest.importorskip("pytest_asyncio")
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makepyfile(test_async=ASYNCIO_TEST)
    first = pytester.runpytest("-p", "asyncio")
    first.assert_outcomes(passed=1)
    first.stdout.fnmatch_lines(["0 replayed, 3 recorded, 0 missed (record mode: once)"])

    replicate_env.stop()
    monkeypatch.delenv("REPLICATE_API_TOKEN")
    second = pytester.runpytest("-p", "asyncio", "--record-mode=none")
    second.assert_outcomes(passed=1)
    second.stdout.fnmatch_lines(["3 replayed, 0 recorded, 0 missed (record mode: none)"])


def test_anyio_task_groups_call_models(pytester, replicate_env):
    pytest.importorskip("anyio")
    pytester.makepyfile(test_anyio=ANYIO_TEST)
    pytester.runpytest("-p", "anyio").assert_outcomes(passed=1)


def test_an_async_miss_is_one_message_without_plugin_frames(pytester, monkeypatch):
    pytest.importorskip("pytest_asyncio")
    monkeypatch.delenv("REPLICATE_API_TOKEN", raising=False)
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makepyfile(test_async=ASYNCIO_TEST)
    result = pytester.runpytest("-p", "asyncio", "--record-mode=none")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["E       pytest_replicate.errors.CassetteError: cassette miss: *"])
    assert_no_traceback(result)
    result.stdout.no_fnmatch_line("*anyio/*.py*")
