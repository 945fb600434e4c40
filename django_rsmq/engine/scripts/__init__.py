"""The engine's Lua scripts, one ``.lua`` file per operation, loaded once per process.

``_lib.lua`` holds the shared helpers. Redis runs a script's whole text on every call,
so each script gets only the helpers it uses (and those they use), in library order:
the library is split into top-level blocks (a block starts at an unindented ``--`` or
``local`` line after a blank line) and a block is included when a name it defines
(``local function name`` / ``local a, b =``) appears in the script or in another
included block. Scripts are called with EVALSHA; a ``NOSCRIPT`` reply (after
``SCRIPT FLUSH`` or a Redis restart) falls back to EVAL, which also puts the script
back into Redis' cache.

``Script.replay_safe`` says whether running the script a second time with the same
arguments, after a lost reply, is harmless (the front ends then retry it: see
docs/reliability.md, "Which operations retry"); the others are never replayed.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

__all__ = ["REPLAY_SAFE", "Script", "get", "library_for"]

# Scripts that may run twice with the same ARGV: reads, idempotent writes, ``send`` (the
# client picks the id, send.lua recognises an id it stored already) and ``delete`` (a
# replay finds the message gone; the call's ``replayed`` parser counts that as done).
# Every other script (receive, pop, change_visibility, nack, fail, redrive, purge,
# create_queue, delete_queue, delete_failed) raises ReplyLost on a lost reply.
REPLAY_SAFE = frozenset(
    {
        "dead_letter_info",
        "delete",
        "failed",
        "get_queue_attributes",
        "history_write",
        "next_due",
        "peek",
        "purge_expired",
        "record_states",
        "send",
        "set_queue_attributes",
        "sweep",
    }
)

_BLOCK_START = re.compile(r"\n\n(?=--|local )")
_DEFINES = re.compile(r"^local (?:function (\w+)|(\w+(?:\s*,\s*\w+)*)\s*=)", re.M)
_COMMENT = re.compile(r"--[^\n]*")
_WORD = re.compile(r"[A-Za-z_]\w*")


@dataclass(frozen=True, slots=True)
class Script:
    name: str
    source: str
    sha: str
    sha_bytes: bytes  # what EVALSHA sends (redis-py passes bytes through unencoded)
    replay_safe: bool = False  # may run twice after a lost reply (REPLAY_SAFE)


def _read(name: str) -> str:
    return resources.files(__name__).joinpath(name).read_text(encoding="utf-8")


@cache
def _blocks() -> tuple[tuple[str, frozenset[str], frozenset[str]], ...]:
    """The library's blocks as (text, names it defines, words its code uses)."""
    out = []
    for text in _BLOCK_START.split(_read("_lib.lua")):
        defined: set[str] = set()
        for fn, names in _DEFINES.findall(text):
            defined.update([fn] if fn else (n.strip() for n in names.split(",")))
        if defined:  # a block of comments only (the file header) defines nothing
            used = frozenset(_WORD.findall(_COMMENT.sub("", text))) - defined
            out.append((text.strip("\n"), frozenset(defined), used))
    return tuple(out)


def library_for(body: str) -> str:
    """The library blocks that Lua code ``body`` needs, transitively, in library order."""
    blocks = _blocks()
    wanted = set(_WORD.findall(_COMMENT.sub("", body)))
    included = [False] * len(blocks)
    changed = True
    while changed:
        changed = False
        for i, (_, defined, used) in enumerate(blocks):
            if not included[i] and defined & wanted:
                included[i] = changed = True
                wanted |= used
    return "\n\n".join(text for (text, _, _), inc in zip(blocks, included, strict=True) if inc)


@cache
def get(name: str) -> Script:
    """The script ``<name>.lua`` with the library helpers it uses prepended."""
    body = _read(f"{name}.lua")
    source = f"{library_for(body)}\n\n{body}"
    sha = hashlib.sha1(source.encode("utf-8")).hexdigest()
    return Script(name, source, sha, sha.encode("ascii"), name in REPLAY_SAFE)
