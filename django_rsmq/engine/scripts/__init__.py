"""The engine's Lua scripts, one ``.lua`` file per operation, loaded once per process.

``_lib.lua`` is prepended to every script. Scripts are called with EVALSHA; a
``NOSCRIPT`` reply (after ``SCRIPT FLUSH`` or a Redis restart) falls back to EVAL,
which also puts the script back into Redis' cache.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from importlib import resources

__all__ = ["Script", "get"]


@dataclass(frozen=True, slots=True)
class Script:
    name: str
    source: str
    sha: str


@cache
def _library() -> str:
    return resources.files(__name__).joinpath("_lib.lua").read_text(encoding="utf-8")


@cache
def get(name: str) -> Script:
    """The script ``<name>.lua`` with the shared library prepended."""
    body = resources.files(__name__).joinpath(f"{name}.lua").read_text(encoding="utf-8")
    source = f"{_library()}\n{body}"
    return Script(name, source, hashlib.sha1(source.encode("utf-8")).hexdigest())
