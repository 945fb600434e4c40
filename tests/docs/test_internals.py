"""docs/internals.md and the package cannot drift apart: every module path the page names
exists, and every module of django_rsmq (and every Lua script) is named on the page.

Full paths (``django_rsmq/...py``, ``.lua``) must exist as written. Shorter names in code
spans (``protocol/fenced.py``, ``send.lua``) must exist under one of :data:`BASES`."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "internals.md"
PACKAGE = ROOT / "django_rsmq"
#: a path the page names: django_rsmq/....py or django_rsmq/....lua
NAMED = re.compile(r"django_rsmq/[\w/]+\.(?:py|lua)\b")
#: any file name in a code span: `protocol/fenced.py`, `send.lua`, `tests/docs/x.py`
SPAN = re.compile(r"`([\w/]+\.(?:py|lua))`")
#: where a short name may live
BASES = ("", "django_rsmq/", "django_rsmq/engine/", "django_rsmq/engine/scripts/")


def named_paths() -> set[str]:
    return set(NAMED.findall(PAGE.read_text(encoding="utf-8")))


def package_modules() -> set[str]:
    """Every module file: *.py but ``__init__.py`` and migrations, and every script."""
    found = {
        p.relative_to(ROOT).as_posix()
        for p in PACKAGE.rglob("*.py")
        if p.name != "__init__.py" and "migrations" not in p.relative_to(PACKAGE).parts
    }
    scripts = PACKAGE / "engine" / "scripts"
    found |= {p.relative_to(ROOT).as_posix() for p in scripts.glob("*.lua")}
    return found


def test_the_page_names_paths_at_all() -> None:
    # Guards the two tests below against a regex that silently matches nothing.
    assert len(named_paths()) > 50


def test_every_path_the_page_names_exists() -> None:
    missing = sorted(p for p in named_paths() if not (ROOT / p).is_file())
    assert not missing, f"docs/internals.md names files that do not exist: {missing}"


def test_every_short_name_the_page_uses_exists() -> None:
    spans = set(SPAN.findall(PAGE.read_text(encoding="utf-8")))
    missing = sorted(s for s in spans if not any((ROOT / (b + s)).is_file() for b in BASES))
    assert not missing, f"docs/internals.md names files that do not exist: {missing}"


def test_every_module_is_named_on_the_page() -> None:
    unnamed = sorted(package_modules() - named_paths())
    assert not unnamed, (
        f"modules missing from docs/internals.md (add each with its one-line role): {unnamed}"
    )
