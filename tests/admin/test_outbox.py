"""The dashboard shows the transactional outbox's depth, oldest row and relays."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.test import Client, override_settings

from django_rsmq import outbox
from django_rsmq.engine import RSMQ
from django_rsmq.outbox.registry import RelayRegistry


@pytest.mark.django_db
def test_dashboard_has_outbox_tiles_when_it_is_used(client_for: Any, engine: RSMQ) -> None:
    client: Client = client_for()
    r = client.get("/admin/django_rsmq/queue/")
    assert "Outbox rows" not in {t["label"] for t in r.context["tiles"]}  # no OUTBOX queue
    rsmq = {**settings.RSMQ, "QUEUES": {**settings.RSMQ["QUEUES"], "obx": {"OUTBOX": True}}}
    with override_settings(RSMQ=rsmq):
        outbox.send("obx", {"n": 1})
        outbox.send("obx", {"n": 2})
        RelayRegistry(engine.client, engine.namespace).beat("relay.t")
        r = client.get("/admin/django_rsmq/queue/")
    tiles = {t["label"]: t["n"] for t in r.context["tiles"]}
    assert tiles["Outbox rows"] == 2
    assert tiles["Outbox relays"] == 1
    assert tiles["Oldest outbox row"] >= 0  # seconds, shown as a human duration
    assert b"Oldest outbox row" in r.content
