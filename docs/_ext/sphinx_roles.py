"""Griffe extension for the API reference: docstrings use Sphinx roles
(``:meth:`~RSMQ.close```), which mkdocstrings would print as they are. Each role becomes
inline code with the name Sphinx would show (``~`` keeps the last part of the path)."""

from __future__ import annotations

import re
from typing import Any

from griffe import Extension, Object

ROLE = re.compile(r":(?:py:)?(?:meth|class|func|attr|data|exc|mod|obj|const):`(~?)([^`]+)`")


def _show(match: re.Match[str]) -> str:
    short, target = match.groups()
    name = target.rsplit(".", 1)[-1] if short else target
    return f"`{name}`"


class SphinxRoles(Extension):
    def on_instance(self, *, obj: Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = ROLE.sub(_show, obj.docstring.value)
