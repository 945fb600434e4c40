"""RSMQ["HISTORY"]: typed settings, system checks, the reference page, and the history
that reading stats stores (once a minute per process, whatever the number of reads)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.test import override_settings

from django_rsmq import conf
from django_rsmq.checks import check_settings
from django_rsmq.connections import get_rsmq
from django_rsmq.engine import RSMQ
from django_rsmq.engine import history as h
from django_rsmq.operations import stats

DOCS = Path(__file__).resolve().parents[2] / "docs"


def history_errors() -> list[tuple[str, str]]:
    return [(m.id, m.msg) for m in check_settings() if "HISTORY" in m.msg]


def test_defaults_and_overrides_reload(rsmq_on_test_redis: dict[str, Any]) -> None:
    assert conf.rsmq_settings().history.config() == h.HistoryConfig(True, 1440, 720)
    with override_settings(RSMQ={**rsmq_on_test_redis, "HISTORY": {"MINUTES": 90, "HOURS": 48}}):
        assert conf.rsmq_settings().history.config() == h.HistoryConfig(True, 90, 48)
        assert history_errors() == []
    with override_settings(RSMQ={**rsmq_on_test_redis, "HISTORY": {"ENABLED": False}}):
        assert conf.rsmq_settings().history.config().enabled is False


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ({"MINUTES": 0}, "MINUTES must be a whole number"),
        ({"HOURS": "720"}, "HOURS must be a whole number"),
        ({"MINUTES": 1.5}, "MINUTES"),
        ({"ENABLED": "yes"}, "ENABLED must be True or False"),
    ],
)
def test_bad_values_are_e004_and_fall_back_to_the_defaults(
    rsmq_on_test_redis: dict[str, Any], raw: dict[str, Any], fragment: str
) -> None:
    with override_settings(RSMQ={**rsmq_on_test_redis, "HISTORY": raw}):
        errors = history_errors()
        assert [i for i, _ in errors] == ["django_rsmq.E004"]
        assert fragment in errors[0][1]
        assert conf.rsmq_settings().history.config() == h.HistoryConfig()


def test_unknown_history_key_is_e002(rsmq_on_test_redis: dict[str, Any]) -> None:
    with override_settings(RSMQ={**rsmq_on_test_redis, "HISTORY": {"MINUTE": 60}}):
        assert [i for i, _ in history_errors()] == ["django_rsmq.E002"]


def test_every_history_key_is_in_the_settings_reference() -> None:
    text = (DOCS / "django.md").read_text()
    assert "### `HISTORY`" in text
    assert all(f"`{k}`" in text for k in conf.HISTORY_KEYS)


@pytest.mark.django_db
def test_reading_stats_samples_the_history_once_a_minute(engine: RSMQ) -> None:
    engine.send("emails", "a")
    stats._SAMPLER = h.Sampler()  # a fresh process
    rsmq = get_rsmq()
    keys = rsmq.protocol.keys
    calls: list[int] = []
    original = h.sample

    def counting(*args: Any, **kwargs: Any) -> int:
        calls.append(1)
        return original(*args, **kwargs)

    h.sample = counting  # type: ignore[assignment]
    try:
        for _ in range(5):
            stats.collect()
    finally:
        h.sample = original  # type: ignore[assignment]
    assert len(calls) <= 2  # once, or twice when a minute turned during the loop
    points = h.read(rsmq.client, keys, "emails", conf.rsmq_settings().history.config(), count=3)
    assert points
    assert points[-1].sample.sent >= 1
    assert points[-1].sample.visible >= 1
    total = h.read(rsmq.client, keys, h.TOTAL, conf.rsmq_settings().history.config(), count=3)
    assert total
    assert total[-1].sample.sent >= points[-1].sample.sent


@pytest.mark.django_db
def test_history_disabled_writes_nothing(rsmq_on_test_redis: dict[str, Any], engine: RSMQ) -> None:
    stats._SAMPLER = h.Sampler()
    with override_settings(RSMQ={**rsmq_on_test_redis, "HISTORY": {"ENABLED": False}}):
        stats.collect()
        rsmq = get_rsmq()
        assert not rsmq.client.exists(rsmq.protocol.keys.history("emails", "m"))
