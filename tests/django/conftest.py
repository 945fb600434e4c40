from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.test import override_settings

from django_rsmq.testing import TestRedis
from tests.settings import rsmq_setting


@pytest.fixture(autouse=True)
def rsmq_on_test_redis(test_redis: TestRedis, namespace: str) -> Iterator[dict[str, object]]:
    """Every Django test talks to the session Redis under its own namespace."""
    setting = rsmq_setting(test_redis.url, namespace)
    with override_settings(RSMQ=setting):
        yield setting
