"""Periodic messages in-process: entries and their ticks, the missed-tick policy, the
ledger's claims on a real Redis, the ticker, ``rsmq_schedule`` and the system checks."""

from __future__ import annotations

import time
from datetime import datetime
from io import StringIO
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings

from django_rsmq.connections import get_rsmq
from django_rsmq.engine.ledger import Ledger
from django_rsmq.engine.registry import server_time
from django_rsmq.periodic import Entry, Ticker, entries, run_now, status
from django_rsmq.periodic.checks import check_schedule
from django_rsmq.periodic.entries import parse_schedule
from django_rsmq.periodic.ticker import LEASE, decide
from django_rsmq.producer import send


def _with(setting: dict[str, Any], schedule: Any, **queues: Any) -> Any:
    return override_settings(
        RSMQ={**setting, "SCHEDULE": schedule, "QUEUES": {**setting["QUEUES"], **queues}}
    )


def _ts(tz: str, *args: int) -> float:
    return datetime(*args, tzinfo=ZoneInfo(tz)).timestamp()  # type: ignore[misc]


# -- entries and ticks ------------------------------------------------------------------


def test_every_ticks_at_whole_multiples_since_the_epoch() -> None:
    e = Entry("e", "q", every=30)
    assert e.last_tick(1000.0) == 990.0
    assert e.last_tick(990.0) == 990.0  # a tick is due at its own second
    assert e.next_tick(990.0) == 1020.0
    assert e.tick_before(990.0) == 960.0


def test_cron_ticks_in_the_entry_time_zone_across_dst() -> None:
    e = Entry("e", "q", cron="30 2 * * *", tz="Europe/Paris")
    # 2026-03-29: Paris skips 02:00-03:00; that day's 02:30 tick runs at 03:00 (as cron
    # does), once.
    at = _ts("Europe/Paris", 2026, 3, 29, 12, 0)
    assert e.last_tick(at) == _ts("Europe/Paris", 2026, 3, 29, 3, 0)
    assert e.tick_before(e.last_tick(at)) == _ts("Europe/Paris", 2026, 3, 28, 2, 30)
    assert e.next_tick(at) == _ts("Europe/Paris", 2026, 3, 30, 2, 30)
    three = Entry("e", "q", cron="0 3 * * *", tz="Europe/Paris")
    tick = _ts("Europe/Paris", 2026, 7, 1, 3, 0)
    assert three.last_tick(tick) == tick  # at the tick itself
    assert three.last_tick(tick - 1) == _ts("Europe/Paris", 2026, 6, 30, 3, 0)
    assert datetime.fromtimestamp(three.next_tick(tick), ZoneInfo("UTC")).hour == 1  # CEST


@pytest.mark.parametrize(
    ("missed", "handled", "age", "expected"),
    [
        ("skip", None, 0.5, "send"),  # never ran, on time
        ("skip", None, 120, "skip"),  # never ran, late: recorded, nothing missed
        ("once", None, 120, "skip"),
        ("skip", -10.0, 0.5, "send"),  # the previous tick was handled
        ("once", 0.0, 0.5, "none"),  # this tick was handled
        ("skip", -50.0, 0.5, "send"),  # ticks missed, this one on time: sent
        ("skip", -50.0, 120, "skip"),  # late: skipped
        ("once", -50.0, 120, "send"),  # late but missed ticks: run once
        ("once", 100.0, 120, "none"),  # handled already
        ("skip", 100.0, 0.5, "none"),
    ],
)
def test_decide_follows_the_missed_policy(
    missed: str, handled: float | None, age: float, expected: str
) -> None:
    e = Entry("e", "q", every=10, missed=missed, grace=60)  # type: ignore[arg-type]
    tick = 100.0
    assert decide(e, tick, None if handled is None else tick + handled, tick + age) == expected


@pytest.mark.parametrize(
    ("raw", "needle"),
    [
        ({"QUEUE": "q"}, "exactly one of CRON and EVERY"),
        ({"QUEUE": "q", "CRON": "* * *"}, "CRON '* * *'"),
        ({"QUEUE": "q", "EVERY": 0}, "EVERY must be"),
        ({"QUEUE": "q", "EVERY": True}, "EVERY must be"),
        ({"QUEUE": "q", "CRON": "0 3 * * *", "TZ": "Mars/Olympus"}, "unknown time zone"),
        ({"QUEUE": "q", "EVERY": 5, "TZ": "UTC"}, "TZ applies to CRON only"),
        ({"QUEUE": "bad name", "EVERY": 5}, "QUEUE"),
        ({"EVERY": 5}, "QUEUE (a queue name) is required"),
        ({"QUEUE": "q", "EVERY": 5, "MISSED": "all"}, "MISSED must be"),
        ({"QUEUE": "q", "EVERY": 5, "GRACE": -1}, "GRACE must be"),
        ({"QUEUE": "q", "EVERY": 5, "BOGUS": 1}, "unknown key(s) BOGUS"),
    ],
)
def test_invalid_entries_are_reported_and_never_run(raw: dict[str, Any], needle: str) -> None:
    found, problems = parse_schedule({"bad": raw, "good": {"QUEUE": "q", "EVERY": 5}})
    assert list(found) == ["good"]
    assert len(problems) == 1
    assert needle in problems[0], problems


