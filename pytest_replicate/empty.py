"""One empty mapping shared by every test and assertion that has none of a part (options, metadata, config).

A suite of 100,000 tests would otherwise hold 300,000 empty dicts (19 MB). The shared one is a
dict (JSON, ``{**...}``, ``isinstance`` and equality behave as for ``{}``) that refuses to be
changed, so that no test can change another's: code that needs to change one copies it first.
"""

from __future__ import annotations

from typing import Any, NoReturn


class _SharedEmpty(dict):
    __slots__ = ()

    def _refuse(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise TypeError("this empty mapping is shared by many tests: copy it (dict(...)) before changing it")

    __setitem__ = __delitem__ = update = setdefault = pop = popitem = clear = __ior__ = _refuse

    def __reduce__(self) -> tuple[Any, ...]:  # a copy or unpickled value is a plain, changeable {}
        return dict, ()


EMPTY: dict[str, Any] = _SharedEmpty()
