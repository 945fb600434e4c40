"""The Django app: ``INSTALLED_APPS = [..., "django_rsmq"]``."""

from __future__ import annotations

from django.apps import AppConfig


class RSMQConfig(AppConfig):
    name = "django_rsmq"
    verbose_name = "RSMQ"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the system checks)
        from .handlers import autodiscover

        autodiscover()