def test_system_checks_name_bad_entries_and_short_dedup_windows(
    rsmq_on_test_redis: dict[str, Any],
) -> None:
    schedule = {
        "bad": {"QUEUE": "q", "CRON": "61 * * * *"},
        "short": {"QUEUE": "nodedup", "EVERY": 5},
        "fine": {"QUEUE": "q", "EVERY": 5},
    }
    with _with(rsmq_on_test_redis, schedule, nodedup={"DEDUP_WINDOW": 1}):
        ids = sorted(m.id for m in check_schedule())
        assert ids == ["django_rsmq.E040", "django_rsmq.W040"]
        assert list(entries()) == ["short", "fine"]


# -- the ledger -------------------------------------------------------------------------


def test_one_owner_claims_a_tick_until_its_lease_expires() -> None:
    rsmq = get_rsmq()
    ledger = Ledger(rsmq.client, rsmq.namespace)
    assert ledger.claim("e", 1000, "a", 0.2) == "claimed"
    assert ledger.claim("e", 1000, "b", 10) == "taken"
    assert ledger.claim("e", 1000, "a", 10) == "claimed"  # its own claim: renewed
    assert ledger.claim("e", 1000, "b", 10) == "taken"  # the renewal holds
    ledger.done("e", 1000, "a", "m1")
    assert ledger.claim("e", 1000, "b", 10) == "done"
    assert ledger.claim("e", 900, "b", 10) == "done"  # older ticks too
    state = ledger.states(["e"])["e"]
    assert (state.tick, state.message_id) == (1.0, "m1")
    assert state.sent is not None
    # a claimant that dies: its claim expires and another owner takes the tick
    assert ledger.claim("e", 2000, "a", 0.001) == "claimed"
    deadline = time.monotonic() + 5
    while ledger.claim("e", 2000, "b", 10) != "claimed":
        assert time.monotonic() < deadline, "the expired claim was never released"
    ledger.done("e", 500, "b")  # an older tick never moves the ledger back
    assert ledger.states(["e"])["e"].tick == 1.0
    ledger.done("e", 2000, "b")
    assert ledger.states(["e"])["e"].tick == 2.0


# -- the ticker -------------------------------------------------------------------------


def test_a_tick_is_sent_once_however_many_tickers_see_it(
    rsmq_on_test_redis: dict[str, Any],
) -> None:
    schedule = {"beat": {"QUEUE": "ticks", "EVERY": 3600, "GRACE": 3600, "BODY": {"kind": "beat"}}}
    with _with(rsmq_on_test_redis, schedule):
        a, b, c = Ticker("a"), Ticker("b"), Ticker("c")
        waits = [t.run_due() for t in (a, b, c, a)]
        rsmq = get_rsmq()
        assert rsmq.get_queue_attributes("ticks").msgs == 1
        msg = rsmq.receive("ticks")
        assert msg is not None
        assert msg.body == {"kind": "beat"}
        assert all(w is not None and 0 < w <= 3600 for w in waits)
        (row,) = status()
        assert row.state.message_id == msg.id
        assert row.last_run is not None
        assert row.next_run > row.last_run


def test_a_tick_taken_over_after_a_crash_is_not_sent_twice(
    rsmq_on_test_redis: dict[str, Any],
) -> None:
    """The claimant sent, then died before recording the tick: the next consumer claims
    the tick after the lease and sends with the same dedup id, which the queue drops."""
    schedule = {"beat": {"QUEUE": "ticks", "EVERY": 3600, "GRACE": 3600}}
    with _with(rsmq_on_test_redis, schedule):
        rsmq = get_rsmq()
        ledger = Ledger(rsmq.client, rsmq.namespace)
        (entry,) = entries().values()
        tick_ms = round(entry.last_tick(time.time()) * 1000)
        # the dead consumer: claimed with a lease that is over, sent, never recorded
        assert ledger.claim("beat", tick_ms, "dead", 0.001) == "claimed"
        first = send("ticks", None, dedup_id=f"periodic:beat:{tick_ms}")
        claim = rsmq.client.hget(ledger.key, "beat:claim")
        assert claim is not None
        expiry_ms = int(claim.rsplit(b":", 1)[1])
        deadline = time.monotonic() + 5
        while server_time(rsmq.client.time()) * 1000 <= expiry_ms:  # Redis' clock
            assert time.monotonic() < deadline
        Ticker("alive").run_due()
        assert rsmq.get_queue_attributes("ticks").msgs == 1
        assert ledger.states(["beat"])["beat"].message_id == first
    assert LEASE >= 1


