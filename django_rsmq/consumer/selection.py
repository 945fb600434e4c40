"""Which queues a consumer serves, in what order, and how they are grouped into fetchers.

:func:`queue_order` reads the queues as given (``"critical:5"`` strings, or a mapping
of names to weights) and ``--strict`` into a :class:`QueueOrder`: the names, and how a
fetcher orders them per receive (:meth:`QueueOrder.picker`). :func:`resolve_queues`
turns those names and ``--exclude`` into the queues to consume (every declared queue
with a handler by default), with a :class:`~.exitcodes.ConsumerError` that says what to
fix. :func:`fetch_groups` connects, creates missing queues (``AUTO_CREATE``) and groups
the queues by connection, visibility timeout and serializer: one fetcher per group.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import redis
from django.core.exceptions import ImproperlyConfigured

from ..conf import rsmq_settings
from ..connections import get_rsmq
from ..engine.errors import QueueNotFound, RSMQError
from ..engine.server import RedisServerNotFound
from ..handlers import Handler, registry
from ..operations.queues import ensure_queue
from .exitcodes import ConsumerError, ExitCode

__all__ = [
    "FetchGroups",
    "QueueOrder",
    "fetch_groups",
    "parse_queue_spec",
    "queue_order",
    "resolve_queues",
]

#: (connection alias, visibility timeout, serializer) -> the queues one fetcher serves
FetchGroups = dict[tuple[str, float, Any], list[str]]


def _weight_error(spec: str) -> str:
    return f"bad queue weight in {spec!r}: write QUEUE or QUEUE:WEIGHT, WEIGHT a whole number >= 1"


def parse_queue_spec(spec: str) -> tuple[str, int | None]:
    """``"critical:5"`` → ``("critical", 5)``, ``"default"`` → ``("default", None)``;
    a :class:`ValueError` (one line, naming the argument) for a bad weight. Queue
    names cannot contain ``:``, so the split is unambiguous."""
    name, sep, weight = spec.partition(":")
    if not sep:
        return spec, None
    if not name or not (weight.isascii() and weight.isdigit()) or int(weight) < 1:
        raise ValueError(_weight_error(spec))
    return name, int(weight)


def _check_weight(name: str, weight: object) -> int:
    if isinstance(weight, bool) or not isinstance(weight, int) or weight < 1:
        raise ValueError(_weight_error(f"{name}:{weight}"))
    return weight


@dataclass(frozen=True)
class QueueOrder:
    """The queues asked for, in order, and how each receive orders them.

    ``weights`` (every queue's, 1 where none was given) when any queue had one;
    ``strict``: always in the given order; neither: round robin, as before.
    """

    names: list[str]
    weights: dict[str, int] | None = None
    strict: bool = False

    def describe(self, consumed: Sequence[str]) -> str:
        """For the start-up line (``consumed``: the queues left after ``--exclude``):
        ``""`` for round robin."""
        if self.strict:
            return "strict order"
        if self.weights is not None:
            return "weighted " + " ".join(f"{q}:{self.weights[q]}" for q in consumed)
        return ""

    def picker(
        self, queues: Sequence[str], rng: random.Random | None = None
    ) -> Callable[[], list[str]] | None:
        """The order of one fetcher's ``queues`` for its next receive, as a function
        called once per receive (``None``: let the engine rotate, round robin).

        Weighted: a queue comes first with probability weight / sum of the group's
        weights, the next among the rest likewise, and so on (Sidekiq's weighted
        random order; each key is an exponential variate with rate = weight, the
        smallest first): under backlog the shares of the receives follow the weights,
        and no queue starves.
        """
        queues = list(queues)
        if self.strict or len(queues) < 2:
            return (lambda: queues) if self.strict else None
        if self.weights is None:
            return None
        rates = [float(self.weights.get(q, 1)) for q in queues]
        pairs = list(zip(queues, rates, strict=True))
        rand = (rng or random.Random()).random
        log = math.log

        def order() -> list[str]:
            keyed = sorted((-log(1.0 - rand()) / r, q) for q, r in pairs)
            return [q for _, q in keyed]

        return order


def queue_order(
    queues: Sequence[str] | Mapping[str, int] | None, *, strict: bool = False
) -> QueueOrder:
    """The :class:`QueueOrder` of ``Consumer(queues=..., strict=...)``: names (with an
    optional ``:WEIGHT``) or a mapping ``{name: weight}``; a :class:`ConsumerError` for
    a bad weight, or weights together with ``strict``."""
    weights: dict[str, int] = {}
    names: list[str] = []
    try:
        if isinstance(queues, Mapping):
            for name, weight in queues.items():
                names.append(name)
                weights[name] = _check_weight(name, weight)
        elif isinstance(queues, str):
            raise ValueError(f"queues must be a list of queue names, not one str: {queues!r}")
        else:
            for spec in queues or ():
                name, given = parse_queue_spec(spec)
                names.append(name)
                if given is not None:
                    weights[name] = given
    except ValueError as exc:
        raise ConsumerError(str(exc), ExitCode.CONFIG_ERROR) from None
    if strict and weights:
        raise ConsumerError(
            "--strict orders the queues as given: drop the weights, or drop --strict "
            "for weighted order",
            ExitCode.CONFIG_ERROR,
        )
    if strict and not names:
        raise ConsumerError(
            "--strict needs the queues named, highest priority first", ExitCode.CONFIG_ERROR
        )
    if not weights:
        return QueueOrder(names, strict=strict)
    return QueueOrder(names, {q: weights.get(q, 1) for q in names})


def resolve_queues(requested: Sequence[str], exclude: Sequence[str]) -> list[str]:
    cfg = rsmq_settings()
    handlers = registry.all()
    names = list(requested) or sorted(q for q in cfg.queues if q in handlers)
    unknown = [q for q in exclude if q not in names]
    if unknown:
        raise ConsumerError(
            f"--exclude names queue(s) that would not be consumed anyway: "
            f"{', '.join(unknown)} (consumed: {', '.join(names) or 'none'})",
            ExitCode.CONFIG_ERROR,
        )
    names = [q for q in names if q not in exclude]
    if not names:
        raise ConsumerError(
            "Nothing to consume: no declared queue in RSMQ['QUEUES'] has a handler"
            + (
                " (all excluded)"
                if exclude
                else f" (handlers are found in each installed app's "
                f"{' / '.join(cfg.autodiscover_modules)}.py: is your app in "
                'INSTALLED_APPS and its handlers decorated with @handler("QUEUE")?)'
            ),
            ExitCode.CONFIG_ERROR,
        )
    missing = [q for q in names if q not in handlers]
    if missing:
        raise ConsumerError(
            f"No @handler registered for queue(s) {', '.join(missing)} "
            f"(registered: {', '.join(sorted(handlers)) or 'none'})",
            ExitCode.CONFIG_ERROR,
        )
    return names


def fetch_groups(names: Sequence[str], handlers: dict[str, Handler]) -> FetchGroups:
    """Connect, create missing queues, and group ``names`` for the fetchers; a
    :class:`ConsumerError` (config or connection) when that cannot be done."""
    cfg = rsmq_settings()
    groups: FetchGroups = {}
    try:
        for qname in names:
            q = cfg.queue(qname)
            if q.connection not in cfg.connections:
                raise ConsumerError(
                    f"Queue {qname!r} uses unknown connection {q.connection!r}",
                    ExitCode.CONFIG_ERROR,
                )
            rsmq = get_rsmq(q.connection)
            if q.auto_create:
                ensure_queue(qname, rsmq)
            vt = handlers[qname].visibility_timeout
            if vt is None:
                vt = rsmq.get_queue_attributes(qname).vt
            key = (q.connection, float(vt), q.serializer or cfg.serializer)
            groups.setdefault(key, []).append(qname)
    except QueueNotFound as exc:
        raise ConsumerError(
            f"{exc} (create it with `manage.py rsmq_queues sync` or set AUTO_CREATE)",
            ExitCode.CONFIG_ERROR,
        ) from exc
    except (redis.ConnectionError, redis.TimeoutError, OSError, RedisServerNotFound) as exc:
        raise ConsumerError(f"Cannot reach Redis: {exc}", ExitCode.CONNECTION_ERROR) from exc
    except (RSMQError, ImproperlyConfigured) as exc:
        raise ConsumerError(str(exc), ExitCode.CONFIG_ERROR) from exc
    return groups
