"""PERMISSION_CHECK callables used by the tests (dotted paths in settings)."""

from __future__ import annotations

from django.http import HttpRequest


def view_only(request: HttpRequest, action: str) -> bool:
    return action == "view"


def everything(request: HttpRequest, action: str) -> bool:
    return True
