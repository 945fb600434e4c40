"""The ``settings.RSMQ`` dict, read lazily into typed settings with defaults in code.

``rsmq_settings()`` parses the dict once and caches the result; the cache is dropped
on Django's ``setting_changed`` signal, so ``override_settings(RSMQ=...)`` works.
Parsing is lenient about values (the system checks in :mod:`django_rsmq.checks`
report bad ones with ids) but strict about shape: a ``RSMQ`` that is not a dict, or
a queue or connection that is not a dict, raises ``ImproperlyConfigured``.
:func:`declared_attributes` turns a declared queue into the engine's queue attributes.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver

from .engine.ratelimit import RateLimit
from .engine.reliability import default_dead_letter_queue
from .engine.retry import RetryPolicy
from .sections import (
    ADMIN_KEYS,
    CONSUMER_KEYS,
    HISTORY_KEYS,
    OUTBOX_KEYS,
    AdminSettings,
    ConsumerSettings,
    HistorySettings,
    OutboxSettings,
)
from .sections import admin as _admin
from .sections import consumer as _consumer
from .sections import history as _history
from .sections import outbox as _outbox

__all__ = [
    "ADMIN_KEYS",
    "CONNECTION_KEYS",
    "CONSUMER_KEYS",
    "HISTORY_KEYS",
    "OUTBOX_KEYS",
    "QUEUE_KEYS",
    "TOP_LEVEL_KEYS",
    "AdminSettings",
    "ConnectionSettings",
    "ConsumerSettings",
    "HistorySettings",
    "OutboxSettings",
    "QueueSettings",
    "RSMQSettings",
    "dead_letter_sources",
    "declared_attributes",
    "retry_policy",
    "rsmq_settings",
]

TOP_LEVEL_KEYS = frozenset(
    {
        "CONNECTIONS",
        "NAMESPACE",
        "SCHEDULE",
        "QUEUE_DEFAULTS",
        "QUEUES",
        "AUTODISCOVER_MODULES",
        "EAGER",
        "SERIALIZER",
        "EMBEDDED_DIR",
        "CONSUMER",
        "ADMIN",
        "API_TOKEN",
        "HISTORY",
        "OUTBOX",
    }
)

#: settings key -> QueueSettings field
QUEUE_KEYS: dict[str, str] = {
    "CONNECTION": "connection",
    "VISIBILITY_TIMEOUT": "vt",
    "DELAY": "delay",
    "MAX_SIZE": "maxsize",
    "MAX_RECEIVES": "max_receives",
    "DEAD_LETTER_QUEUE": "dead_letter_queue",
    "RETRY": "retry",
    "RETENTION": "retention",
    "RETENTION_ACTION": "retention_action",
    "MAX_MESSAGES": "max_messages",
    "DEDUP_WINDOW": "dedup_window",
    "FAILED_CAP": "failed_cap",
    "FAILED_TTL": "failed_ttl",
    "RATE_LIMIT": "rate_limit",
    "MAX_IN_FLIGHT": "max_in_flight",
    "REALTIME": "realtime",
    "SERIALIZER": "serializer",
    "AUTO_CREATE": "auto_create",
    "DURABLE": "durable",
    "DURABLE_TIMEOUT": "durable_timeout",
    "OUTBOX": "outbox",
}

#: settings key -> ConnectionSettings field
CONNECTION_KEYS: dict[str, str] = {
    "URL": "url",
    "USE_DJANGO_CACHE": "use_django_cache",
    "SENTINELS": "sentinels",
    "MASTER_NAME": "master_name",
    "SENTINEL_KWARGS": "sentinel_kwargs",
    "HOST": "host",
    "PORT": "port",
    "DB": "db",
    "USERNAME": "username",
    "PASSWORD": "password",
    "SSL": "ssl",
    "UNIX_SOCKET_PATH": "unix_socket_path",
    "SOCKET_TIMEOUT": "socket_timeout",
    "SOCKET_CONNECT_TIMEOUT": "socket_connect_timeout",
    "CLIENT_KWARGS": "client_kwargs",
    "POOL_KWARGS": "pool_kwargs",
    "EMBEDDED": "embedded",
    "DATA_DIR": "data_dir",
}


@dataclass(frozen=True)
class ConnectionSettings:
    """How to reach one Redis: exactly one of url / use_django_cache / sentinels /
    host / unix_socket_path / embedded is the way."""

    alias: str = "default"
    url: str | None = None
    use_django_cache: str | None = None
    sentinels: list[tuple[str, int]] | None = None
    master_name: str | None = None
    sentinel_kwargs: dict[str, Any] = field(default_factory=dict)
    host: str | None = None
    port: int = 6379
    db: int = 0
    username: str | None = None
    password: str | None = None
    ssl: bool = False
    unix_socket_path: str | None = None
    socket_timeout: float | None = None
    socket_connect_timeout: float | None = None
    client_kwargs: dict[str, Any] = field(default_factory=dict)
    pool_kwargs: dict[str, Any] = field(default_factory=dict)
    embedded: bool = False
    data_dir: str | None = None
    unknown_keys: tuple[str, ...] = ()

    @classmethod
    def from_url(cls, url: str, *, alias: str = "default", **kwargs: Any) -> ConnectionSettings:
        """Settings for a ``redis://``, ``rediss://`` or ``unix://`` URL."""
        return cls(alias=alias, url=url, **kwargs)

    @classmethod
    def from_dict(cls, alias: str, raw: Any) -> ConnectionSettings:
        if isinstance(raw, str):
            return cls.from_url(raw, alias=alias)
        if not isinstance(raw, dict):
            raise ImproperlyConfigured(
                f"RSMQ['CONNECTIONS'][{alias!r}] must be a URL string or a dict, got {raw!r}"
            )
        known = {CONNECTION_KEYS[k]: v for k, v in raw.items() if k in CONNECTION_KEYS}
        unknown = tuple(sorted(str(k) for k in raw if k not in CONNECTION_KEYS))
        if known.get("sentinels") is not None:
            known["sentinels"] = [tuple(s) for s in known["sentinels"]]
        return cls(alias=alias, unknown_keys=unknown, **known)

    @property
    def kind(self) -> str:
        """``url``, ``django_cache``, ``sentinel``, ``params`` or ``embedded``."""
        if self.url:
            return "url"
        if self.use_django_cache:
            return "django_cache"
        if self.sentinels:
            return "sentinel"
        if self.host or self.unix_socket_path:
            return "params"
        return "embedded"

    def display(self) -> str:
        """Where it points, without credentials (for logs and listings)."""
        if self.kind == "url" and self.url:
            parts = urlsplit(self.url)
            host = parts.hostname or ""
            where = f"{host}:{parts.port}" if parts.port else host
            return f"{parts.scheme}://{where}{parts.path}"
        if self.kind == "django_cache":
            return f"django cache {self.use_django_cache!r}"
        if self.kind == "sentinel":
            return f"sentinel master {self.master_name!r}"
        if self.kind == "params":
            return self.unix_socket_path or f"{self.host}:{self.port}/{self.db}"
        return f"embedded ({self.data_dir})"


