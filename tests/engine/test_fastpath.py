"""The fast path for script calls (engine/fastpath.py): connections kept clean between
calls, given back to the pool, replaced after a fault; clients it must not touch."""

from __future__ import annotations

import functools
import gc
import os
import subprocess
import sys
import threading
from typing import Any

import pytest
import redis

from django_rsmq.engine import RSMQ
from django_rsmq.engine.fastpath import FastPath, fast_path_for
from django_rsmq.testing import TestRedis, unique_namespace


def _pack(*parts: str) -> bytes:
    out = [b"*%d\r\n" % len(parts)]
    for part in parts:
        out.append(b"$%d\r\n%s\r\n" % (len(part.encode()), part.encode()))
    return b"".join(out)


def _in_use(client: redis.Redis) -> int:
    return len(client.connection_pool._in_use_connections)  # type: ignore[attr-defined]


@pytest.fixture
def client(test_redis: TestRedis) -> Any:
    c = test_redis.client(client_name="fastpath-test")
    yield c
    c.close()


def test_calls_reuse_one_kept_connection(client: redis.Redis) -> None:
    mq = RSMQ(client, namespace=unique_namespace())
    mq.create_queue("q")
    for i in range(20):
        mq.send("q", str(i))
    assert _in_use(client) == 1  # kept by the fast path between calls, not one per call
    assert [m.body for m in mq.receive_many("q", 20)] == [str(i) for i in range(20)]
    mq.close()
    assert _in_use(client) == 0  # given back to the pool


def test_a_dropped_rsmq_gives_its_connections_back(client: redis.Redis) -> None:
    mq = RSMQ(client, namespace=unique_namespace())
    mq.create_queue("q")
    mq.send("q", "x")
    assert _in_use(client) == 1
    del mq
    gc.collect()
    assert _in_use(client) == 0


