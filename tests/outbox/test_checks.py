"""The outbox's settings and system checks."""

from __future__ import annotations

from django.conf import settings
from django.test import override_settings

from django_rsmq.conf import rsmq_settings
from django_rsmq.outbox.checks import check_outbox_relay, check_outbox_settings
from django_rsmq.outbox.registry import RelayRegistry
from tests.outbox.conftest import Box


def _ids(messages: list[object]) -> list[str]:
    return [m.id for m in messages]  # type: ignore[attr-defined]


def test_settings_parse_and_reload_under_override_settings(box: Box) -> None:
    assert rsmq_settings().outbox.poll_interval == 0.2
    assert rsmq_settings().queue("obx").outbox is True
    assert rsmq_settings().relay_wanted
    with override_settings(RSMQ={**settings.RSMQ, "OUTBOX": {"BATCH_SIZE": 7}}):
        assert rsmq_settings().outbox.batch_size == 7
        assert rsmq_settings().outbox.poll_interval == 1.0
    assert rsmq_settings().outbox.batch_size == 500


def test_invalid_values_are_e030(box: Box) -> None:
    assert check_outbox_settings() == []
    bad = {
        **settings.RSMQ,
        "OUTBOX": {"BATCH_SIZE": 0, "POLL_INTERVAL": "1", "DATABASES": ["nope"], "TYPO": 1},
        "QUEUES": {"a": {"OUTBOX": "yes"}, "b": {"OUTBOX": True, "DEDUP_WINDOW": 5}},
    }
    with override_settings(RSMQ=bad):
        found = check_outbox_settings()
    text = "\n".join(m.msg for m in found)
    assert _ids(found).count("django_rsmq.E030") == 5, text
    for needle in ("BATCH_SIZE", "POLL_INTERVAL", "'nope'", "'TYPO'", "OUTBOX must be True"):
        assert needle in text
    assert _ids(found).count("django_rsmq.W032") == 1


def test_no_relay_running_is_w031_until_one_beats(box: Box) -> None:
    assert _ids(check_outbox_relay()) == ["django_rsmq.W031"]
    registry = RelayRegistry(box.rsmq.client, box.namespace)
    registry.beat("relay.test")
    assert check_outbox_relay() == []
    registry.remove("relay.test")
    with override_settings(RSMQ={**settings.RSMQ, "QUEUES": {}}):
        assert check_outbox_relay() == []  # not used: no OUTBOX queue, no rows
