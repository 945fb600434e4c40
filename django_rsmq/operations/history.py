"""The stored metrics history by queue name (operator API over engine/history.py).

:func:`series` answers "what did this queue (or all queues) do over the last hour, day
or month": one :class:`~django_rsmq.engine.history.Point` per minute, per 10 minutes or
per 6 hours (:data:`RANGES`), oldest first, averaged from the stored records. Reading
costs one ``GETRANGE`` (two when the range wraps the ring) per connection.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields, replace

from ..conf import rsmq_settings
from ..connections import get_rsmq, rsmq_for_queue
from ..engine import history
from ..engine.history import Point, Sample

__all__ = ["RANGES", "Range", "series"]


@dataclass(frozen=True)
class Range:
    name: str
    label: str
    resolution: str  # "m" or "h" ring
    count: int  # records read
    step: int  # records per point shown

    @property
    def seconds(self) -> int:
        return self.count * (60 if self.resolution == "m" else 3600)


#: the ranges the charts offer
RANGES: dict[str, Range] = {
    r.name: r
    for r in (
        Range("hour", "last hour", "m", 60, 1),
        Range("day", "last day", "m", 1440, 10),
        Range("month", "last 30 days", "h", 720, 6),
    )
}

_RATES = ("sent", "received", "acked", "failed", "dead")


def _avg(values: list[float]) -> float:
    return round(sum(values) / len(values), 2)


def _combine(points: list[Point], at: float) -> Point:
    """Several points as one: rates and depths averaged, totals of the last."""
    if len(points) == 1:
        return replace(points[0], at=at)
    last = points[-1].sample
    depth = {
        name: int(_avg([getattr(p.sample, name) for p in points]))
        for name in ("visible", "in_flight", "delayed")
    }
    ages = [p.sample.oldest_age for p in points if p.sample.oldest_age is not None]
    p95s = [p.sample.p95 for p in points if p.sample.p95 is not None]
    values = {f.name: getattr(last, f.name) for f in fields(Sample)}
    values.update(depth, oldest_age=max(ages) if ages else None, p95=max(p95s) if p95s else None)
    sample = Sample(**values)
    rates: dict[str, float | None] = {}
    for name in _RATES:
        vals = [v for p in points if (v := getattr(p, f"{name}_per_minute")) is not None]
        rates[f"{name}_per_minute"] = _avg(vals) if vals else None
    return Point(at=at, sample=sample, **rates)


def downsample(points: list[Point], step: int, width: int) -> list[Point]:
    """Group ``points`` into buckets of ``step`` records of ``width`` seconds each."""
    if step <= 1:
        return points
    size = step * width
    groups: dict[int, list[Point]] = {}
    for p in points:
        groups.setdefault(int(p.at // size), []).append(p)
    return [_combine(g, k * size) for k, g in sorted(groups.items())]


def _sum(parts: Iterable[list[Point]]) -> list[Point]:
    """Points of several connections' totals added up by time."""
    by_at: dict[float, list[Point]] = {}
    for points in parts:
        for p in points:
            by_at.setdefault(p.at, []).append(p)
    out = []
    for at, ps in sorted(by_at.items()):
        if len(ps) == 1:
            out.append(ps[0])
            continue
        total = {
            f.name: sum(getattr(p.sample, f.name) or 0 for p in ps)
            for f in fields(Sample)
            if f.name not in ("oldest_age", "p50", "p95", "p99")
        }
        ages = [p.sample.oldest_age for p in ps if p.sample.oldest_age is not None]
        rates = {}
        for name in _RATES:
            vals = [v for p in ps if (v := getattr(p, f"{name}_per_minute")) is not None]
            rates[f"{name}_per_minute"] = round(sum(vals), 2) if vals else None
        sample = Sample(**total, oldest_age=max(ages) if ages else None)
        out.append(Point(at=at, sample=sample, **rates))
    return out


def series(queue: str | None = None, span: str = "hour") -> list[Point]:
    """The history of ``queue`` (``None``: all queues, every connection added up) over
    :data:`RANGES` ``span``, oldest first; empty when nothing was recorded yet."""
    rng = RANGES[span]
    cfg = rsmq_settings().history.config()
    width = 60 if rng.resolution == "m" else 3600
    if queue is not None:
        targets = [(rsmq_for_queue(queue), queue)]
    else:
        settings = rsmq_settings()
        aliases = sorted({q.connection for q in settings.queues.values()} or {"default"})
        seen: dict[tuple[int, str], object] = {}
        targets = []
        for alias in aliases:
            r = get_rsmq(alias)
            key = (id(r.client), r.namespace)
            if key not in seen:
                seen[key] = r
                targets.append((r, history.TOTAL))
    parts = [
        history.read(
            r.client,
            r.protocol.keys,
            name,
            cfg,
            resolution=rng.resolution,
            count=min(rng.count, (cfg.minutes if rng.resolution == "m" else cfg.hours) - 1),
        )
        for r, name in targets
    ]
    points = parts[0] if len(parts) == 1 else _sum(parts)
    return downsample(points, rng.step, width)
