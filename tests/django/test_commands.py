"""Every management command, in-process through call_command (the consumer runs as a
subprocess in tests/consumer/)."""

from __future__ import annotations

import json
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from django_rsmq import send, signals
from django_rsmq.connections import get_rsmq
from django_rsmq.engine.registry import ConsumerRegistry


def run(*args: Any) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=out)
    return out.getvalue()


def test_queues_sync_dry_run_then_sync_then_in_sync() -> None:
    dry = run("rsmq_queues", "sync", "--dry-run")
    assert "would create work [default] (vt=1" in dry
    assert get_rsmq().list_queues() == []
    run("rsmq_queues", "sync")
    assert get_rsmq().list_queues() == [
        "awork",
        "flaky",
        "flaky-dlq",
        "outcomes",
        "outcomes-dlq",
        "work",
    ]
    assert "in sync" in run("rsmq_queues", "sync")
    get_rsmq().set_queue_attributes("work", vt=7)
    assert "update work [default] (vt: 7 -> 1)" in run("rsmq_queues", "sync", "--dry-run")
    run("rsmq_queues", "sync", "work")
    assert get_rsmq().get_queue_attributes("work").vt == 1


def test_queues_list_table_and_json() -> None:
    send("work", "x")
    table = run("rsmq_queues", "list")
    assert table.splitlines()[0].split()[:4] == ["QUEUE", "CONNECTION", "DECLARED", "EXISTS"]
    rows = {r["name"]: r for r in json.loads(run("rsmq_queues", "list", "--json"))}
    assert (rows["work"]["exists"], rows["work"]["messages"]) == (True, 1)
    assert rows["awork"]["exists"] is False


def test_queues_create_update_purge_delete() -> None:
    assert "created extra" in run("rsmq_queues", "create", "extra", "--vt", "9")
    assert get_rsmq().get_queue_attributes("extra").vt == 9
    with pytest.raises(CommandError, match="exists"):
        run("rsmq_queues", "create", "extra")
    assert "vt=3" in run("rsmq_queues", "update", "extra", "--vt", "3")
    with pytest.raises(CommandError, match="Nothing to update"):
        run("rsmq_queues", "update", "extra")
    get_rsmq().send("extra", "a")
    with pytest.raises(CommandError, match="without --yes"):
        run("rsmq_queues", "purge", "extra")
    assert "1 message(s) deleted" in run("rsmq_queues", "purge", "extra", "--yes")
    with pytest.raises(CommandError, match="without --yes"):
        run("rsmq_queues", "delete", "extra")
    run("rsmq_queues", "delete", "extra", "--yes")
    assert "extra" not in get_rsmq().list_queues()
    with pytest.raises(CommandError, match="Queue not found"):
        run("rsmq_queues", "delete", "extra", "--yes")


def test_send_text_json_and_delay() -> None:
    mid = run("rsmq_send", "work", '{"a": 1}').strip()
    jid = run("rsmq_send", "work", '{"a": 1}', "--json", "--delay", "60").strip()
    r = get_rsmq()
    by_id = {m.id: m for m in r.peek("work")}
    assert by_id[mid].raw == '{"a": 1}'  # sent as the given text
    assert by_id[jid].raw == '{"a":1}'  # parsed, then serialized
    assert by_id[jid].state == "delayed"
    with pytest.raises(CommandError, match="not valid JSON"):
        run("rsmq_send", "work", "{", "--json")
    with pytest.raises(CommandError, match="Invalid qname"):
        run("rsmq_send", "bad name", "x")


def test_stats_table_json_and_interval(namespace: str) -> None:
    send("work", "a")
    send("work", "b")
    get_rsmq().receive("work")
    ConsumerRegistry(get_rsmq().client, namespace).beat("c1", {"queues": ["work"]}, ttl=10)
    data = json.loads(run("rsmq_stats", "--json"))
    work = next(q for q in data["queues"] if q["name"] == "work")
    assert {k: work[k] for k in ("visible", "in_flight", "sent", "received", "consumers")} == {
        "visible": 1,
        "in_flight": 1,
        "sent": 2,
        "received": 1,
        "consumers": 1,
    }
    assert [c["name"] for c in data["consumers"]] == ["c1"]
    table = run("rsmq_stats", "--queue", "work")
    assert table.split("\n")[0].split()[:3] == ["QUEUE", "VISIBLE", "IN-FLIGHT"]
    assert run("rsmq_stats", "--interval", "0.01", "--count", "2").count("QUEUE") == 2


