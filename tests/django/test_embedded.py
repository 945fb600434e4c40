"""The embedded Redis: one per data dir, shared by processes, data kept across restarts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from django_rsmq.engine.embedded import ensure_server, server_paths, stop_server
from django_rsmq.engine.server import RedisServerNotFound, find_redis_server

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


@pytest.fixture
def data_dir(tmp_path: Path) -> Iterator[Path]:
    try:
        find_redis_server()
    except RedisServerNotFound as exc:
        pytest.skip(str(exc))
    d = tmp_path / ".rsmq"
    try:
        yield d
    finally:
        stop_server(d)  # only the pid recorded in this test's own data dir


def test_first_call_starts_later_calls_attach(data_dir: Path) -> None:
    first = ensure_server(data_dir)
    again = ensure_server(data_dir)
    assert (first.started, again.started) == (True, False)
    assert first.url == again.url == f"unix://{data_dir.resolve() / 'redis.sock'}"
    client = redis.Redis.from_url(first.url)
    assert client.config_get("appendonly") == {"appendonly": "yes"}
    assert client.config_get("port") == {"port": "0"}  # no TCP listener
    client.close()
    assert first.pid() is not None
    assert (data_dir / "redis.pid").exists()


def test_server_outlives_the_process_that_started_it_and_survives_a_restart(
    data_dir: Path,
) -> None:
    code = (
        "import sys; from django_rsmq.engine.embedded import ensure_server;"
        "s = ensure_server(sys.argv[1]); print(s.started, s.pid())"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(data_dir)], capture_output=True, text=True, check=True
    ).stdout.split()
    assert out[0] == "True"
    pid = int(out[1])
    attached = ensure_server(data_dir)  # the starter has exited; the server has not
    assert (attached.started, attached.pid()) == (False, pid)
    client = redis.Redis.from_url(attached.url)
    client.set("kept", "yes")
    client.close()
    assert stop_server(data_dir)
    restarted = ensure_server(data_dir)
    assert restarted.started
    assert restarted.pid() != pid
    client = redis.Redis.from_url(restarted.url)
    assert client.get("kept") == b"yes"  # from the append-only file
    client.close()


def test_concurrent_starts_make_exactly_one_server(data_dir: Path) -> None:
    code = (
        "import sys; from django_rsmq.engine.embedded import ensure_server;"
        "s = ensure_server(sys.argv[1]); print(s.started, s.pid())"
    )
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code, str(data_dir)], stdout=subprocess.PIPE, text=True
        )
        for _ in range(4)
    ]
    results = [p.communicate(timeout=30)[0].split() for p in procs]
    assert sorted(r[0] for r in results) == ["False", "False", "False", "True"]
    assert len({r[1] for r in results}) == 1


def test_long_data_dir_puts_the_socket_in_the_temp_dir(tmp_path: Path) -> None:
    deep = tmp_path / ("x" * 60) / ("y" * 60)
    paths = server_paths(deep)
    assert len(os.fsencode(paths.socket)) <= 100
    assert paths.socket.parent != deep.resolve()
    assert server_paths(deep).socket == paths.socket  # stable for every process


def _env(base_dir: Path) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "RSMQ_TEST_EMBEDDED": "1",
        "RSMQ_TEST_BASE_DIR": str(base_dir),
        "RSMQ_TEST_NAMESPACE": "emb",
        "PYTHONPATH": str(ROOT),
    }


def _manage_async(base_dir: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "django", *args],
        cwd=ROOT,
        env=_env(base_dir),
        stdout=subprocess.PIPE,
        text=True,
    )


def _manage(base_dir: Path, *args: str) -> str:
    return subprocess.run(
        [sys.executable, "-m", "django", *args],
        cwd=ROOT,
        env=_env(base_dir),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout


def test_django_processes_share_the_embedded_default_and_keep_data(tmp_path: Path) -> None:
    try:
        find_redis_server()
    except RedisServerNotFound as exc:
        pytest.skip(str(exc))
    data_dir = tmp_path / ".rsmq"  # BASE_DIR / ".rsmq"
    try:
        procs = [_manage_async(tmp_path, "rsmq_send", "work", f"m{i}") for i in range(2)]
        ids = [p.communicate(timeout=60)[0].strip() for p in procs]  # started together
        assert all(p.returncode == 0 for p in procs)
        assert len(set(ids)) == 2
        assert server_paths(data_dir).socket.exists()
        stop_server(data_dir)  # the Redis restarts, the data stays
        rows = json.loads(_manage(tmp_path, "rsmq_queues", "list", "--json"))
        work = next(r for r in rows if r["name"] == "work")
        assert work["messages"] == 2
    finally:
        stop_server(data_dir)
