"""Case results kept for the end of the run in little memory, read back as the dicts they were.

A run keeps every eval item's result until its reports are written: at 10,000 items, as dicts,
about 1.4 KB each. Kept instead as its pickle compressed with the first result's as zlib's
preset dictionary, a result costs a hundred bytes or so: results of one run share their keys,
most values and much of their text, so what is left to store is what differs. Reading one
back gives an equal dict (a fresh one each time), in about 5 µs.

The latest result stays the dict it was until the next one comes: the results hook receives
it just after it is appended, and whatever an implementer changes in it is what reports show,
as when every result stayed a dict. A result that cannot be pickled (a hook implementer put a
lock or a client in it) is kept as it is.
"""

from __future__ import annotations

import pickle
import zlib
from array import array
from collections.abc import Iterator, Sequence
from typing import Any, overload

CaseData = dict[str, Any]

_LEVEL = 1  # zlib's fastest: with the preset dictionary it compresses about as well as 6
_WINDOW = -15  # raw deflate: no header or checksum per result (pickle checks what it reads)
_MEMORY = 4  # zlib's memLevel: less state to set up per result, no worse here


class CompactResults(Sequence[CaseData]):
    """Results in the order appended; ``results[i]`` (or iterating) gives each as a dict, a new
    one each time except for the latest."""

    def __init__(self) -> None:
        # Every result but the latest, compressed, end to end in one buffer (a bytes object each
        # would add 40 bytes per result), and where each ends.
        self._records = bytearray()
        self._ends = array("Q")
        self._latest: CaseData | None = None
        self._preset: bytes | None = None  # the first result's pickle: zlib's preset dictionary for all
        self._unpicklable: dict[int, CaseData] = {}  # by position: results kept as they are (no record)

    def append(self, result: CaseData) -> None:
        if self._latest is not None:
            try:
                self._records += self._compress(self._latest)
            except (pickle.PicklingError, TypeError, AttributeError, ValueError, RecursionError):
                self._unpicklable[len(self._ends)] = self._latest
            self._ends.append(len(self._records))
        self._latest = result

    def _compress(self, result: CaseData) -> bytes:
        data = pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL)
        if self._preset is None:
            self._preset = data
        compressor = zlib.compressobj(_LEVEL, zlib.DEFLATED, _WINDOW, _MEMORY, zlib.Z_DEFAULT_STRATEGY, self._preset)
        return compressor.compress(data) + compressor.flush()

    def _read(self, position: int) -> CaseData:
        if position in self._unpicklable:
            return self._unpicklable[position]
        assert self._preset is not None  # a record exists, so the first one set it
        start = self._ends[position - 1] if position else 0
        with memoryview(self._records) as records:  # released at once: the buffer must stay free to grow
            data = zlib.decompressobj(_WINDOW, self._preset).decompress(records[start:self._ends[position]])
        result: CaseData = pickle.loads(data)
        return result

    def __len__(self) -> int:
        return len(self._ends) + (self._latest is not None)

    @overload
    def __getitem__(self, index: int) -> CaseData: ...

    @overload
    def __getitem__(self, index: slice) -> list[CaseData]: ...

    def __getitem__(self, index: int | slice) -> CaseData | list[CaseData]:
        if isinstance(index, slice):
            return [self[position] for position in range(len(self))[index]]
        position = range(len(self))[index]  # negative indices count from the end; IndexError past it
        if position == len(self._ends):
            assert self._latest is not None
            return self._latest
        return self._read(position)

    def __iter__(self) -> Iterator[CaseData]:
        yield from map(self._read, range(len(self._ends)))
        if self._latest is not None:
            yield self._latest
