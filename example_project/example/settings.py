"""Settings of the django-rsmq example project.

SQLite and the embedded Redis: no ``RSMQ["CONNECTIONS"]``, so the first process that
touches a queue starts one local ``redis-server`` on a unix socket with its data in
``example_project/.rsmq/`` (gitignored), and every other process (``runserver``,
``rsmq_consume``, ``shell``) uses the same one. Stop it with
``kill $(cat example_project/.rsmq/redis.pid)``.

Environment overrides (the tests use them; you do not need them):

- ``EXAMPLE_REDIS_URL``: use this Redis instead of the embedded one.
- ``EXAMPLE_RSMQ_NAMESPACE``: RSMQ key prefix (default ``rsmq``).
- ``EXAMPLE_DB``: path of the SQLite database (default ``example_project/db.sqlite3``).
"""

from __future__ import annotations

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent

SECRET_KEY = "example-project-only-not-a-secret"  # never reuse outside this demo
DEBUG = True
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_rsmq",
    "shop",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "example.urls"
WSGI_APPLICATION = "example.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("EXAMPLE_DB") or BASE_DIR / "db.sqlite3",
    }
}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
TIME_ZONE = "UTC"  # Django's default is America/Chicago (the admin showed "CST")
STATIC_URL = "static/"

# --- django-rsmq ---------------------------------------------------------------------

RSMQ = {
    # No "CONNECTIONS": the embedded Redis in BASE_DIR / ".rsmq" (see the docstring).
    "NAMESPACE": os.environ.get("EXAMPLE_RSMQ_NAMESPACE", "rsmq"),
    # Every queue: a failed message comes back after 5 s, 10 s, 20 s ... at most 5 min
    # (without RETRY or MAX_RECEIVES a failing message would come back at once, forever:
    # check django_rsmq.W003).
    "QUEUE_DEFAULTS": {"RETRY": {"BASE": 5, "FACTOR": 2, "MAX": 300, "JITTER": 0.1}},
    "QUEUES": {
        # Retries and a dead-letter queue: an order whose handler raises is retried;
        # after its 3rd failed delivery it moves to "orders-dlq" (see shop/handlers.py
        # for which orders fail). RETRY 0 retries at once so that `rsmq_consume --burst`
        # sees the whole story; in production use a back-off such as
        # {"BASE": 5, "FACTOR": 2, "MAX": 300, "JITTER": 0.1}.
        "orders": {
            "VISIBILITY_TIMEOUT": 30,
            "MAX_RECEIVES": 3,
            "DEAD_LETTER_QUEUE": "orders-dlq",
            "RETRY": 0,
        },
        "orders-dlq": {},
        # Delayed messages: each reminder becomes visible 60 s after it was sent,
        # unless the sender passes its own delay.
        "reminders": {"DELAY": 60},
        # Realtime: every send PUBLISHes, so a waiting consumer wakes at once (and
        # Node rsmq clients in realtime mode see the notifications too).
        "notifications": {"REALTIME": True},
    },
    "CONSUMER": {
        "PROGRESS_INTERVAL": 0.5,  # the demo is short: print progress often
    },
}
if os.environ.get("EXAMPLE_REDIS_URL"):
    RSMQ["CONNECTIONS"] = {"default": {"URL": os.environ["EXAMPLE_REDIS_URL"]}}
