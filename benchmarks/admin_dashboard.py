"""The admin dashboard's server time with 1,000 queues (issue 16: under 300 ms).

``python -m benchmarks.admin_dashboard [admin_dashboard] URL`` prints one JSON object
(run by ``python -m benchmarks`` as the ``admin_dashboard`` measurement). It creates
1,000 queues (a message in every tenth), then renders the dashboard view in this process
(a ``RequestFactory`` request of a superuser, template rendered, no HTTP) 15 times and
reports the median and the slowest render in ms, and the render with a ``?q=`` filter.
The first render of a minute also stores the metrics history of every queue (two more
pipelines): ``sampling`` is one such render, timed apart. The floor is what the stats
cost Redis at least: one pipeline of 1,000 ``get_queue_attributes`` calls.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from typing import Any

import django
from django.conf import settings

QUEUES = 1_000
RENDERS = 15

# (label, measurement, key, unit, higher is better, target ratio): see run.py
ROWS: list[tuple[str, str, str | None, str, bool, float | None]] = [
    (
        "admin dashboard, 1,000 queues (median render) vs one pipelined attributes read",
        "admin_dashboard",
        "p50",
        "ms",
        False,
        None,
    ),
    (
        "admin dashboard, 1,000 queues (slowest of 15) vs one pipelined attributes read",
        "admin_dashboard",
        "max",
        "ms",
        False,
        None,
    ),
    (
        "admin dashboard, 1,000 queues, first render of a minute (history sampled)",
        "admin_dashboard",
        "sampling",
        "ms",
        False,
        None,
    ),
    (
        "admin dashboard, 1,000 queues, ?q= filter (median)",
        "admin_dashboard",
        "filtered",
        "ms",
        False,
        None,
    ),
]


def __getattr__(name: str) -> Any:
    """This module is also the benchmark's ROOT_URLCONF (built once Django is set up)."""
    if name == "urlpatterns":
        from django.contrib import admin
        from django.urls import path

        return [path("admin/", admin.site.urls)]
    raise AttributeError(name)


def _configure(url: str) -> None:
    settings.configure(
        DEBUG=False,
        SECRET_KEY="bench",
        ALLOWED_HOSTS=["*"],
        INSTALLED_APPS=[
            "django.contrib.admin",
            "django.contrib.auth",
            "django.contrib.contenttypes",
            "django.contrib.sessions",
            "django.contrib.messages",
            "django.contrib.staticfiles",
            "django_rsmq",
        ],
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
        ROOT_URLCONF=__name__,
        STATIC_URL="/static/",
        TEMPLATES=[
            {
                "BACKEND": "django.template.backends.django.DjangoTemplates",
                "APP_DIRS": True,
                "OPTIONS": {
                    "context_processors": [
                        "django.template.context_processors.request",
                        "django.contrib.auth.context_processors.auth",
                        "django.contrib.messages.context_processors.messages",
                    ]
                },
            }
        ],
        USE_TZ=True,
        RSMQ={"CONNECTIONS": {"default": {"URL": url}}, "NAMESPACE": "bench"},
    )
    django.setup()


def _fill() -> None:
    from django_rsmq.connections import get_rsmq

    mq = get_rsmq()
    mq.client.flushall()
    for i in range(QUEUES):
        mq.create_queue(f"q{i:04d}")
        if i % 10 == 0:
            mq.send(f"q{i:04d}", "x")


def _render(query: str = "") -> float:
    from django.contrib import admin
    from django.contrib.auth.models import User
    from django.test import RequestFactory

    from django_rsmq.admin import views
    from django_rsmq.models import Queue

    request = RequestFactory().get("/admin/django_rsmq/queue/" + query)
    request.user = User(username="bench", is_staff=True, is_superuser=True, is_active=True)
    view = views.DashboardView.as_view(model_admin=admin.site._registry[Queue])
    start = time.perf_counter()
    response = view(request)
    response.render()
    took = (time.perf_counter() - start) * 1000
    assert response.status_code == 200, response.status_code
    assert response.content.count(b"<tr data-queue=") >= (1 if query else QUEUES)
    return took


def _floor() -> float:
    from django_rsmq.connections import get_rsmq
    from django_rsmq.engine import history

    mq = get_rsmq()
    calls = [mq.protocol.get_queue_attributes(f"q{i:04d}") for i in range(QUEUES)]
    times = []
    for _ in range(5):
        start = time.perf_counter()
        history.run_pipeline(mq.client, calls)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main(argv: list[str]) -> int:
    url = next(a for a in argv if a != "admin_dashboard")
    _configure(url)
    _fill()
    from django_rsmq.engine import history
    from django_rsmq.operations import stats

    _render()  # warm-up: templates compiled, scripts loaded, this minute's history stored
    stats._SAMPLER = history.Sampler()  # as if the minute just turned
    sampling = _render()
    renders = [_render() for _ in range(RENDERS)]
    filtered = statistics.median(_render("?q=q09") for _ in range(5))
    floor = _floor()
    ours = {
        "p50": statistics.median(renders),
        "max": max(renders),
        "sampling": sampling,
        "filtered": filtered,
    }
    print(json.dumps({"ours": ours, "floor": dict.fromkeys(ours, floor)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
