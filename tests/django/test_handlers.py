from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.exceptions import ImproperlyConfigured

from django_rsmq import handler
from django_rsmq.engine import InvalidName, Message
from django_rsmq.handlers import HandlerRegistry, registry


@pytest.fixture
def scratch() -> Iterator[HandlerRegistry]:
    before = registry.all()
    yield registry
    registry.clear()
    for q, h in before.items():
        registry.register(q, h.func, **h.options)


def test_autodiscovery_registered_the_test_apps_handlers() -> None:
    handlers = registry.all()
    assert handlers["work"].name == "tests.testapp.handlers.work"
    assert handlers["awork"].is_async
    assert not handlers["work"].is_async


def test_decorator_registers_sync_and_async_functions(scratch: HandlerRegistry) -> None:
    @handler("s-queue", visibility_timeout=5)
    def sync_one(message: Message) -> str:
        return "ok"

    @handler("a-queue")
    async def async_one(message: Message) -> None:
        return None

    assert scratch.get("s-queue") is sync_one
    assert (sync_one.visibility_timeout, sync_one.is_async) == (5.0, False)
    assert scratch.get("a-queue") is async_one
    assert async_one.is_async
    assert sync_one(None) == "ok"  # type: ignore[arg-type]


def test_one_handler_per_queue(scratch: HandlerRegistry) -> None:
    def first(message: Message) -> None: ...

    def second(message: Message) -> None: ...

    handler("dup")(first)
    handler("dup")(first)  # re-registering the same function (a reload) is fine
    with pytest.raises(ImproperlyConfigured, match="already has handler"):
        handler("dup")(second)


def test_bad_queue_name_and_unknown_option_fail_at_decoration() -> None:
    with pytest.raises(InvalidName):
        handler("bad name!")(lambda m: None)
    with pytest.raises(TypeError, match="Unknown handler option"):
        handler("okname", retries=3)(lambda m: None)


def test_a_default_handler_gives_way_to_a_users_handler(scratch: HandlerRegistry) -> None:
    def integration(message: Message) -> None: ...

    def users(message: Message) -> None: ...

    added = scratch.register_default("shared", integration)
    assert added is not None
    assert scratch.get("shared") is added
    assert scratch.is_default("shared")
    assert scratch.register_default("shared", users) is None  # a default never replaces
    mine = handler("shared")(users)  # a user's @handler replaces a default, no error
    assert scratch.get("shared") is mine
    assert not scratch.is_default("shared")
    assert scratch.register_default("shared", integration) is None
    scratch.unregister("shared")
    assert not scratch.is_default("shared")
    with pytest.raises(InvalidName):
        scratch.register_default("bad name!", integration)
