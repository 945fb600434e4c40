"""The Django app: ``INSTALLED_APPS = [..., "django_rsmq"]``."""

from __future__ import annotations

from django.apps import AppConfig


class RSMQConfig(AppConfig):
    name = "django_rsmq"
    verbose_name = "RSMQ"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import checks, sentinel_checks  # noqa: F401  (register the system checks)
        from .consumer import eager
        from .handlers import autodiscover
        from .outbox import checks as outbox_checks  # noqa: F401  (the outbox's checks)
        from .periodic import checks as periodic_checks  # noqa: F401
        from .tasks.registration import sync_handlers

        eager.install()  # RSMQ["EAGER"]: send() runs handlers inline
        autodiscover()
        sync_handlers()  # task handlers for TASKS backends of ours (after the @handlers)
        self.register_admin()

    def register_admin(self) -> None:
        """Put the RSMQ pages on ``django.contrib.admin.site`` (docs/admin.md)."""
        from django.apps import apps

        from .conf import rsmq_settings

        if apps.is_installed("django.contrib.admin") and rsmq_settings().admin.enabled:
            from django.contrib import admin

            from .admin import register

            register(admin.site)
