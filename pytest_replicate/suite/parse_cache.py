"""Parsed eval files kept between runs, as Python keeps compiled bytecode.

Parsing is most of what collecting a large eval file costs (2 s of YAML for 100,000 tests);
reading back what the last run parsed costs a tenth of that. An entry holds a file's parsed
data and the lines of its short paths (``source.Document``), and is used only when it was made
from the same text (a SHA-256 of it) by the same parser (this package's version, this module
and ``source.py`` as they are on disk, PyYAML's version, Python's). Everything after parsing
(the schema, references, assertions) runs as without the cache, so every message is the same;
a file that does not parse is never stored, so its error comes from parsing it again.

An entry that cannot be read (missing, cut short, from another version, damaged) is ignored
and the file parsed; entries are written whole or not at all (``atomic.py``). One entry per
eval file (named by a hash of its path), so editing a file replaces its entry instead of
adding one. ``marshal`` keeps the data's shared objects shared (an alias, one string for
repeated text) and reads back only plain values.

A file holding a secret (one the session knows, or text shaped like a Replicate token) is
never kept: the cache folder is often kept by CI between jobs, and no secret may reach disk
through this plugin (an entry made before the secret was known is deleted when it is met).
"""

from __future__ import annotations

import functools
import hashlib
import marshal
import re
import sys
from pathlib import Path
from typing import Any

from ..atomic import write_atomically
from ..redaction import TOKEN_SHAPE, Redactor

_MAGIC = b"pytest-replicate parsed YAML 1\n"
_TOKEN_BYTES = re.compile(TOKEN_SHAPE.pattern.removeprefix("\\b").encode())
_DIGEST = 32  # bytes of a SHA-256


class ParseCache:
    """Entries in ``folder`` (pytest's cache folder, when its cacheprovider is active); ``redactor``
    knows the session's secrets."""

    def __init__(self, folder: Path, redactor: Redactor) -> None:
        self.folder = folder
        self.redactor = redactor

    def load(self, file: Path, text: str) -> tuple[Any, dict] | None:
        """The (data, lines) parsed from ``text`` by an earlier run, or None."""
        entry = self._entry(file)
        try:
            blob = entry.read_bytes()
        except OSError:
            return None
        head = len(_MAGIC)
        if not blob.startswith(_MAGIC) or blob[head:head + _DIGEST] != _key(text):
            return None
        payload = blob[head + 2 * _DIGEST:]
        if hashlib.sha256(payload).digest() != blob[head + _DIGEST:head + 2 * _DIGEST]:
            return None  # damaged
        if self._holds_secret(payload):  # kept before the secret was known: it goes now
            entry.unlink(missing_ok=True)
            return None
        try:
            data, lines = marshal.loads(payload)
        except (EOFError, ValueError, TypeError):
            return None
        return (data, lines) if isinstance(lines, dict) else None

    def store(self, file: Path, text: str, data: Any, lines: dict) -> None:
        """Keep what ``text`` parsed to; a value marshal cannot write, or a folder that cannot
        be written, leaves the file to be parsed next time."""
        try:
            payload = marshal.dumps((data, lines))
        except ValueError:  # a value no eval file needs; not worth a format of our own
            return
        if self._holds_secret(payload):
            self._entry(file).unlink(missing_ok=True)  # nor what an earlier text of the file left
            return
        try:
            write_atomically(self._entry(file), _MAGIC + _key(text) + hashlib.sha256(payload).digest() + payload)
        except OSError:
            return

    def _holds_secret(self, payload: bytes) -> bool:
        """Whether what would be kept holds a secret. The parsed values are searched, not the
        text: a token spelled with YAML escapes (``r8\\u005f...``) is plain in them. marshal
        writes each string's UTF-8 bytes whole, after a length, which may read as a letter:
        so the token's shape without its leading word boundary."""
        # "r8_" first: a plain substring search is 30 times faster than the pattern over 11 MB.
        shaped = b"r8_" in payload and _TOKEN_BYTES.search(payload) is not None
        return shaped or any(value.encode("utf-8", "surrogatepass") in payload for value in self.redactor.secrets if value)

    def _entry(self, file: Path) -> Path:
        return self.folder / hashlib.sha256(str(file.resolve()).encode()).hexdigest()[:32]


def _key(text: str) -> bytes:
    """What an entry must have been made from: this text, by this parser."""
    digest = hashlib.sha256(_parser_version().encode())
    digest.update(text.encode("utf-8", "surrogatepass"))
    return digest.digest()


@functools.cache
def _parser_version() -> str:
    """Everything that decides what a text parses to, besides the text."""
    import yaml

    from ..version import package_version

    stamps = []
    for path in (Path(__file__), Path(__file__).with_name("source.py")):  # the code, as it is on disk
        try:
            stat = path.stat()
            stamps.append(f"{stat.st_mtime_ns}:{stat.st_size}")
        except OSError:
            stamps.append("?")
    return "|".join([package_version(), *stamps, yaml.__version__, str(yaml.__with_libyaml__), sys.version,
                     str(marshal.version)])