@dataclass(frozen=True)
class QueueSettings:
    """One declared queue: QUEUE_DEFAULTS merged with its own entry in QUEUES."""

    name: str
    connection: str = "default"
    vt: Any = 30
    delay: Any = 0
    maxsize: Any = 65536
    max_receives: Any = None
    dead_letter_queue: Any = None
    retry: Any = None
    retention: Any = None
    retention_action: Any = None
    max_messages: Any = None
    dedup_window: Any = None
    failed_cap: Any = None
    failed_ttl: Any = None
    rate_limit: Any = None  # "100/s", "600/m", "100/s burst 20" or a dict (RateLimit.parse)
    max_in_flight: Any = None  # most messages held at once by all consumers (int >= 1)
    realtime: Any = False
    serializer: Any = None
    auto_create: Any = True
    durable: Any = 0  # sends wait for this many replicas (WAIT); docs/deployment.md
    durable_timeout: Any = None  # seconds (default 1)
    outbox: Any = False  # send() inside transaction.atomic() writes an outbox row
    unknown_keys: tuple[str, ...] = ()

    @property
    def dlq(self) -> str | None:
        """The dead-letter queue messages go to: DEAD_LETTER_QUEUE, else (with
        MAX_RECEIVES) the engine's default ``<name>-dlq``, else none."""
        if self.dead_letter_queue:
            return str(self.dead_letter_queue)
        if self.max_receives:
            return default_dead_letter_queue(self.name)
        return None


