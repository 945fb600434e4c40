"""The RSMQ admin: dashboard, queue and message pages, DLQ and failed records,
consumers, ``stats.json`` and ``metrics`` (docs/admin.md).

The app registers it on ``django.contrib.admin.site`` at startup when
``django.contrib.admin`` is installed (turn off with ``RSMQ["ADMIN"]["ENABLED"] =
False``). For a custom ``AdminSite``::

    from django_rsmq.admin import register
    register(my_site)
"""

from __future__ import annotations

from .options import QueueAdmin, register
from .permissions import ACTIONS, has_permission

__all__ = ["ACTIONS", "QueueAdmin", "has_permission", "register"]
