"""Lua scripts: loaded from package files, called by SHA, reloaded after SCRIPT FLUSH
and after a Redis restart; every message operation is one round trip."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from importlib import resources
from typing import Any

import pytest
import redis

from django_rsmq.engine import RSMQ, scripts
from django_rsmq.testing import TestRedis, unique_namespace

OPERATIONS = [
    "change_visibility",
    "consumer_beat",
    "create_queue",
    "dead_letter_info",
    "drain",
    "delete",
    "delete_failed",
    "delete_queue",
    "fail",
    "failed",
    "forget_consumers",
    "get_queue_attributes",
    "history_write",
    "nack",
    "next_due",
    "pause",
    "periodic_claim",
    "periodic_done",
    "peek",
    "pop",
    "purge",
    "purge_expired",
    "quarantine",
    "receive",
    "record_states",
    "redrive",
    "send",
    "set_queue_attributes",
    "sweep",
]


def test_one_lua_file_per_operation() -> None:
    files = {
        p.name
        for p in resources.files("django_rsmq.engine.scripts").iterdir()
        if p.name.endswith(".lua")
    }
    assert files == {f"{op}.lua" for op in OPERATIONS} | {"_lib.lua"}
    for op in OPERATIONS:
        s = scripts.get(op)
        body = resources.files("django_rsmq.engine.scripts").joinpath(f"{op}.lua").read_text()
        assert s.name == op
        assert s.source == f"{scripts.library_for(body)}\n\n{body}"
        assert s.sha == hashlib.sha1(s.source.encode()).hexdigest()
        assert scripts.get(op) is s  # loaded once per process


def test_scripts_get_only_the_library_helpers_they_use(redis_client: redis.Redis) -> None:
    """Redis runs the whole prelude on every call: a script carries what it uses, and the
    helpers those use, nothing more."""
    delete = scripts.get("delete").source
    assert "local OK," in delete
    assert "local function get_queue" not in delete
    assert "local function dead_letter" not in delete
    receive = scripts.get("receive").source
    for helper in ("get_receive_queue", "withheld", "dead_letter", "remove_message"):
        assert f"local function {helper}(" in receive  # withheld -> dead_letter -> ...
    assert "local function ensure_queue(" in receive
    # quarantine() (poison data) writes failure records: trim_failed and base36 come along.
    assert "local function quarantine(" in receive
    assert "local function get_queue(" not in receive
    send = scripts.get("send").source
    assert "local function base36(" not in send  # the client makes the ids (ids.py)
    assert "local CFG" not in send  # the hot path builds no settings table
    assert "local function get_queue(" not in send
    for op in OPERATIONS:  # every script compiles with its helpers
        assert redis_client.script_load(scripts.get(op).source) == scripts.get(op).sha


@pytest.fixture
def private(own_redis: TestRedis) -> Iterator[tuple[TestRedis, RSMQ]]:
    """A private server: SCRIPT FLUSH and restarts must not disturb tests (or PyRSMQ
    instances, which cache SHAs) running on the shared one."""
    mq = RSMQ(own_redis.client(), namespace=unique_namespace())
    yield own_redis, mq
    mq.client.close()


def test_scripts_reloaded_after_script_flush(private: tuple[TestRedis, RSMQ]) -> None:
    _, mq = private
    mq.create_queue("q")
    mid = mq.send("q", "x")
    mq.client.script_flush()
    assert mq.client.script_exists(scripts.get("receive").sha) == [False]
    msg = mq.receive("q")
    assert msg is not None
    assert msg.id == mid
    assert mq.client.script_exists(scripts.get("receive").sha) == [True]  # EVAL cached it


def test_every_operation_survives_script_flush(private: tuple[TestRedis, RSMQ]) -> None:
    _, mq = private
    flush = mq.client.script_flush
    flush()
    mq.create_queue("q")
    flush()
    mq.set_queue_attributes("q", vt=10)
    flush()
    mid = mq.send("q", "x")
    flush()
    assert len(mq.peek("q")) == 1
    flush()
    msg = mq.receive("q", vt=0)
    assert msg is not None
    flush()
    assert mq.change_visibility("q", mid, 0) is True
    flush()
    assert mq.get_queue_attributes("q").msgs == 1
    flush()
    msg = mq.receive("q")
    assert msg is not None
    flush()
    mq.ack(msg)
    mq.send("q", "y")
    flush()
    assert mq.pop("q") is not None
    mq.send("q", "z")
    flush()
    assert mq.purge("q") == 1
    flush()
    assert mq.delete("q", mid) is False
    flush()
    mq.delete_queue("q")


@pytest.mark.slow
@pytest.mark.parametrize("hard", [False, True], ids=["stop", "kill-9"])
def test_scripts_and_data_survive_a_redis_restart(
    private: tuple[TestRedis, RSMQ], hard: bool
) -> None:
    server_info, mq = private
    server = server_info.server
    assert server is not None
    mq.create_queue("q", vt=7)
    first = mq.send("q", "one")
    mq.send("q", "two")
    assert mq.receive("q") is not None  # scripts now cached in the old process
    server.restart(hard=hard)  # appendonly + appendfsync always: nothing is lost
    assert mq.client.script_exists(scripts.get("send").sha) == [False]
    assert mq.get_queue_attributes("q").vt == 7
    msg = mq.receive("q")  # the same RSMQ and client object, scripts reloaded
    assert msg is not None
    assert msg.body == "two"
    assert mq.peek("q")[0].id == first
    mq.send("q", "three")
    assert mq.get_queue_attributes("q").totalsent == 3


class CountingConnection(redis.Connection):
    """Records the names of the commands each write sends (a plain real connection
    otherwise): one entry per round trip, whichever client path packed them."""

    sent: list[list[str]] = []

    def send_packed_command(self, command: Any, check_health: bool = True) -> None:
        data = command.encode() if isinstance(command, str) else b"".join(command)
        if not data.startswith(b"*1\r\n$4\r\nPING"):  # health checks are not ours
            CountingConnection.sent.append(
                [m.decode() for m in re.findall(rb"(?:^|\r\n)\*\d+\r\n\$\d+\r\n([A-Z]+)\r\n", data)]
            )
        super().send_packed_command(command, check_health)


def test_message_operations_are_one_round_trip(test_redis: TestRedis, namespace: str) -> None:
    client = redis.Redis.from_url(test_redis.url, connection_class=CountingConnection)
    sent = CountingConnection.sent
    mq = RSMQ(client, namespace=namespace)
    try:
        mq.create_queue("q")
        mid = mq.send("q", "warm-up")  # scripts may need loading once
        for op in OPERATIONS:
            client.script_load(scripts.get(op).source)
        mq.send("q", "x")
        calls: list[Any] = [
            lambda: mq.send("q", "x"),
            lambda: mq.send("q", "x", delay=1),
            lambda: mq.receive("q"),
            lambda: mq.receive("q", vt=0),
            lambda: mq.pop("q"),
            lambda: mq.peek("q"),
            lambda: mq.peek_message("q", mid),
            lambda: mq.change_visibility("q", mid, 0),
            lambda: mq.get_queue_attributes("q"),
            lambda: mq.delete("q", mid),
            lambda: mq.purge("q"),
        ]
        for call in calls:
            sent.clear()
            call()
            assert sent == [["EVALSHA"]]
        mq.send("q", "y")
        msg = mq.receive("q")
        assert msg is not None
        sent.clear()
        mq.ack(msg)
        assert sent == [["EVALSHA"]]
        mq.send("q", "y")
        sent.clear()
        assert len(mq.receive_many("q", 10)) == 1
        mq.send_many("q", ["a", "b", "c"])
        assert sent == [["EVALSHA"], ["EVALSHA"]]
        mq.client.script_flush()
        sent.clear()
        mq.send("q", "z")
        assert sent == [["EVALSHA"], ["EVAL"]]  # NOSCRIPT fallback
    finally:
        mq.close()
        client.close()


def test_lua_library_helpers(redis_client: redis.Redis) -> None:
    """_lib.lua's base36 and int, checked like PyRSMQ's test_baseXencode."""
    lib = resources.files("django_rsmq.engine.scripts").joinpath("_lib.lua").read_text("utf-8")
    reply = redis_client.eval(
        lib
        + "\nreturn { base36(0), base36(10000), base36(10000000), base36(3656158440062975),"
        + " int(1795340806781), int(9999999000 + 1795340806781), base36(1795340806781442) }",
        0,
    )
    assert [r.decode() for r in reply] == [
        "0",
        "7ps",
        "5yc1s",
        "zzzzzzzzzz",  # 36**10 - 1: ids keep 10 characters until 2085
        "1795340806781",
        "1805340805781",
        "hoe86i1536",  # the time part of the id in the wire spec's example
    ]
