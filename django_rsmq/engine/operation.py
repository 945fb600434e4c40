"""One definition per operation for both front ends.

An operation is written once, sans-I/O, as a function that returns the work to do: a
:class:`~django_rsmq.engine.protocol.Call` (the common case: one script call), or a
generator (:data:`Steps`) that yields steps and is sent each step's result:

- a :class:`~django_rsmq.engine.protocol.Call` — run it, send back its parsed result;
- the long-poll steps of :mod:`django_rsmq.engine.longpoll` (``Run``, ``Listen``,
  ``Sleep``);
- :class:`Durable` — a send followed by ``WAIT`` on the same connection;
- :class:`Command` — a plain Redis command (its raw reply is sent back).

:class:`Then` (one call and a function of its result) covers the operations that only
pick from a call's result, without the cost of a generator.

:func:`operation` marks such a function; :func:`sync_front` and :func:`async_front`
(class decorators) turn every operation a class has into a method of that class: a
plain method on the sync front end, a coroutine method on the asyncio one, with the
operation's name, docstring and signature (its return annotation unwrapped from
``Work[...]``). For type checkers the :class:`Operation` descriptor says the same:
``RSMQ.send`` is ``(qname, body, ...) -> str``, ``AsyncRSMQ.send`` returns an
``Awaitable[str]``. Only the driving of the steps (blocking or ``await``) is written
per front end (engine/runner.py, engine/aio/runner.py).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable, Generator
from dataclasses import dataclass
from typing import Any, Concatenate, Generic, ParamSpec, TypeAlias, TypeVar, overload

from .protocol import Call

__all__ = [
    "AsyncFront",
    "Command",
    "Durable",
    "Operation",
    "Otherwise",
    "Stepper",
    "Steps",
    "SyncFront",
    "Then",
    "Work",
    "async_front",
    "operation",
    "steps",
    "sync_front",
]

P = ParamSpec("P")
S = TypeVar("S")
T = TypeVar("T")
C = TypeVar("C", bound=type)

R = TypeVar("R")

Steps: TypeAlias = Generator[Any, Any, T]
Work: TypeAlias = "Call[T] | Then[Any, T] | Otherwise[Any, T] | Steps[T]"


class Then(Generic[R, T]):
    """One call, its parsed result passed through ``post`` (e.g. the first of a list):
    nearly as cheap as a bare :class:`Call`, no generator to drive. (A plain class: a
    frozen dataclass's ``__init__`` costs more than the rest of it.)"""

    __slots__ = ("call", "post")

    def __init__(self, call: Call[R], post: Callable[[R], T]) -> None:
        self.call = call
        self.post = post


class Otherwise(Generic[R, T]):
    """One call whose result, when truthy, is the work's result (through ``post``); only
    when it is falsy do the steps ``rest()`` run and make it instead. A long poll's
    first look: a message waiting costs one call, no generator, no plan."""

    __slots__ = ("call", "post", "rest")

    def __init__(
        self, call: Call[R], post: Callable[[R], T], rest: Callable[[], Generator[Any, Any, R]]
    ) -> None:
        self.call = call
        self.post = post
        self.rest = rest


@dataclass(frozen=True, slots=True)
class Durable:
    """Run ``call`` and ``WAIT replicas timeout_ms`` on one connection (engine/durable.py)."""

    call: Call[Any]
    replicas: int
    timeout_ms: int


@dataclass(frozen=True, slots=True)
class Command:
    """A plain Redis command; the driver sends back its reply as redis-py returns it."""

    args: tuple[Any, ...]


def steps(work: Work[T]) -> Steps[T]:
    """``work`` as a generator, to ``yield from`` inside another operation."""
    if isinstance(work, Call):
        result: T = yield work
        return result
    if isinstance(work, Then):
        return work.post((yield work.call))
    if isinstance(work, Otherwise):
        got = yield work.call
        return work.post(got if got else (yield from work.rest()))
    return (yield from work)


W = TypeVar("W")


class Stepper(Generic[W]):
    """A step generator as a front end's driver sees it: the driver performs each
    step and hands its result to :meth:`send`, until that returns ``None`` (the
    result is then in :attr:`result`). ``watch`` is the long poll's listener watch,
    if a ``Listen`` step made one; :meth:`close` closes it and the generator."""

    __slots__ = ("plan", "result", "watch")

    def __init__(self, plan: Steps[Any]) -> None:
        self.plan = plan
        self.result: Any = None
        self.watch: W | None = None

    def first(self) -> Any:
        return self._advance(self.plan.__next__)

    def send(self, value: Any) -> Any:
        return self._advance(lambda: self.plan.send(value))

    def _advance(self, advance: Callable[[], Any]) -> Any:
        try:
            return advance()
        except StopIteration as done:
            self.result = done.value
            return None

    def close(self) -> None:
        self.plan.close()
        if self.watch is not None:
            self.watch.close()  # type: ignore[attr-defined]


class SyncFront:
    """A front end that runs work with blocking calls: ``_run`` one call, ``_drive``
    steps. This default ``_drive`` knows only :class:`Call` steps (enough for the
    reliability methods on their own); engine/runner.py knows them all."""

    def _run(self, call: Call[T]) -> T:
        raise NotImplementedError

    def _drive(self, plan: Steps[T]) -> T:
        try:
            step = next(plan)
            while True:
                step = plan.send(self._run(step))
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]


