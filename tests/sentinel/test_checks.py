"""``check --deploy`` reports the Sentinel group and warns where sends can be lost."""

from __future__ import annotations

from django.test import override_settings

from django_rsmq.sentinel_checks import check_sentinel_deploy
from tests.settings import rsmq_setting

from .group import SERVICE, SentinelGroup


def _settings(group: SentinelGroup, namespace: str, **queues: dict[str, object]) -> object:
    s = rsmq_setting(None, namespace)
    s["CONNECTIONS"] = {"default": {"SENTINELS": group.addresses, "MASTER_NAME": SERVICE}}
    s["QUEUES"] = {**s["QUEUES"], **queues}  # type: ignore[dict-item]
    return s


def test_no_min_replicas_to_write_is_w018(
    calm_sentinel_group: SentinelGroup, namespace: str
) -> None:
    with override_settings(RSMQ=_settings(calm_sentinel_group, namespace, safe={"DURABLE": 3})):
        found = {m.id: m.msg for m in check_sentinel_deploy()}
    assert "2 replica(s) online, min-replicas-to-write 0" in found["django_rsmq.W019"]
    assert "DURABLE 3" in found["django_rsmq.W020"]


def test_a_guarded_group_is_quiet(strict_sentinel_group: SentinelGroup, namespace: str) -> None:
    with override_settings(RSMQ=_settings(strict_sentinel_group, namespace, safe={"DURABLE": 1})):
        assert check_sentinel_deploy() == []
