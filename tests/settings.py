"""Django settings for the test suite (and for consumer subprocesses it starts).

The RSMQ connection and namespace come from ``RSMQ_TEST_URL`` / ``RSMQ_TEST_NAMESPACE``
so a consumer subprocess sees the same Redis and namespace as the test that started
it; in-process tests override ``RSMQ`` per test (see tests/django/conftest.py).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

BASE_DIR = Path(os.environ.get("RSMQ_TEST_BASE_DIR", Path(__file__).resolve().parent))
SECRET_KEY = "tests-only"
DEBUG = True
USE_TZ = True
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_rsmq",
    "tests.testapp",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
ROOT_URLCONF = "tests.urls"
TEMPLATES = [
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
]
STATIC_URL = "/static/"
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("RSMQ_TEST_DB", ":memory:"),
    }
}
# Databases a test adds at run time (tests/outbox/conftest.py: a file SQLite and a real
# PostgreSQL), handed to the relay subprocesses it starts.
DATABASES.update(json.loads(os.environ.get("RSMQ_TEST_EXTRA_DBS", "{}")))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
LOGGING_CONFIG = None


def queues() -> dict[str, dict[str, object]]:
    """The queues the test handlers (tests/testapp/handlers.py) consume."""
    return {
        "work": {"VISIBILITY_TIMEOUT": 1, "RETRY": [30], "REALTIME": True},
        "awork": {"VISIBILITY_TIMEOUT": 1, "RETRY": [30], "REALTIME": True},
        "flaky": {
            "VISIBILITY_TIMEOUT": 1,
            "MAX_RECEIVES": 3,
            "RETRY": [0],
            "DEAD_LETTER_QUEUE": "flaky-dlq",
        },
        "flaky-dlq": {},
        # Handler outcomes: a RETRY policy delay (30 s) that a Retry(delay=0) must beat.
        "outcomes": {
            "VISIBILITY_TIMEOUT": 30,
            "MAX_RECEIVES": 3,
            "RETRY": [30],
            "DEAD_LETTER_QUEUE": "outcomes-dlq",
        },
        "outcomes-dlq": {},
    }


def rsmq_setting(url: str | None, namespace: str, **extra: object) -> dict[str, object]:
    conns = {"default": {"URL": url}} if url else {}
    return {
        "CONNECTIONS": conns,
        "NAMESPACE": namespace,
        "QUEUES": queues(),
        "CONSUMER": {
            "HEARTBEAT_INTERVAL": 0.5,
            "REGISTRY_TTL": 5,
            "WAIT": 0.5,
            "POLL_INTERVAL": 0.2,
            "PROGRESS_INTERVAL": 1,
        },
        **extra,
    }


RSMQ = rsmq_setting(
    os.environ.get("RSMQ_TEST_URL", "redis://127.0.0.1:1/0"),
    os.environ.get("RSMQ_TEST_NAMESPACE", "tests"),
)
if os.environ.get("RSMQ_TEST_OUTBOX_DB"):  # tests/outbox: a consumer that relays the outbox
    RSMQ["QUEUES"] = {**queues(), "obx": {"OUTBOX": True}}
    RSMQ["OUTBOX"] = {
        "DATABASES": [os.environ["RSMQ_TEST_OUTBOX_DB"]],
        "POLL_INTERVAL": 0.2,
        "LEASE_TTL": 1,
    }
if os.environ.get("RSMQ_TEST_EMBEDDED"):
    RSMQ = rsmq_setting(None, os.environ.get("RSMQ_TEST_NAMESPACE", "tests"))

# Fast password hashing for the admin tests' users (tests only).
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
