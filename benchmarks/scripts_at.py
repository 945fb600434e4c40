"""The engine's Lua scripts as they were at another git revision, to compare against.

``load(ref)`` builds every script of ``django_rsmq/engine/scripts`` at ``ref`` (with
that revision's own ``scripts/__init__.py``, so its library split applies);
``swapped(get)`` makes the engine use them (``scripts.get`` is looked up per call).
Used by ``benchmarks.lua_time`` and ``benchmarks.lua_equivalence``.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from django_rsmq.engine import scripts

__all__ = ["load", "swapped"]

_DIR = "django_rsmq/engine/scripts"
_ROOT = Path(__file__).resolve().parent.parent


def _git(*args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=_ROOT, check=True, capture_output=True, text=True
    ).stdout


def load(ref: str) -> Callable[[str], scripts.Script]:
    """``scripts.get`` of revision ``ref``."""
    tmp = Path(tempfile.mkdtemp(prefix="rsmq-scripts-")) / "scripts_at_ref"
    tmp.mkdir()
    for name in _git("ls-tree", "--name-only", f"{ref}:{_DIR}").split():
        if name.endswith((".lua", ".py")):
            (tmp / name).write_text(_git("show", f"{ref}:{_DIR}/{name}"), encoding="utf-8")
    module_name = f"_rsmq_scripts_{abs(hash(ref))}"
    spec = importlib.util.spec_from_file_location(
        module_name, tmp / "__init__.py", submodule_search_locations=[str(tmp)]
    )
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load the scripts of {ref}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    get: Callable[[str], scripts.Script] = module.get

    def get_as_current(name: str) -> scripts.Script:
        s = get(name)  # that revision's Script class: rebuild as the current one
        return scripts.Script(s.name, s.source, s.sha, s.sha_bytes)

    return get_as_current


@contextmanager
def swapped(get: Callable[[str], scripts.Script]) -> Iterator[None]:
    """The engine uses ``get`` for its scripts inside the block."""
    saved = scripts.get
    scripts.get = get  # type: ignore[assignment]
    try:
        yield
    finally:
        scripts.get = saved  # type: ignore[assignment]