class AsyncFront:
    """:class:`SyncFront` for the asyncio front end: ``_run`` and ``_drive`` are
    coroutines."""

    async def _run(self, call: Call[T]) -> T:
        raise NotImplementedError

    async def _drive(self, plan: Steps[T]) -> T:
        try:
            step = next(plan)
            while True:
                step = plan.send(await self._run(step))
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]


class Operation(Generic[S, P, T]):
    """The single definition of an operation; each front end class gets a method made
    from it (:func:`sync_front`, :func:`async_front`)."""

    def __init__(self, fn: Callable[Concatenate[S, P], Work[T]]) -> None:
        self.fn = fn
        self.__doc__ = fn.__doc__
        self.__name__ = fn.__name__

    @overload
    def __get__(self, obj: None, owner: type) -> Operation[S, P, T]: ...
    @overload
    def __get__(self, obj: SyncFront, owner: type) -> Callable[P, T]: ...
    @overload
    def __get__(self, obj: AsyncFront, owner: type) -> Callable[P, Awaitable[T]]: ...
    @overload
    def __get__(self, obj: object, owner: type) -> Callable[P, Work[T]]: ...
    def __get__(self, obj: Any, owner: type) -> Any:
        if obj is None:
            return self
        return functools.partial(self.fn, obj)  # a class that is no front end: the work

    def sync_method(self) -> Callable[..., Any]:
        fn = self.fn

        def method(self: Any, *args: Any, **kwargs: Any) -> Any:
            work = fn(self, *args, **kwargs)
            if type(work) is Call:
                return self._run(work)
            if type(work) is Then:
                return work.post(self._run(work.call))
            if type(work) is Otherwise:
                got = self._run(work.call)
                return work.post(got if got else self._drive(work.rest()))
            return self._drive(work)

        return _dressed(method, fn)

    def async_method(self) -> Callable[..., Any]:
        fn = self.fn

        async def method(self: Any, *args: Any, **kwargs: Any) -> Any:
            work = fn(self, *args, **kwargs)
            if type(work) is Call:
                return await self._run(work)
            if type(work) is Then:
                return work.post(await self._run(work.call))
            if type(work) is Otherwise:
                got = await self._run(work.call)
                return work.post(got if got else await self._drive(work.rest()))
            return await self._drive(work)

        return _dressed(method, fn)


def operation(fn: Callable[Concatenate[S, P], Work[T]]) -> Operation[S, P, T]:
    """Mark ``fn`` (which returns a :data:`Work`) as an operation of the front ends."""
    return Operation(fn)


def _dressed(method: Callable[..., Any], fn: Callable[..., Any]) -> Callable[..., Any]:
    """``method`` with ``fn``'s name, docstring and signature, returning what the
    work returns (``Work[str]`` -> ``str``)."""
    functools.update_wrapper(method, fn)
    del method.__wrapped__  # type: ignore[attr-defined]  # __signature__ says it all
    sig = inspect.signature(fn)
    ret = sig.return_annotation
    if isinstance(ret, str):
        for prefix in ("Work[", "Steps[", "Call["):
            if ret.startswith(prefix) and ret.endswith("]"):
                ret = ret[len(prefix) : -1]
                break
    method.__signature__ = sig.replace(return_annotation=ret)  # type: ignore[attr-defined]
    method.__annotations__ = {**fn.__annotations__, "return": ret}
    return method


def _build(cls: C, make: Callable[[Operation[Any, Any, Any]], Callable[..., Any]]) -> C:
    for name in dir(cls):
        for klass in cls.__mro__:
            if name in klass.__dict__:
                attr = klass.__dict__[name]
                if isinstance(attr, Operation):
                    method = make(attr)
                    method.__qualname__ = f"{cls.__qualname__}.{name}"
                    method.__module__ = cls.__module__
                    setattr(cls, name, method)
                break
    return cls


def sync_front(cls: C) -> C:
    """Give ``cls`` a blocking method for each of its operations."""
    return _build(cls, Operation.sync_method)


def async_front(cls: C) -> C:
    """Give ``cls`` a coroutine method for each of its operations."""
    return _build(cls, Operation.async_method)
