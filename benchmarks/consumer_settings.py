"""Django settings of ``benchmarks.consumer``'s prefork children (``BENCH_REDIS_URL``)."""

from __future__ import annotations

import os

SECRET_KEY = "benchmarks"
INSTALLED_APPS = ["django_rsmq", "benchmarks"]
DATABASES: dict[str, dict[str, str]] = {}
USE_TZ = True
RSMQ = {
    "CONNECTIONS": {"default": {"URL": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1")}},
    "NAMESPACE": "bench",
    "QUEUES": {"bench": {"VISIBILITY_TIMEOUT": 60}},
    "CONSUMER": {"WAIT": 0.2, "PROGRESS_INTERVAL": 3600},
}
