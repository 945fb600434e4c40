"""Test isolation for a project's own tests: a namespace per test, deleted after it, under
``manage.py test`` (runner or mixin) and pytest-django (the plugin)."""

from __future__ import annotations

import importlib.metadata
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import redis
from django.test import override_settings

from django_rsmq import send
from django_rsmq.conf import rsmq_settings
from django_rsmq.connections import get_rsmq
from django_rsmq.testing import TestRedis, isolated

ROOT = Path(__file__).resolve().parents[2]


def keys_of(client: redis.Redis, namespace: str) -> list[bytes]:
    return list(client.scan_iter(match=f"{namespace}:*"))


def test_isolated_gives_a_fresh_namespace_and_deletes_it_after(
    redis_client: redis.Redis, namespace: str
) -> None:
    send("work", "outer")
    with isolated() as inner:
        assert rsmq_settings().namespace == inner != namespace
        send("work", "inner")
        assert get_rsmq().get_queue_attributes("work").msgs == 1  # not the outer message
        assert keys_of(redis_client, inner)
    assert keys_of(redis_client, inner) == []
    assert rsmq_settings().namespace == namespace
    assert get_rsmq().get_queue_attributes("work").msgs == 1  # the outer data is kept


def test_isolated_starts_no_embedded_server_for_a_test_without_queues(tmp_path: Path) -> None:
    with override_settings(RSMQ={"EMBEDDED_DIR": str(tmp_path / ".rsmq")}), isolated():
        pass
    assert not (tmp_path / ".rsmq").exists()


TWO_TESTS = """
from django.test import SimpleTestCase
from django_rsmq import send
from django_rsmq.connections import get_rsmq
from django_rsmq.testing import IsolatedRSMQMixin

BASE = {base}


class First(BASE):
    def test_one_message(self):
        send("work", "x")
        self.assertEqual(get_rsmq().get_queue_attributes("work").msgs, 1)


class Second(BASE):
    def test_one_message_too(self):
        send("work", "x")
        self.assertEqual(get_rsmq().get_queue_attributes("work").msgs, 1)
"""


def run_in(tmp_path: Path, test_redis: TestRedis, namespace: str, *args: str) -> str:
    env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join([str(ROOT), str(tmp_path)]),
        DJANGO_SETTINGS_MODULE="tests.settings",
        RSMQ_TEST_URL=test_redis.url,
        RSMQ_TEST_NAMESPACE=namespace,
    )
    done = subprocess.run(
        [sys.executable, *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return f"rc={done.returncode}\n{done.stdout}{done.stderr}"


@pytest.mark.slow
@pytest.mark.parametrize(
    ("base", "runner", "passes"),
    [
        ("SimpleTestCase", "django.test.runner.DiscoverRunner", False),  # shared namespace
        ("SimpleTestCase", "django_rsmq.testing.IsolatedDiscoverRunner", True),
        ("type('B', (IsolatedRSMQMixin, SimpleTestCase), {})", "", True),
    ],
    ids=["no-isolation", "runner", "mixin"],
)
def test_manage_py_test_isolation(
    tmp_path: Path,
    test_redis: TestRedis,
    namespace: str,
    redis_client: redis.Redis,
    base: str,
    runner: str,
    passes: bool,
) -> None:
    (tmp_path / "test_two.py").write_text(TWO_TESTS.format(base=base))
    args = ["-m", "django", "test", "test_two", "-v", "2"]
    out = run_in(tmp_path, test_redis, namespace, *args, *(["--testrunner", runner] * bool(runner)))
    assert out.startswith("rc=0") is passes, out
    if passes:
        assert keys_of(redis_client, namespace) == []  # the settings' namespace: untouched


@pytest.mark.slow
def test_pytest_plugin_isolates_each_test_unless_opted_out(
    tmp_path: Path, test_redis: TestRedis, namespace: str, redis_client: redis.Redis
) -> None:
    (tmp_path / "pytest.ini").write_text(
        "[pytest]\nDJANGO_SETTINGS_MODULE = tests.settings\ndjango_find_project = false\n"
    )
    (tmp_path / "test_plugin.py").write_text(
        textwrap.dedent(
            f"""
            import pytest
            from django_rsmq import send
            from django_rsmq.conf import rsmq_settings
            from django_rsmq.connections import get_rsmq

            @pytest.mark.parametrize("n", range(3))
            def test_one_message_each(n, rsmq_namespace):
                assert rsmq_settings().namespace == rsmq_namespace != {namespace!r}
                send("work", n)
                assert get_rsmq().get_queue_attributes("work").msgs == 1

            @pytest.mark.rsmq_shared
            def test_opted_out(rsmq_namespace):
                assert rsmq_namespace is None
                assert rsmq_settings().namespace == {namespace!r}
            """
        )
    )
    installed = any(  # the package's entry point loads it; an old editable install: -p
        ep.value == "django_rsmq.testing.pytest_plugin"
        for ep in importlib.metadata.entry_points(group="pytest11")
    )
    plugin = [] if installed else ["-p", "django_rsmq.testing.pytest_plugin"]
    args = ["-m", "pytest", "-q", *plugin, "test_plugin.py"]
    out = run_in(tmp_path, test_redis, namespace, *args)
    assert out.startswith("rc=0"), out
    assert "4 passed" in out, out
    assert keys_of(redis_client, namespace) == []
    leftovers = [k for k in redis_client.scan_iter(match="test-*") if b"QUEUES" in k]
    assert leftovers == []
