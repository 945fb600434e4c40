"""Server-rendered SVG charts of the metrics history (no JavaScript, no CDN).

:func:`charts` turns :func:`django_rsmq.operations.history.series` into three charts for
``admin/django_rsmq/includes/chart.html``: throughput, depth and handler duration
(p50/p95/p99, from the consumers). One SVG path per line (broken at gaps), a y axis
rounded to 1/2/5 x 10^n, a ``<title>``/``<desc>`` that says what the chart shows in
words, and a table of the same numbers (the text alternative, behind a ``<details>``).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest

from ..engine.history import Point
from ..operations import history
from ..templatetags.rsmq_format import DASH, duration, rate, thousands

__all__ = ["Chart", "chart_context", "charts"]

W, H = 600, 170
LEFT, RIGHT, TOP, BOTTOM = 46, 8, 10, 22


@dataclass
class Line:
    label: str
    css: str  # rsmq-s1 / rsmq-s2 / rsmq-s3 (colours in base.html)
    path: str
    latest: str
    peak: str


@dataclass
class Chart:
    id: str
    title: str
    desc: str
    lines: list[Line]
    columns: list[str]
    rows: list[list[str]]
    y_ticks: list[tuple[float, str]]  # (svg y, label)
    x_ticks: list[tuple[float, str]]
    empty: bool
    width: int = W
    height: int = H
    plot: dict[str, float] = field(default_factory=dict)


def nice_max(v: float) -> float:
    """The smallest 1, 2 or 5 x 10^n at least ``v`` (1 for nothing)."""
    if v <= 0:
        return 1.0
    exp = math.floor(math.log10(v))
    for m in (1, 2, 5, 10):
        if m * 10**exp >= v:
            return float(m * 10**exp)
    return float(10 ** (exp + 1))  # pragma: no cover


def _label(at: float, span: str) -> str:
    d = datetime.fromtimestamp(at, UTC)
    return d.strftime("%H:%M") if span != "month" else d.strftime("%d %b")


def _chart(
    cid: str,
    title: str,
    points: list[Point],
    span: history.Range,
    specs: list[tuple[str, str, Any]],
    fmt: Any,
    now: float,
) -> Chart:
    end = now
    start = end - span.seconds
    pw, ph = W - LEFT - RIGHT, H - TOP - BOTTOM
    values = [[get(p) for p in points] for _, _, get in specs]
    top = nice_max(max((v for vs in values for v in vs if v is not None), default=0.0))
    gap = span.step * (60 if span.resolution == "m" else 3600) * 2.5

    def xy(at: float, v: float) -> str:
        x = LEFT + (at - start) / (end - start) * pw
        y = TOP + ph - (v / top) * ph
        return f"{x:.1f},{y:.1f}"

    lines = []
    for (label, css, _), vals in zip(specs, values, strict=True):
        parts: list[str] = []
        prev_at: float | None = None
        for p, v in zip(points, vals, strict=True):
            if v is None or p.at < start:
                prev_at = None
                continue
            cmd = "L" if prev_at is not None and p.at - prev_at <= gap else "M"
            parts.append(f"{cmd}{xy(p.at, v)}")
            prev_at = p.at
        known = [v for v in vals if v is not None]
        lines.append(
            Line(
                label=label,
                css=css,
                path=" ".join(parts),
                latest=fmt(known[-1]) if known else DASH,
                peak=fmt(max(known)) if known else DASH,
            )
        )
    y_ticks = [(TOP + ph - f * ph, fmt(top * f)) for f in (0, 0.5, 1)]
    x_ticks = [(LEFT + f * pw, _label(start + f * (end - start), span.name)) for f in (0, 0.5, 1)]
    summary = "; ".join(f"{ln.label}: now {ln.latest}, peak {ln.peak}" for ln in lines)
    empty = not any(ln.path for ln in lines)
    desc = (
        f"No history recorded over the {span.label} yet."
        if empty
        else f"{title} over the {span.label}, {len(points)} points. {summary}."
    )
    rows = [
        [_label(p.at, "day" if span.name != "month" else "month")]
        + [fmt(v) if v is not None else DASH for v in (get(p) for _, _, get in specs)]
        for p in points
    ]
    return Chart(
        id=cid,
        title=f"{title} ({span.label})",
        desc=desc,
        lines=lines,
        columns=["Time (UTC)"] + [label for label, _, _ in specs],
        rows=rows,
        y_ticks=y_ticks,
        x_ticks=x_ticks,
        empty=empty,
        plot={"left": LEFT, "top": TOP, "right": W - RIGHT, "bottom": H - BOTTOM},
    )


def charts(queue: str | None, span_name: str, *, now: float | None = None) -> list[Chart]:
    """Throughput and depth charts of ``queue`` (``None``: all queues) over a range of
    :data:`~django_rsmq.operations.history.RANGES` (an unknown name is ``hour``)."""
    span = history.RANGES.get(span_name) or history.RANGES["hour"]
    points = history.series(queue, span.name)
    if now is None:
        now = points[-1].at if points and points[-1].at > time.time() - 120 else time.time()
    prefix = f"rsmq-chart-{queue or 'all'}-{span.name}"
    throughput = _chart(
        f"{prefix}-throughput",
        "Throughput per minute",
        points,
        span,
        [
            ("Sent/min", "rsmq-s1", lambda p: p.sent_per_minute),
            ("Received/min", "rsmq-s2", lambda p: p.received_per_minute),
            ("Acked/min", "rsmq-s3", lambda p: p.acked_per_minute),
        ],
        rate,
        now,
    )
    depth = _chart(
        f"{prefix}-depth",
        "Queue depth",
        points,
        span,
        [
            ("Visible", "rsmq-s1", lambda p: float(p.sample.visible)),
            ("In flight", "rsmq-s2", lambda p: float(p.sample.in_flight)),
            ("Delayed", "rsmq-s3", lambda p: float(p.sample.delayed)),
        ],
        thousands,
        now,
    )
    durations = _chart(
        f"{prefix}-durations",
        "Handler duration",
        points,
        span,
        [
            ("p50", "rsmq-s1", lambda p: p.sample.p50),
            ("p95", "rsmq-s2", lambda p: p.sample.p95),
            ("p99", "rsmq-s3", lambda p: p.sample.p99),
        ],
        duration,
        now,
    )
    if queue is None:
        for c in (throughput, depth, durations):
            c.title = c.title.replace(" (", " of all queues (", 1)
    return [throughput, depth, durations]


def chart_context(request: HttpRequest, queue: str | None) -> dict[str, Any]:
    """What ``includes/chart.html`` needs: the charts of ``?range=`` and its links."""
    span = request.GET.get("range", "hour")
    if span not in history.RANGES:
        span = "hour"
    keep = {k: v for k, v in request.GET.items() if k not in ("range", "partial")}
    return {
        "charts": charts(queue, span),
        "chart_span": span,
        "chart_ranges": [
            {"name": r.name, "label": r.label, "url": "?" + urlencode({**keep, "range": r.name})}
            for r in history.RANGES.values()
        ],
    }
