"""Who may do what in the RSMQ admin.

Every view checks its action here (buttons are only hidden as a courtesy). The
default check is: an active staff user with the model permission below. Set
``RSMQ["ADMIN"]["PERMISSION_CHECK"]`` to the dotted path of a callable
``check(request, action) -> bool`` to decide yourself (staff is still required).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.utils.module_loading import import_string

from ..conf import rsmq_settings

__all__ = ["ACTIONS", "allowed", "has_permission", "require"]

#: action -> permission codename (app label ``django_rsmq``)
ACTIONS: dict[str, str] = {
    "view": "view_queue",
    "requeue": "requeue_message",
    "delete": "delete_message",
    "purge": "purge_queue",
    "change": "change_queue_attributes",
    "send": "send_message",
}


def _is_staff(user: Any) -> bool:
    return bool(user is not None and user.is_active and user.is_staff)


def has_permission(request: HttpRequest, action: str) -> bool:
    """May ``request.user`` do ``action`` (a key of :data:`ACTIONS`)?"""
    if action not in ACTIONS:
        raise ValueError(f"unknown RSMQ admin action {action!r}")
    user = getattr(request, "user", None)
    if not _is_staff(user):
        return False
    check = rsmq_settings().admin.permission_check
    if check:
        return bool(import_string(check)(request, action))
    assert user is not None
    return bool(user.has_perm(f"django_rsmq.{ACTIONS[action]}"))


def require(request: HttpRequest, *actions: str) -> None:
    """Raise ``PermissionDenied`` (403) unless every action is allowed."""
    for action in actions:
        if not has_permission(request, action):
            raise PermissionDenied(f"RSMQ admin: {action} not permitted")


def allowed(request: HttpRequest) -> dict[str, bool]:
    """``{action: bool}`` for templates (to show only the buttons that would work)."""
    return {action: has_permission(request, action) for action in ACTIONS}
