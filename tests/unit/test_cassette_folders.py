"""Cassette folders are checked for writability before a model is called, once per folder."""

from __future__ import annotations

import errno
import tempfile

import pytest

from pytest_replicate.cassettes import cassette as cassettes
from pytest_replicate.cassettes.cassette import WritableFolders
from pytest_replicate.errors import CassetteError


@pytest.fixture
def probes(monkeypatch) -> list:
    """The folders a scratch file was written into."""
    seen: list = []
    real = tempfile.mkstemp

    def mkstemp(**options):
        seen.append(options["dir"])
        return real(**options)

    monkeypatch.setattr(cassettes.tempfile, "mkstemp", mkstemp)
    return seen


def test_each_folder_is_probed_once(tmp_path, probes):
    writable = WritableFolders()
    for number in range(3):
        writable.check(tmp_path / "cassettes" / f"{number}.yaml")
    assert probes == [tmp_path]  # the nearest folder that exists; none is created
    (tmp_path / "cassettes").mkdir()
    for number in range(3):
        writable.check(tmp_path / "cassettes" / f"{number}.yaml")
    assert probes == [tmp_path, tmp_path / "cassettes"]


def test_a_full_disk_is_reported_before_the_call(tmp_path, monkeypatch):
    def full(**options):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(cassettes.tempfile, "mkstemp", full)
    with pytest.raises(CassetteError, match=r"cannot record cassette .*: No space left on device in "):
        WritableFolders().check(tmp_path / "a.yaml")


def test_what_blocks_a_cassette_is_reported_before_the_call(tmp_path, probes):
    (tmp_path / "b.yaml").mkdir()
    (tmp_path / "sub").write_text("a file")
    writable = WritableFolders()
    writable.check(tmp_path / "a.yaml")
    with pytest.raises(CassetteError, match="a folder of that name is in the way"):
        writable.check(tmp_path / "b.yaml")  # seen in the probed folder's listing: no disk access
    with pytest.raises(CassetteError, match="sub is a file, not a folder"):
        writable.check(tmp_path / "sub" / "c.yaml")
    assert probes == [tmp_path]