def test_healthcheck_exit_codes(namespace: str) -> None:
    with pytest.raises(SystemExit) as exc:
        run("rsmq_healthcheck")
    assert exc.value.code == 1
    registry = ConsumerRegistry(get_rsmq().client, namespace)
    registry.beat("c1", {"queues": ["work"]}, ttl=10)
    assert "OK" in run("rsmq_healthcheck", "--queue", "work")
    with pytest.raises(SystemExit):
        run("rsmq_healthcheck", "--queue", "awork")
    with pytest.raises(SystemExit):
        run("rsmq_healthcheck", "--max-age", "0")


def test_dlq_list_and_purge(rsmq_on_test_redis: dict[str, Any]) -> None:
    r = get_rsmq()
    send("flaky", "x")  # creates flaky and flaky-dlq
    r.send("flaky-dlq", "dead one")
    rows = json.loads(run("rsmq_dlq", "flaky", "list", "--json"))
    assert [row["body"] for row in rows] == ["dead one"]
    with pytest.raises(CommandError, match="has no dead-letter queue"):
        run("rsmq_dlq", "work", "list")
    with pytest.raises(CommandError, match="Say which"):
        run("rsmq_dlq", "flaky", "requeue")
    assert "purged 1" in run("rsmq_dlq", "flaky", "purge", "--yes")


def test_dlq_requeue_goes_through_the_engine_redrive() -> None:
    send("flaky", "x")
    r = get_rsmq()
    dead = r.receive("flaky")
    for _ in range(3):  # MAX_RECEIVES 3, RETRY [0]
        assert dead is not None
        r.fail(dead.receipt, RuntimeError("no"))
        dead = r.receive("flaky")
    (in_dlq,) = r.peek("flaky-dlq")
    rows = json.loads(run("rsmq_dlq", "flaky", "list", "--json"))
    assert [row["id"] for row in rows] == [in_dlq.id]
    got: list[dict[str, Any]] = []

    def on_requeued(sender: str, **kwargs: Any) -> None:
        got.append({"sender": sender, **kwargs})

    signals.message_requeued.connect(on_requeued)
    try:
        assert "requeued 1" in run("rsmq_dlq", "flaky", "requeue", "--ids", in_dlq.id)
    finally:
        signals.message_requeued.disconnect(on_requeued)
    assert [(g["sender"], g["moved"], g["to"], g["source"]) for g in got] == [
        ("flaky", 1, None, "command")  # to=None: each message back to its own queue
    ]
    assert r.get_queue_attributes("flaky-dlq").msgs == 0
    assert [(m.raw, m.rc) for m in r.peek("flaky")] == [("x", 0)]  # a fresh receive count
    assert "requeued 0, 1 missing" in run("rsmq_dlq", "flaky", "requeue", "--ids", in_dlq.id)


def test_dlq_requeue_sends_each_message_of_a_shared_dlq_home() -> None:
    """Two queues share one DLQ: requeue from either sends every message back to the
    queue it came from; one a plain RSMQ client put there goes to the named queue."""
    r = get_rsmq()
    r.create_queue("shared")
    for name in ("qa", "qb"):
        r.create_queue(name, max_receives=1, dead_letter_queue="shared")
        r.send(name, f"from {name}")
        msg = r.receive(name)
        assert msg is not None
        r.nack(msg.receipt, delay=0)
        assert r.receive(name) is None  # dead-lettered
    r.send("shared", "plain")
    assert "requeued 3" in run("rsmq_dlq", "qa", "requeue", "--all")
    assert sorted(m.raw for m in r.peek("qa")) == ["from qa", "plain"]
    assert [m.raw for m in r.peek("qb")] == ["from qb"]
    assert r.get_queue_attributes("shared").msgs == 0


