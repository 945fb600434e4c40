"""The deploy check of Sentinel connections (``manage.py check --deploy``): W019 / W020,
a group where acknowledged sends can be lost (docs/deployment.md, "Sentinel")."""

from __future__ import annotations

from typing import Any

from django.core.checks import CheckMessage, Tags, Warning, register
from django.core.exceptions import ImproperlyConfigured

from .checks import TAG, config_value
from .conf import rsmq_settings

__all__ = ["check_sentinel_deploy"]


def _config(client: Any, key: str) -> Any:
    return config_value(client.config_get(key), key)


@register(TAG, Tags.database, deploy=True)
def check_sentinel_deploy(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """W019/W020 (deploy): a Sentinel group where acknowledged sends can be lost.

    Reports the group in the message (master, replicas online, ``min-replicas-to-write``
    / ``min-replicas-max-lag`` on the master). W019: fewer than 2 replicas, or
    ``min-replicas-to-write 0`` (an isolated or about-to-be-replaced master keeps
    acknowledging writes that are thrown away). W020: a queue's ``DURABLE`` asks for
    more replicas than the master has (every durable send would fail).
    """
    import redis

    from .connections import get_rsmq

    try:
        cfg = rsmq_settings()
    except (ImproperlyConfigured, TypeError, ValueError):
        return []  # check_settings reports it
    out: list[CheckMessage] = []
    for alias, conn in sorted(cfg.connections.items()):
        if conn.kind != "sentinel":
            continue
        where = f"RSMQ['CONNECTIONS'][{alias!r}]"
        try:
            client = get_rsmq(alias).client
            info = client.info("replication")
            to_write = int(
                config_value(client.config_get("min-replicas-to-write"), "min-replicas-to-write")
                or 0
            )
            max_lag = int(
                config_value(client.config_get("min-replicas-max-lag"), "min-replicas-max-lag") or 0
            )
        except (redis.RedisError, OSError, ImproperlyConfigured, ValueError):
            continue  # E010 (check_deploy) reports an unreachable connection
        replicas = int(info.get("connected_slaves", 0))
        pool = client.connection_pool
        master = getattr(getattr(pool, "master_watch", None), "address", None)
        group = (
            f"Sentinel group {conn.master_name!r}: master {master[0]}:{master[1]}, "
            if master
            else f"Sentinel group {conn.master_name!r}: "
        ) + (
            f"{replicas} replica(s) online, min-replicas-to-write {to_write}, "
            f"min-replicas-max-lag {max_lag}"
        )
        if replicas < 2 or to_write < 1:
            out.append(
                Warning(
                    f"{where}: {group}: acknowledged sends can be lost in a failover "
                    "or a partition",
                    hint="Run at least 2 replicas with min-replicas-to-write 1 and "
                    "min-replicas-max-lag 10; see docs/deployment.md (Sentinel)",
                    obj=where,
                    id="django_rsmq.W019",
                )
            )
        for name, q in sorted(cfg.queues.items()):
            wanted = q.durable if isinstance(q.durable, int) else 0
            if q.connection == alias and wanted > replicas:
                out.append(
                    Warning(
                        f"RSMQ['QUEUES'][{name!r}]: DURABLE {wanted} but the master of "
                        f"{alias!r} has {replicas} replica(s) online: every send raises "
                        "SendNotConfirmed",
                        hint="Lower DURABLE or add replicas",
                        obj=name,
                        id="django_rsmq.W020",
                    )
                )
    return out