def test_concurrent_threads_get_their_own_replies(client: redis.Redis) -> None:
    """Replies never cross between threads sharing one RSMQ (and its kept connections)."""
    mq = RSMQ(client, namespace=unique_namespace())
    mq.create_queue("q")
    sent: dict[str, str] = {}
    lock = threading.Lock()
    errors: list[BaseException] = []

    def producer(t: int) -> None:
        try:
            for i in range(100):
                body = f"{t}-{i}"
                mid = mq.send("q", body)
                with lock:
                    sent[mid] = body
        except BaseException as e:  # reported below
            errors.append(e)

    threads = [threading.Thread(target=producer, args=(t,)) for t in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(30)
    assert not errors
    assert len(sent) == 800
    got = {}
    while batch := mq.receive_many("q", 1000):
        got.update({m.id: m.body for m in batch})
    assert got == sent  # every id came back to the thread that sent its body
    assert _in_use(client) <= 8
    assert mq._fast is not None
    assert len(mq._fast._free) <= mq._fast.keep
    mq.close()
    assert _in_use(client) == 0


def test_a_killed_connection_is_replaced_and_nothing_is_sent_twice(
    client: redis.Redis, test_redis: TestRedis
) -> None:
    mq = RSMQ(client, namespace=unique_namespace())
    mq.create_queue("q")
    mq.send("q", "before")
    admin = test_redis.client()
    try:
        ours = [c for c in admin.client_list() if c.get("name") == "fastpath-test"]
        assert ours
        for c in ours:
            admin.client_kill_filter(_id=c["id"])
        mq.send("q", "after")  # the kept connection is dead: redis-py's path reconnects
        assert [m.body for m in mq.receive_many("q", 10)] == ["before", "after"]
        assert mq.get_queue_attributes("q").totalsent == 2
    finally:
        admin.close()
        mq.close()


def test_a_script_error_keeps_the_connection_clean(client: redis.Redis) -> None:
    mq = RSMQ(client, namespace=unique_namespace())
    mq.create_queue("q")
    fast = mq._fast
    assert fast is not None
    with pytest.raises(redis.ResponseError):
        fast.execute(_pack("EVAL", "return redis.error_reply('boom')", "0"))
    assert mq.send("q", "x")  # the same connection, its reply stream still in step
    assert _in_use(client) == 1
    mq.close()


def test_an_interrupted_call_drops_its_connection(client: redis.Redis) -> None:
    fast = fast_path_for(client)
    assert fast is not None
    conn = client.connection_pool.get_connection()
    client.connection_pool.release(conn)

    def interrupt(*args: Any, **kwargs: Any) -> Any:
        raise KeyboardInterrupt

    conn.read_response = interrupt  # type: ignore[method-assign]
    with pytest.raises(KeyboardInterrupt):
        fast.execute(_pack("PING"))  # the reply stays unread on that socket
    assert conn._sock is None  # so the connection was closed, not kept
    assert _in_use(client) == 0
    del conn.read_response
    assert fast.execute(_pack("PING")) in (b"PONG", "PONG")
    fast.close()


FORK_SCRIPT = """
import os, sys
from django_rsmq.engine import RSMQ
mq = RSMQ(sys.argv[1], namespace=sys.argv[2])
mq.create_queue("q")
mq.send("q", "parent")  # the parent now keeps a connection
parents = list(mq._fast._free)
assert len(parents) == 1
pid = os.fork()
if pid == 0:  # the child: send on the inherited RSMQ, then exit at once
    code = 1
    try:
        mq.send("q", "child")
        assert parents[0] not in mq._fast._free  # not the parent's socket
        code = 0
    finally:
        os._exit(code)
_, status = os.waitpid(pid, 0)
assert os.waitstatus_to_exitcode(status) == 0, status
mq.send("q", "parent again")  # the parent's kept connection is still in step
print(sorted(m.body for m in mq.receive_many("q", 10)))
"""


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork()")
def test_a_forked_child_uses_its_own_connection(test_redis: TestRedis) -> None:
    """In a single-threaded process of its own (a fork in pytest's threaded one could
    deadlock the child), as a pre-forking server would fork."""
    proc = subprocess.run(
        [sys.executable, "-c", FORK_SCRIPT, test_redis.url, unique_namespace()],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "['child', 'parent', 'parent again']"


@pytest.mark.parametrize(("max_connections", "keep"), [(None, 25), (8, 2), (4, 1), (1000, 64)])
def test_a_share_of_the_pool_stays_for_its_other_users(
    test_redis: TestRedis, max_connections: int | None, keep: int
) -> None:
    """Idle kept connections never take more than a quarter of the pool: with 8 threads
    calling at once on a pool of 8, 2 stay kept and the pool has 6 free again."""
    kwargs = {} if max_connections is None else {"max_connections": max_connections}
    client = redis.Redis.from_url(test_redis.url, **kwargs)
    pool = client.connection_pool
    mq = RSMQ(client, namespace=unique_namespace())
    try:
        assert mq._fast is not None
        assert mq._fast.keep == keep == min(64, pool.max_connections // 4)
        mq.create_queue("q")
        threads = min(8, pool.max_connections)
        barrier = threading.Barrier(threads)

        def send() -> None:
            barrier.wait(10)
            for _ in range(20):
                mq.send("q", "x")

        workers = [threading.Thread(target=send) for _ in range(threads)]
        for w in workers:
            w.start()
        for w in workers:
            w.join(30)
        assert mq.get_queue_attributes("q").totalsent == 20 * threads
        assert len(mq._fast._free) <= keep
        assert _in_use(client) <= keep
    finally:
        mq.close()
        client.close()


class Hooked(redis.Redis):
    """A client whose own execute_command must see every command."""

    def execute_command(self, *args: Any, **options: Any) -> Any:
        return super().execute_command(*args, **options)


@pytest.mark.parametrize(
    "make",
    [
        lambda url: redis.Redis.from_url(url, single_connection_client=True),
        lambda url: redis.RedisCluster.__new__(redis.RedisCluster),
        lambda url: redis.Redis.from_url(url, max_connections=3),
        lambda url: Hooked.from_url(url),
        lambda url: "not a client",
    ],
    ids=["single-connection", "cluster", "tiny-pool", "overridden", "other"],
)
def test_clients_the_fast_path_leaves_alone(test_redis: TestRedis, make: Any) -> None:
    assert fast_path_for(make(test_redis.url)) is None


def test_the_packed_command_is_what_redis_py_would_send(client: redis.Redis) -> None:
    mq = RSMQ(client, namespace=unique_namespace())
    call = mq.protocol.send("q", "héllo\r\n", mq.serializer, delay=1.5, dedup_id="d")
    conn = client.connection_pool.get_connection()
    try:
        assert call.command() == b"".join(conn.pack_command(*call.evalsha()))
    finally:
        client.connection_pool.release(conn)
    assert isinstance(mq._fast, FastPath)


def test_an_instrumented_execute_command_keeps_redis_py_s_path(
    test_redis: TestRedis, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A tracer that wraps redis.Redis.execute_command itself (functools.wraps and wrapt
    set ``__wrapped__``) must still see every command the engine sends."""
    stock = redis.Redis.execute_command
    seen: list[str] = []

    @functools.wraps(stock)
    def traced(self: redis.Redis, *args: Any, **options: Any) -> Any:
        seen.append(str(args[0]))
        return stock(self, *args, **options)

    monkeypatch.setattr(redis.Redis, "execute_command", traced)
    client = redis.Redis.from_url(test_redis.url)
    mq = RSMQ(client, namespace=unique_namespace())
    try:
        assert mq._fast is None
        mq.create_queue("q")
        seen.clear()
        mq.send("q", "x")
        assert seen == ["EVALSHA"]
    finally:
        mq.close()
        client.close()
