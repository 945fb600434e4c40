"""docs/getting-started.md, "Add it to your project", run step by step in a temp dir:
``startproject`` to a handled message and the admin, on the embedded Redis.

The code blocks are taken from the page, not copied here, so the page cannot drift from
what works. Two substitutions only: ``.venv/`` is this test's interpreter (the page's
``pip install`` of the released package is what ``.ci/run``'s README commands cover), and
``createsuperuser`` gets ``--noinput`` and its environment variables (no TTY here).
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from django_rsmq.engine.embedded import stop_server
from django_rsmq.engine.server import RedisServerNotFound, find_redis_server

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "getting-started.md"

pytestmark = pytest.mark.slow


def section() -> str:
    text = PAGE.read_text()
    return text[text.index("## Add it to your project") : text.index("## Use the engine")]


def blocks(lang: str) -> list[str]:
    return re.findall(rf"^```{lang}\n(.*?)^```", section(), re.S | re.M)


def test_the_page_has_the_steps_the_test_runs() -> None:
    shell = "\n".join(blocks("bash"))
    for step in (
        "django-admin startproject mysite .",
        "manage.py startapp shop",
        ".rsmq/",
        "manage.py migrate",
        "manage.py createsuperuser",
        "manage.py rsmq_send emails",
        "manage.py rsmq_consume --burst -v 2",
        "manage.py runserver",
    ):
        assert step in shell, step
    assert blocks("python")[1].startswith("# shop/handlers.py")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    try:
        find_redis_server()
    except RedisServerNotFound as exc:
        pytest.skip(str(exc))
    bin_dir = tmp_path / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    for name, line in {
        "python": f'exec {shlex.quote(sys.executable)} "$@"',
        "django-admin": f'exec {shlex.quote(sys.executable)} -m django "$@"',
    }.items():
        (bin_dir / name).write_text(f"#!/bin/sh\n{line}\n")
        (bin_dir / name).chmod(0o755)
    yield tmp_path
    stop_server(tmp_path / ".rsmq")  # only the pid recorded in this test's data dir


def sh(project: Path, line: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env.update(
        PYTHONPATH=str(ROOT),  # this checkout's django_rsmq
        DJANGO_SUPERUSER_USERNAME="admin",
        DJANGO_SUPERUSER_PASSWORD="admin-pw",
        DJANGO_SUPERUSER_EMAIL="admin@example.com",
    )
    if line.endswith("manage.py createsuperuser"):
        line += " --noinput"
    done = subprocess.run(
        ["bash", "-ec", line],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, f"$ {line}\n{done.stdout}{done.stderr}"
    return done


def test_startproject_to_a_handled_message_and_the_admin(project: Path) -> None:
    settings_py, handlers_py = blocks("python")[:2]
    install, *project_steps = blocks("bash")[0].splitlines()
    assert install.startswith("python3 -m venv .venv && .venv/bin/pip install")
    for line in project_steps:
        sh(project, line)
    with (project / "mysite" / "settings.py").open("a") as f:
        f.write("\n" + settings_py)
    (project / "shop" / "handlers.py").write_text(handlers_py)
    gitignore, database, send_and_consume, runserver = blocks("bash")[1:5]
    sh(project, gitignore)
    assert ".rsmq/" in (project / ".gitignore").read_text().splitlines()
    for line in database.splitlines():
        sh(project, line)
    send, consume = send_and_consume.splitlines()
    message_id = sh(project, send).stdout.strip()
    assert re.fullmatch(r"[0-9A-Za-z]{32}", message_id), message_id
    out = sh(project, consume).stdout
    assert "sending Welcome to ada@example.com" in out
    assert re.search(rf"^processed emails {message_id} rc=1 ", out, re.M), out
    assert (project / ".rsmq" / "redis.sock").exists()  # the embedded Redis, in BASE_DIR

    # The admin the page points at (runserver keeps running: Django's test client instead)
    assert runserver.strip() == ".venv/bin/python manage.py runserver"
    admin = (
        "from django.test import Client; c = Client(HTTP_HOST='localhost');"
        "assert c.login(username='admin', password='admin-pw');"
        "page = c.get('/admin/').content.decode(); assert 'RSMQ' in page, page;"
        "page = c.get('/admin/django_rsmq/queue/').content.decode();"
        "assert 'emails' in page, page; print('admin ok')"
    )
    assert (
        "admin ok"
        in sh(project, f".venv/bin/python manage.py shell -c {shlex.quote(admin)}").stdout
    )
