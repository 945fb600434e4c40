"""Griffe extension for the API reference: the front ends' operations are defined once
(django_rsmq/engine/operation.py) and turned into methods when the classes are made,
which static analysis cannot see. For each class decorated with ``sync_front`` or
``async_front`` this gives every operation it has its own entry, returning what the
operation's work returns (``Work[str]`` -> ``str``), labelled ``async`` on the asyncio
front end; ``queue()`` returns the class's handle (its ``_handle``'s return type)."""

from __future__ import annotations

import re
from typing import Any

from griffe import Class, Extension, Function, Module, Object

WORK = re.compile(r"^(?:Work|Steps|Call)\[(.*)\]$")


def _classes(obj: Object) -> Any:
    for member in obj.members.values():
        if member.is_alias:
            continue
        if isinstance(member, Class):
            yield member
        if isinstance(member, (Module, Class)):
            yield from _classes(member)


def _front(cls: Class) -> str | None:
    for decorator in cls.decorators:
        name = str(decorator.value).rsplit(".", 1)[-1]
        if name in ("sync_front", "async_front"):
            return name
    return None


def _is_operation(fn: Function) -> bool:
    return any(str(d.value).rsplit(".", 1)[-1] == "operation" for d in fn.decorators)


class Operations(Extension):
    def on_package(self, *, pkg: Module, **kwargs: Any) -> None:
        for cls in list(_classes(pkg)):
            kind = _front(cls)
            if kind is None:
                continue
            handle = cls.members.get("_handle")
            for name, member in list(cls.all_members.items()):
                try:
                    target = member.final_target if member.is_alias else member
                except Exception:  # an alias that does not resolve: leave it
                    continue
                if not isinstance(target, Function):
                    continue
                if name == "queue" and isinstance(handle, Function):
                    method = self._copy(target, cls)
                    method.returns = handle.returns
                elif _is_operation(target):
                    method = self._copy(target, cls)
                    match = WORK.match(str(target.returns))
                    if match:
                        method.returns = match.group(1)
                    if kind == "async_front":
                        method.labels.add("async")
                else:
                    continue
                cls.set_member(name, method)

    @staticmethod
    def _copy(fn: Function, cls: Class) -> Function:
        method = Function(
            fn.name,
            lineno=fn.lineno,
            endlineno=fn.endlineno,
            parameters=fn.parameters,
            returns=fn.returns,
            docstring=fn.docstring,
        )
        method.labels = {label for label in fn.labels if label != "async"}
        method.parent = cls
        return method