@dataclass(frozen=True)
class RSMQSettings:
    connections: dict[str, ConnectionSettings]
    namespace: str = "rsmq"
    queue_defaults: dict[str, Any] = field(default_factory=dict)
    queues: dict[str, QueueSettings] = field(default_factory=dict)
    autodiscover_modules: tuple[str, ...] = ("handlers",)
    eager: bool = False
    serializer: str | None = None
    embedded_dir: str = ".rsmq"
    consumer: ConsumerSettings = field(default_factory=ConsumerSettings)
    admin: AdminSettings = field(default_factory=AdminSettings)
    history: HistorySettings = field(default_factory=HistorySettings)
    outbox: OutboxSettings = field(default_factory=OutboxSettings)
    api_token: str | None = None  # bearer token for stats.json / metrics
    unknown_keys: tuple[str, ...] = ()
    raw: dict[str, Any] = field(default_factory=dict)
    #: undeclared dead-letter queues named by DEAD_LETTER_QUEUE -> their queues' connection
    dlq_homes: dict[str, str] = field(default_factory=dict)

    @property
    def outbox_used(self) -> bool:
        """Whether a declared queue (or QUEUE_DEFAULTS) has ``OUTBOX: True``."""
        return bool(self.queue_defaults.get("OUTBOX")) or any(
            q.outbox is True for q in self.queues.values()
        )

    @property
    def relay_wanted(self) -> bool:
        """Whether ``rsmq_consume`` runs a relay thread unless ``--no-relay``."""
        relay = self.outbox.relay
        return self.outbox_used if relay is None else relay is True

    def queue(self, name: str) -> QueueSettings:
        """The declared queue, or the defaults for an undeclared name. A dead-letter
        queue lives where its queue lives: an undeclared one (``<name>-dlq`` or a
        DEAD_LETTER_QUEUE not in QUEUES), and a declared one without a CONNECTION of
        its own, are on the connection of the queue that dead-letters into it."""
        found = self.queues.get(name)
        if found is not None:
            return found
        q = _queue(name, {}, self.queue_defaults, self.serializer)
        home = self._home(name)
        return replace(q, connection=home) if home is not None else q

    def _home(self, name: str) -> str | None:
        """The connection of the queue whose undeclared DLQ ``name`` is (or ``None``)."""
        home = self.dlq_homes.get(name)
        if home is not None:
            return home
        suffix = default_dead_letter_queue("")
        if name.endswith(suffix) and len(name) > len(suffix):
            source = self.queue(name[: -len(suffix)])  # shorter name: the recursion ends
            if source.dlq == name:
                return source.connection
        return None


def _default_embedded_dir() -> str:
    base = getattr(settings, "BASE_DIR", None)
    return str(Path(base) / ".rsmq") if base else str(Path.cwd() / ".rsmq")


def _queue(
    name: str, raw: dict[str, Any], defaults: dict[str, Any], serializer: str | None
) -> QueueSettings:
    merged = {**defaults, **raw}
    known = {QUEUE_KEYS[k]: v for k, v in merged.items() if k in QUEUE_KEYS}
    known.setdefault("serializer", serializer)
    unknown = tuple(sorted(str(k) for k in merged if k not in QUEUE_KEYS))
    return QueueSettings(name=name, unknown_keys=unknown, **known)


def _dict(raw: Any, where: str) -> dict[str, Any]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ImproperlyConfigured(f"{where} must be a dict, got {type(raw).__name__}")
    return raw


def dead_letter_sources(queues: dict[str, QueueSettings]) -> dict[str, dict[str, str]]:
    """``{dlq: {source queue: its connection}}`` for every declared queue with a DLQ
    (other than itself)."""
    out: dict[str, dict[str, str]] = {}
    for name, q in sorted(queues.items()):
        dlq = q.dlq
        if dlq and dlq != name:
            out.setdefault(dlq, {})[name] = q.connection
    return out


def _place_dead_letter_queues(
    queues: dict[str, QueueSettings], raw_queues: dict[str, Any]
) -> dict[str, str]:
    """Put each DLQ on its queues' connection (the engine dead-letters on the queue's
    own server): a declared DLQ without a CONNECTION of its own (QUEUE_DEFAULTS does
    not count) takes it, in ``queues``; an undeclared one is returned
    ``{dlq: connection}``. Only when all the queues feeding a DLQ agree; the system
    check reports the rest (``django_rsmq.E009``). Chains (a DLQ with a DLQ) follow."""
    inherits = {
        name
        for name in queues
        if not (isinstance(raw_queues.get(name), dict) and "CONNECTION" in raw_queues[name])
    }
    for _ in range(len(queues) + 1):  # each round settles one more link of a chain
        changed = False
        for dlq, conn in _agreed(queues).items():
            if dlq in inherits and queues[dlq].connection != conn:
                queues[dlq] = replace(queues[dlq], connection=conn)
                changed = True
        if not changed:
            break
    return {dlq: conn for dlq, conn in _agreed(queues).items() if dlq not in queues}


def _agreed(queues: dict[str, QueueSettings]) -> dict[str, str]:
    """``{dlq: connection}`` for the DLQs whose queues are all on one connection."""
    out = {}
    for dlq, sources in dead_letter_sources(queues).items():
        conns = set(sources.values())
        if len(conns) == 1:
            out[dlq] = conns.pop()
    return out