def test_dlq_requeue_keep_receive_count_dead_letters_again() -> None:
    send("flaky", "x")
    r = get_rsmq()
    for _ in range(3):  # MAX_RECEIVES 3, RETRY [0]
        msg = r.receive("flaky")
        assert msg is not None
        r.fail(msg.receipt, RuntimeError("no"))
    assert r.receive("flaky") is None  # moved to the DLQ on this receive
    assert "requeued 1" in run("rsmq_dlq", "flaky", "requeue", "--all", "--keep-receive-count")
    assert [m.rc for m in r.peek("flaky")] == [3]
    assert r.receive("flaky") is None  # rc kept: straight back to the DLQ
    assert r.get_queue_attributes("flaky-dlq").msgs == 1


def test_failed_list_requeue_purge() -> None:
    send("work", {"n": 1})
    r = get_rsmq()
    msg = r.receive("work")
    assert msg is not None
    r.fail(msg.receipt, ValueError("bad input"), traceback="tb")  # retried in 30 s
    (row,) = json.loads(run("rsmq_failed", "work", "list", "--json"))
    assert (row["message_id"], row["rc"], row["dead_lettered"]) == (msg.id, 1, False)
    assert "ValueError" in row["exc_type"]
    # its message still waits for the retry: requeueing it would run it twice
    out = run("rsmq_failed", "work", "requeue", "--all")
    assert "requeued 0, 1 skipped (its message is still in the queue)" in out
    r.delete("work", msg.id)  # gone without succeeding: now the record is worth requeueing
    assert "requeued 1" in run("rsmq_failed", "work", "requeue", "--all")
    assert [m.raw for m in r.peek("work")] == ['{"n":1}']  # a new message
    again = r.receive("work")
    assert again is not None
    assert again.id != msg.id
    r.fail(again.receipt, ValueError("again"))
    with pytest.raises(CommandError, match="without --yes"):
        run("rsmq_failed", "work", "purge")
    assert "purged 1" in run("rsmq_failed", "work", "purge", "--yes")
    assert json.loads(run("rsmq_failed", "work", "list", "--json")) == []


def test_queues_sync_updates_reliability_settings(rsmq_on_test_redis: dict[str, Any]) -> None:
    from django.test import override_settings

    run("rsmq_queues", "sync")
    qs = {
        **rsmq_on_test_redis["QUEUES"],
        "flaky": {**rsmq_on_test_redis["QUEUES"]["flaky"], "MAX_RECEIVES": 5, "RETRY": [1, 2]},
    }
    with override_settings(RSMQ={**rsmq_on_test_redis, "QUEUES": qs}):
        plan = run("rsmq_queues", "sync", "--dry-run")
        assert "would update flaky [default] (max_receives: 3 -> 5, retry: " in plan
        run("rsmq_queues", "sync")
        a = get_rsmq().get_queue_attributes("flaky")
        assert (a.max_receives, a.retry.delays if a.retry else None) == (5, (1.0, 2.0))
        assert "in sync" in run("rsmq_queues", "sync")


def test_an_empty_selection_requeues_nothing() -> None:
    """``ids=[]`` selects nothing in the Python API, as in the engine and the admin
    (it used to mean "everything": the whole DLQ and every failure record moved)."""
    from django_rsmq.operations import redrive

    r = get_rsmq()
    send("flaky", "x")
    for _ in range(3):  # MAX_RECEIVES 3: failure records, then the DLQ
        dead = r.receive("flaky")
        assert dead is not None
        r.fail(dead.receipt, RuntimeError("no"))
    assert r.receive("flaky") is None
    assert r.get_queue_attributes("flaky-dlq").msgs == 1
    records = redrive.failed_count("flaky")
    assert records >= 1
    assert redrive.dlq_requeue("flaky", ids=[]).moved == 0
    assert redrive.failed_requeue("flaky", ids=[]).moved == 0
    assert r.get_queue_attributes("flaky-dlq").msgs == 1
    assert r.get_queue_attributes("flaky").msgs == 0
    assert redrive.failed_count("flaky") == records
