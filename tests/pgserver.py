"""A real PostgreSQL server for the tests: Debian's ``initdb`` + ``postgres`` binaries.

The cluster lives in a temporary directory, listens on a free 127.0.0.1 port, has
``fsync`` off (a test cluster: speed over durability) and trusts local connections.
Run as root (CI containers), the server runs as the ``postgres`` system user
(PostgreSQL refuses to run as root). Stopped by its pid.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django_rsmq.engine.server import free_port

__all__ = ["PostgresNotFound", "find_pg_bin", "postgres_server"]


class PostgresNotFound(RuntimeError):
    pass


def find_pg_bin() -> Path:
    """The directory with ``initdb`` and ``postgres`` ($RSMQ_PG_BIN, else Debian's newest)."""
    env = os.environ.get("RSMQ_PG_BIN")
    candidates = [Path(env)] if env else []
    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
    for d in candidates:
        if (d / "initdb").exists() and (d / "postgres").exists():
            return d
    found = shutil.which("initdb")
    if found and shutil.which("postgres"):
        return Path(found).parent
    raise PostgresNotFound(
        "no PostgreSQL server binaries (initdb, postgres): apt-get install postgresql, "
        "or set RSMQ_PG_BIN"
    )


def _demote() -> tuple[Any, int | None, int | None]:
    """``preexec_fn`` and owner ids for the server: the ``postgres`` user when we are root."""
    if os.geteuid() != 0:
        return None, None, None
    try:
        pw = pwd.getpwnam("postgres")
    except KeyError as exc:
        raise PostgresNotFound("running as root and there is no 'postgres' user") from exc
    uid, gid = pw.pw_uid, pw.pw_gid

    def demote() -> None:
        os.setgid(gid)
        os.setuid(uid)

    return demote, uid, gid


@contextlib.contextmanager
def postgres_server() -> Iterator[dict[str, Any]]:
    """Start a server; yields a Django ``DATABASES`` entry for its ``postgres`` database."""
    bindir = find_pg_bin()
    demote, uid, gid = _demote()
    tmp = Path(tempfile.mkdtemp(prefix="rsmq-test-pg-"))
    proc: subprocess.Popen[bytes] | None = None
    try:
        data = tmp / "data"
        if uid is not None:
            os.chown(tmp, uid, gid or -1)
        subprocess.run(
            [str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust",
             "--no-sync", "-E", "UTF8"],
            check=True, capture_output=True, preexec_fn=demote, cwd=tmp,
        )  # fmt: skip
        port = free_port()
        log = open(tmp / "server.log", "wb")  # noqa: SIM115 (closed below)
        proc = subprocess.Popen(
            [str(bindir / "postgres"), "-D", str(data), "-p", str(port), "-k", str(tmp),
             "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off",
             "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
             "-c", "max_connections=200"],
            stdout=log, stderr=subprocess.STDOUT, preexec_fn=demote, cwd=tmp,
        )  # fmt: skip
        log.close()
        cfg = {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": "postgres",
            "USER": "postgres",
            "HOST": "127.0.0.1",
            "PORT": str(port),
        }
        _wait_ready(cfg, proc, tmp / "server.log")
        yield cfg
    finally:
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGINT)  # "fast" shutdown
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        shutil.rmtree(tmp, ignore_errors=True)


def _wait_ready(cfg: dict[str, Any], proc: subprocess.Popen[bytes], log: Path) -> None:
    import psycopg

    deadline = time.monotonic() + 30
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"postgres exited: {log.read_text(errors='replace')[-2000:]}")
        try:
            psycopg.connect(
                host=cfg["HOST"], port=cfg["PORT"], user=cfg["USER"], dbname=cfg["NAME"]
            ).close()
            return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