def parse(raw: Any) -> RSMQSettings:
    """Turn a ``settings.RSMQ`` value into :class:`RSMQSettings`."""
    top = _dict(raw, "settings.RSMQ")
    embedded_dir = str(top.get("EMBEDDED_DIR") or _default_embedded_dir())
    conns_raw = _dict(top.get("CONNECTIONS"), "RSMQ['CONNECTIONS']")
    connections = {
        str(alias): ConnectionSettings.from_dict(str(alias), value)
        for alias, value in conns_raw.items()
    }
    if not connections:
        connections["default"] = ConnectionSettings(alias="default", embedded=True)
    for alias, conn in list(connections.items()):
        if conn.kind == "embedded":
            connections[alias] = replace(
                conn, embedded=True, data_dir=str(conn.data_dir or embedded_dir)
            )
    defaults = _dict(top.get("QUEUE_DEFAULTS"), "RSMQ['QUEUE_DEFAULTS']")
    serializer = top.get("SERIALIZER")
    queues = {
        str(name): _queue(str(name), _dict(q, f"RSMQ['QUEUES'][{name!r}]"), defaults, serializer)
        for name, q in _dict(top.get("QUEUES"), "RSMQ['QUEUES']").items()
    }
    homes = _place_dead_letter_queues(queues, _dict(top.get("QUEUES"), "RSMQ['QUEUES']"))
    modules = top.get("AUTODISCOVER_MODULES", ["handlers"])
    if isinstance(modules, str):
        modules = [modules]
    consumer = _consumer(_dict(top.get("CONSUMER"), "RSMQ['CONSUMER']"))
    admin = _admin(_dict(top.get("ADMIN"), "RSMQ['ADMIN']"))
    history = _history(_dict(top.get("HISTORY"), "RSMQ['HISTORY']"))
    outbox = _outbox(_dict(top.get("OUTBOX"), "RSMQ['OUTBOX']"))
    token = top.get("API_TOKEN")
    return RSMQSettings(
        connections=connections,
        namespace=str(top.get("NAMESPACE", "rsmq")),
        queue_defaults=defaults,
        queues=queues,
        autodiscover_modules=tuple(str(m) for m in modules or ()),
        eager=bool(top.get("EAGER", False)),
        serializer=serializer,
        embedded_dir=embedded_dir,
        consumer=consumer,
        admin=admin,
        history=history,
        outbox=outbox,
        api_token=str(token) if token else None,
        unknown_keys=tuple(sorted(str(k) for k in top if k not in TOP_LEVEL_KEYS)),
        raw=top,
        dlq_homes=homes,
    )


#: QueueSettings field -> engine attribute / create_queue keyword
_ATTRIBUTES = (
    "vt",
    "delay",
    "maxsize",
    "max_receives",
    "dead_letter_queue",
    "retry",
    "retention",
    "retention_action",
    "max_messages",
    "dedup_window",
    "failed_cap",
    "failed_ttl",
    "rate_limit",
    "max_in_flight",
)


def retry_policy(value: Any) -> Any:
    """The engine's ``RetryPolicy`` for a ``RETRY`` setting: seconds, a list of seconds
    (``RetryPolicy.fixed``), ``{"BASE", "FACTOR", "MAX", "JITTER"}``
    (``RetryPolicy.exponential``) or a ``RetryPolicy``. Raises ``InvalidValue``."""
    if value is None or isinstance(value, RetryPolicy):
        return value
    if isinstance(value, list | tuple):
        return RetryPolicy.fixed(*value)
    if isinstance(value, dict):
        return RetryPolicy.exponential(
            base=value.get("BASE", 1),
            factor=value.get("FACTOR", 2),
            max=value.get("MAX", 300),
            jitter=value.get("JITTER", 0),
        )
    return RetryPolicy.fixed(value)


def declared_attributes(q: QueueSettings) -> dict[str, Any]:
    """Engine attributes of a declared queue (``None`` = not set, engine default)."""
    out: dict[str, Any] = {}
    for name in _ATTRIBUTES:
        value = getattr(q, name)
        if value is not None:
            if name == "retry":
                value = retry_policy(value)
            elif name == "rate_limit":
                value = RateLimit.parse(value)
            out[name] = value
    return out


_cached: RSMQSettings | None = None


def rsmq_settings() -> RSMQSettings:
    """The parsed ``settings.RSMQ`` (cached until a ``setting_changed`` for it)."""
    global _cached
    if _cached is None:
        _cached = parse(getattr(settings, "RSMQ", None))
    return _cached


def reload() -> None:
    """Forget the parsed settings (the engine objects built from them are dropped by
    :mod:`django_rsmq.connections`, on the same ``setting_changed``)."""
    global _cached
    _cached = None


#: the Django settings the parsed settings (and the engine objects) are built from
SOURCE_SETTINGS = frozenset({"RSMQ", "BASE_DIR", "CACHES"})


@receiver(setting_changed)
def _on_setting_changed(*, setting: str, **kwargs: Any) -> None:
    if setting in SOURCE_SETTINGS:
        reload()
