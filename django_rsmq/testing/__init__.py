"""Test helpers for django-rsmq and for projects that use it.

``redis_for_tests()`` gives a real Redis for a test session: the URL in
``$RSMQ_TEST_REDIS_URL`` if set, else a fresh ``redis-server`` on a free 127.0.0.1
port in a temporary directory. Without a binary the caller gets
:class:`~django_rsmq.engine.server.RedisServerNotFound` and decides (our pytest
fixture skips locally and fails under ``CI=true``).

``eager()``, ``drain(queue)`` and ``drain_outbox()`` are for tests of code that sends and handles
messages (see docs/django.md, "Testing your code"). ``isolated()``,
``IsolatedRSMQMixin``, ``IsolatedDiscoverRunner`` and the pytest plugin give each test its
own namespace, deleted after it.
"""

from .isolation import IsolatedDiscoverRunner, IsolatedRSMQMixin, flush_namespace, isolated
from .kit import DrainResult, drain, drain_outbox, eager
from .redis import TestRedis, redis_for_tests, unique_namespace

__all__ = [
    "DrainResult",
    "IsolatedDiscoverRunner",
    "IsolatedRSMQMixin",
    "TestRedis",
    "drain",
    "drain_outbox",
    "eager",
    "flush_namespace",
    "isolated",
    "redis_for_tests",
    "unique_namespace",
]
