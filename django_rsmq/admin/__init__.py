"""The RSMQ admin: dashboard, queue and message pages, DLQ and failed records,
consumers, ``stats.json`` and ``metrics`` (docs/admin.md).

Registered on ``django.contrib.admin.site`` when the admin autodiscovers this module
(turn off with ``RSMQ["ADMIN"]["ENABLED"] = False``). For a custom ``AdminSite``::

    from django_rsmq.admin import register
    register(my_site)
"""

from __future__ import annotations

from django.contrib import admin

from ..conf import rsmq_settings
from .options import QueueAdmin, register
from .permissions import ACTIONS, has_permission

__all__ = ["ACTIONS", "QueueAdmin", "has_permission", "register"]

if rsmq_settings().admin.enabled:
    register(admin.site)
