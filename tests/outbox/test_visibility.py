"""Outbox depth and age in stats, metrics, rsmq_stats and the health check; the
testing helper that drains the outbox."""

from __future__ import annotations

from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings

from django_rsmq import outbox
from django_rsmq.operations import metrics, stats
from django_rsmq.operations.health import outbox_health
from django_rsmq.outbox.registry import RelayRegistry
from django_rsmq.testing import drain_outbox
from tests.outbox.conftest import QUEUE, Box


@pytest.fixture
def on_box(box: Box) -> override_settings:
    rsmq = {**settings.RSMQ, "OUTBOX": {**settings.RSMQ["OUTBOX"], "DATABASES": [box.database]}}
    with override_settings(RSMQ=rsmq) as o:
        yield o


@pytest.mark.usefixtures("on_box")
def test_depth_and_age_in_stats_metrics_and_rsmq_stats(box: Box) -> None:
    with transaction.atomic(using=box.database):
        for i in range(3):
            outbox.send(QUEUE, i, using=box.database)
    RelayRegistry(box.rsmq.client, box.namespace).beat("relay.t")
    data = stats.collect().as_dict()
    [o] = data["outbox"]
    assert (o["database"], o["depth"], o["failing"], o["relays"]) == (box.database, 3, 0, 1)
    assert 0 <= o["oldest_age"] < 30
    text = metrics.render(stats.collect())
    assert f'rsmq_outbox_rows{{database="{box.database}"}} 3' in text
    assert f'rsmq_outbox_oldest_age_seconds{{database="{box.database}"}} ' in text
    assert "rsmq_outbox_relays 1" in text
    out = StringIO()
    call_command("rsmq_stats", stdout=out)
    assert "OUTBOX DATABASE" in out.getvalue()
    assert drain_outbox() == 3
    assert stats.collect().as_dict()["outbox"][0]["depth"] == 0


def test_no_outbox_section_when_unused(box: Box) -> None:
    with override_settings(RSMQ={**settings.RSMQ, "QUEUES": {}}):
        assert stats.collect().outbox == []
        assert "rsmq_outbox" not in metrics.render(stats.collect())


@pytest.mark.usefixtures("on_box")
def test_health_fails_without_a_relay_or_with_an_old_row(box: Box) -> None:
    health = outbox_health(max_age=60)
    assert (health.ok, health.reason) == (False, "no outbox relay running")
    RelayRegistry(box.rsmq.client, box.namespace).beat("relay.t")
    assert outbox_health(max_age=60).ok
    outbox.send(QUEUE, "x", using=box.database)
    assert outbox_health(max_age=60).ok
    health = outbox_health(max_age=0)
    assert not health.ok
    assert "1 rows, the oldest" in health.reason


@pytest.mark.usefixtures("on_box")
def test_rsmq_healthcheck_outbox_max_age(box: Box) -> None:
    from django_rsmq.engine.registry import ConsumerRegistry

    ConsumerRegistry(box.rsmq.client, box.namespace).beat("c1", {"queues": ["work"]}, 30)
    out, err = StringIO(), StringIO()
    with pytest.raises(SystemExit):
        call_command("rsmq_healthcheck", "--outbox-max-age", "60", stdout=out, stderr=err)
    assert err.getvalue().strip() == "FAIL: 1 consumer(s) alive; no outbox relay running"
    RelayRegistry(box.rsmq.client, box.namespace).beat("relay.t")
    out = StringIO()
    call_command("rsmq_healthcheck", "--outbox-max-age", "60", stdout=out)
    assert out.getvalue().strip() == "OK: 1 consumer(s) alive; outbox: 0 rows waiting, 1 relay(s)"


@pytest.mark.django_db
def test_drain_outbox_inside_the_tests_transaction(test_redis: object, namespace: str) -> None:
    from django_rsmq.connections import get_rsmq
    from tests.outbox.conftest import outbox_setting

    with override_settings(RSMQ=outbox_setting(test_redis.url, namespace)):  # type: ignore[attr-defined]
        with transaction.atomic():
            outbox.send(QUEUE, {"n": 1})  # never committed: the test's transaction rolls back
        assert drain_outbox() == 1
        assert [m.body for m in get_rsmq().pop_many(QUEUE, 10)] == [{"n": 1}]