def test_run_now_sends_outside_the_ticks_and_is_recorded(
    rsmq_on_test_redis: dict[str, Any],
) -> None:
    schedule = {"report": {"QUEUE": "reports", "CRON": "0 3 * * *", "BODY": [1, 2]}}
    with _with(rsmq_on_test_redis, schedule):
        out = StringIO()
        call_command("rsmq_schedule", "run", "report", stdout=out)
        message_id = out.getvalue().split()[-1]
        msg = get_rsmq().receive("reports")
        assert msg is not None
        assert msg.id == message_id
        assert msg.body == [1, 2]
        (row,) = status()
        assert row.state.manual_id == message_id
        assert row.last_run is not None
        with pytest.raises(LookupError, match="No periodic entry 'nope'"):
            run_now("nope")
        with pytest.raises(CommandError, match="No periodic entry 'nope'"):
            call_command("rsmq_schedule", "run", "nope")


def test_rsmq_schedule_list_shows_next_and_last_run(
    rsmq_on_test_redis: dict[str, Any],
) -> None:
    schedule = {
        "report": {"QUEUE": "reports", "CRON": "0 3 * * *", "TZ": "Europe/Paris"},
        "beat": {"QUEUE": "ticks", "EVERY": 30, "MISSED": "once"},
    }
    with _with(rsmq_on_test_redis, schedule):
        Ticker("a").run_due()
        out = StringIO()
        call_command("rsmq_schedule", "list", stdout=out)
        lines = out.getvalue().splitlines()
        assert lines[0].split() == [
            "NAME",
            "QUEUE",
            "SCHEDULE",
            "MISSED",
            "NEXT",
            "RUN",
            "LAST",
            "RUN",
        ]
        assert lines[1].startswith("report")
        assert "0 3 * * * (Europe/Paris)" in lines[1]
        assert lines[2].startswith("beat")
        assert "every 30 s" in lines[2]
        assert "once" in lines[2]
        out = StringIO()
        call_command("rsmq_schedule", "list", "--json", stdout=out)
        assert '"name": "beat"' in out.getvalue()
    with _with(rsmq_on_test_redis, None):
        out = StringIO()
        call_command("rsmq_schedule", "list", stdout=out)
        assert "no periodic messages" in out.getvalue()


def test_consumers_run_the_schedule_unless_told_not_to(
    rsmq_on_test_redis: dict[str, Any],
) -> None:
    from django_rsmq.consumer import Consumer

    with _with(rsmq_on_test_redis, {"beat": {"QUEUE": "ticks", "EVERY": 5}}):
        assert Consumer(["work"]).scheduler is not None
        assert Consumer(["work"], schedule=False).scheduler is None
    with _with(rsmq_on_test_redis, {}):
        assert Consumer(["work"]).scheduler is None  # no thread without entries


def test_the_docs_example_schedule_is_valid() -> None:
    from pathlib import Path

    page = (Path(__file__).resolve().parents[2] / "docs" / "periodic.md").read_text()
    code = page.split("```python\n", 1)[1].split("```", 1)[0]
    namespace: dict[str, Any] = {}
    exec(code, namespace)
    found, problems = parse_schedule(namespace["RSMQ"]["SCHEDULE"])
    assert problems == []
    assert found["nightly-report"].spec == "0 3 * * * (Europe/Paris)"
    assert found["sweep"].spec == "every 30 s"


def test_the_schedule_is_in_stats_json_metrics_and_rsmq_stats(
    rsmq_on_test_redis: dict[str, Any],
) -> None:
    from django_rsmq.operations import metrics, stats

    schedule = {"beat": {"QUEUE": "ticks", "EVERY": 3600, "GRACE": 3600}}
    with _with(rsmq_on_test_redis, schedule):
        Ticker("a").run_due()
        data = stats.collect()
        (row,) = data.as_dict()["schedule"]
        assert row["name"] == "beat"
        assert row["last_run"] is not None
        assert row["next_run"] > row["last_run"]
        text = metrics.render(data)
        assert 'rsmq_schedule_next_run_timestamp_seconds{entry="beat",queue="ticks"}' in text
        assert 'rsmq_schedule_last_run_timestamp_seconds{entry="beat",queue="ticks"}' in text
        out = StringIO()
        call_command("rsmq_stats", stdout=out)
        assert "PERIODIC" in out.getvalue()
        assert "every 3600 s" in out.getvalue()
        assert stats.collect(["ticks"]).schedule == []  # only in a full collect
