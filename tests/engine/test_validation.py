"""Every validation edge: bad input raises a typed error naming the valid range and
writes nothing to Redis."""

from __future__ import annotations

import math
from collections.abc import Callable
from fractions import Fraction
from typing import Any

import pytest
import redis

from django_rsmq.engine import (
    RSMQ,
    InvalidName,
    InvalidValue,
    NoAttributeSupplied,
    QueueNotFound,
    RSMQError,
)
from django_rsmq.engine.protocol import BATCH_MAX

from .helpers import snapshot

GOOD_ID = "hoe86i1536WjRSjD6jFRHh13dj9wyI1e"

# -- queue names ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "qname",
    ["a", "Z", "0", "A" * 160, "with_underscore", "with-dash", "-start", "_", "aZ09_-"],
)
def test_valid_qnames_are_accepted(rsmq: RSMQ, qname: str) -> None:
    rsmq.create_queue(qname)
    assert qname in rsmq.list_queues()
    rsmq.send(qname, "x")
    assert rsmq.get_queue_attributes(qname).msgs == 1


@pytest.mark.parametrize(
    "qname",
    [
        "A" * 161,
        "a" * 168,  # rsmq's own test
        "should throw",
        "a:b",
        ":",
        "something:",
        ":else",
        "a.b",
        "é",
        "q\n",  # "$" alone would let a trailing newline through
        "\nq",
        "with\x01binary",
        "a/b",
        "*",
    ],
)
def test_invalid_qname_format(rsmq: RSMQ, raw: redis.Redis, namespace: str, qname: str) -> None:
    with pytest.raises(InvalidName, match="Invalid qname format") as info:
        rsmq.create_queue(qname)
    assert "1 to 160" in str(info.value)
    assert "A-Z a-z 0-9 _ -" in str(info.value)
    assert info.value.code == "invalidFormat"
    assert snapshot(raw, namespace) == {}


@pytest.mark.parametrize("qname", ["", None, 5, b"q", ["q"]])
def test_missing_or_non_str_qname(rsmq: RSMQ, qname: Any) -> None:
    with pytest.raises(InvalidName, match="No qname supplied"):
        rsmq.create_queue(qname)


OPS_WITH_QNAME: dict[str, Callable[[RSMQ, str], Any]] = {
    "delete_queue": lambda r, n: r.delete_queue(n),
    "get_queue_attributes": lambda r, n: r.get_queue_attributes(n),
    "set_queue_attributes": lambda r, n: r.set_queue_attributes(n, vt=5),
    "purge": lambda r, n: r.purge(n),
    "send": lambda r, n: r.send(n, "x"),
    "receive": lambda r, n: r.receive(n),
    "pop": lambda r, n: r.pop(n),
    "delete": lambda r, n: r.delete(n, GOOD_ID),
    "change_visibility": lambda r, n: r.change_visibility(n, GOOD_ID, 1),
    "peek": lambda r, n: r.peek(n),
    "peek_message": lambda r, n: r.peek_message(n, GOOD_ID),
    "ack": lambda r, n: r.ack(f"{n}:{GOOD_ID}:1"),
    "change_visibility_by_receipt": lambda r, n: r.change_visibility_by_receipt(
        f"{n}:{GOOD_ID}:1", 1
    ),
}


@pytest.mark.parametrize("op", sorted(OPS_WITH_QNAME))
def test_every_operation_validates_the_qname(
    rsmq: RSMQ, raw: redis.Redis, namespace: str, op: str
) -> None:
    with pytest.raises(InvalidName):
        OPS_WITH_QNAME[op](rsmq, "bad name")
    with pytest.raises(InvalidName):
        OPS_WITH_QNAME[op](rsmq, "x" * 161)
    assert snapshot(raw, namespace) == {}


@pytest.mark.parametrize(
    "op",
    sorted(set(OPS_WITH_QNAME) - {"delete", "ack"}),
)
def test_every_queue_operation_raises_queue_not_found(rsmq: RSMQ, op: str) -> None:
    """delete/ack by id do not look the queue up, like Node's deleteMessage."""
    with pytest.raises(QueueNotFound, match="Queue not found: 'nope'") as info:
        OPS_WITH_QNAME[op](rsmq, "nope")
    assert info.value.qname == "nope"
    assert info.value.code == "queueNotFound"


# -- vt and delay as queue attributes (whole seconds) -----------------------------------------

SECONDS_OK = [0, 1, 30, 9_999_999, 2.0, Fraction(4, 2)]
SECONDS_BAD = [
    -1,
    -20,
    10_000_000,
    10**12,
    10**400,
    -(10**400),
    -0.5,
    math.nan,
    math.inf,
    -math.inf,
]
NOT_NUMBERS = [True, False, "5", "not_a_number", b"5", [5]]


@pytest.mark.parametrize("attr", ["vt", "delay"])
@pytest.mark.parametrize("value", SECONDS_OK)
def test_queue_seconds_accepted(
    rsmq: RSMQ, raw: redis.Redis, keys: Any, attr: str, value: Any
) -> None:
    rsmq.create_queue("q", **{attr: value})
    assert raw.hget(keys.queue("q").hash, attr) == str(int(value))
    rsmq.create_queue("r")
    attrs = rsmq.set_queue_attributes("r", **{attr: value})
    assert getattr(attrs, attr) == int(value)
    assert raw.hget(keys.queue("r").hash, attr) == str(int(value))


@pytest.mark.parametrize("attr", ["vt", "delay"])
@pytest.mark.parametrize("value", [*SECONDS_BAD, *NOT_NUMBERS])
def test_queue_seconds_out_of_range(
    rsmq: RSMQ, raw: redis.Redis, namespace: str, attr: str, value: Any
) -> None:
    with pytest.raises(InvalidValue, match=f"{attr} must be .*between 0 and 9999999") as info:
        rsmq.create_queue("q", **{attr: value})
    assert info.value.code == "invalidValue"
    assert snapshot(raw, namespace) == {}


@pytest.mark.parametrize("attr", ["vt", "delay"])
@pytest.mark.parametrize("value", [1.5, 0.001, 9_999_998.5])
def test_queue_seconds_must_be_whole(rsmq: RSMQ, attr: str, value: float) -> None:
    """Node reads vt/delay with parseInt: a stored fraction would mean something else there."""
    with pytest.raises(InvalidValue, match="whole number of seconds between 0 and 9999999"):
        rsmq.create_queue("q", **{attr: value})
    rsmq.create_queue("q")
    with pytest.raises(InvalidValue, match="whole number"):
        rsmq.set_queue_attributes("q", **{attr: value})


def test_set_queue_attributes_bad_value_changes_nothing(
    rsmq: RSMQ, raw: redis.Redis, namespace: str
) -> None:
    rsmq.create_queue("q", vt=15, delay=10)
    before = snapshot(raw, namespace)
    for kwargs in ({"vt": -3}, {"maxsize": -2}, {"delay": -1}, {"vt": 5, "maxsize": 50}):
        with pytest.raises(InvalidValue):
            rsmq.set_queue_attributes("q", **kwargs)
    assert snapshot(raw, namespace) == before


def test_set_queue_attributes_needs_an_attribute(rsmq: RSMQ) -> None:
    with pytest.raises(NoAttributeSupplied, match="No attribute was supplied") as info:
        rsmq.set_queue_attributes("q")
    assert info.value.code == "noAttributeSupplied"
    assert isinstance(info.value, InvalidValue)
    # checked before the name, like Node
    with pytest.raises(NoAttributeSupplied):
        rsmq.set_queue_attributes("bad name")


# -- per-call durations (fractions allowed, ms scores) ---------------------------------------

DURATION_OK = [0, 0.05, 1.5, 9_999_999, 9_999_998.999, Fraction(1, 4)]
DURATION_BAD = [-1, -0.001, 10_000_000, 9_999_999.5, 10**400, math.nan, math.inf, *NOT_NUMBERS]


@pytest.mark.parametrize("value", DURATION_OK)
def test_per_call_durations_accepted(rsmq: RSMQ, q: str, value: Any) -> None:
    mid = rsmq.send(q, "x", delay=value)
    assert rsmq.change_visibility(q, mid, value) is True
    rsmq.change_visibility(q, mid, 0)
    msg = rsmq.receive(q, vt=value)
    assert msg is not None
    rsmq.change_visibility_by_receipt(msg.receipt, value)


@pytest.mark.parametrize("value", DURATION_BAD)
def test_per_call_durations_rejected(
    rsmq: RSMQ, q: str, raw: redis.Redis, namespace: str, value: Any
) -> None:
    mid = rsmq.send(q, "x")
    before = snapshot(raw, namespace)
    with pytest.raises(InvalidValue, match=r"delay must be .*between 0 and 9999999"):
        rsmq.send(q, "y", delay=value)
    with pytest.raises(InvalidValue, match=r"vt must be .*between 0 and 9999999"):
        rsmq.receive(q, vt=value)
    with pytest.raises(InvalidValue, match=r"vt must be .*between 0 and 9999999"):
        rsmq.change_visibility(q, mid, value)
    with pytest.raises(InvalidValue, match=r"vt must be .*between 0 and 9999999"):
        rsmq.change_visibility_by_receipt(f"{q}:{mid}:1", value)
    assert snapshot(raw, namespace) == before


# -- maxsize ------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [1024, 1025, 2048, 65535, 65536, -1])
def test_maxsize_accepted(rsmq: RSMQ, raw: redis.Redis, keys: Any, value: int) -> None:
    rsmq.create_queue("q", maxsize=value)
    assert raw.hget(keys.queue("q").hash, "maxsize") == str(value)
    rsmq.create_queue("r")
    assert rsmq.set_queue_attributes("r", maxsize=value).maxsize == value


@pytest.mark.parametrize(
    "value", [1023, 65537, 65565, 66000, 900, 50, 0, -2, -20, 1024.0, True, "1024", None]
)
def test_maxsize_rejected(rsmq: RSMQ, raw: redis.Redis, namespace: str, value: Any) -> None:
    with pytest.raises(InvalidValue, match=r"maxsize must be .*between 1024 and 65536") as info:
        rsmq.create_queue("q", maxsize=value)
    assert "-1" in str(info.value)
    assert snapshot(raw, namespace) == {}
    if value is not None:
        rsmq.create_queue("q")
        with pytest.raises(InvalidValue, match="between 1024 and 65536"):
            rsmq.set_queue_attributes("q", maxsize=value)


# -- message ids ---------------------------------------------------------------------------------


@pytest.mark.parametrize("mid", ["", None, 7])
def test_missing_id(rsmq: RSMQ, q: str, mid: Any) -> None:
    with pytest.raises(InvalidName, match="No id supplied"):
        rsmq.delete(q, mid)
    with pytest.raises(InvalidName, match="No id supplied"):
        rsmq.change_visibility(q, mid, 1)


@pytest.mark.parametrize(
    "mid",
    ["short", GOOD_ID[:31], GOOD_ID + "a", GOOD_ID[:31] + "-", GOOD_ID[:31] + "\n", GOOD_ID + "\n"],
)
def test_invalid_id_format(rsmq: RSMQ, q: str, mid: str) -> None:
    with pytest.raises(InvalidName, match="Invalid id format") as info:
        rsmq.delete(q, mid)
    assert "32 characters" in str(info.value)
    with pytest.raises(InvalidName, match="Invalid id format"):
        rsmq.change_visibility(q, mid, 1)
    with pytest.raises(InvalidName, match="Invalid id format"):
        rsmq.peek_message(q, mid)


def test_id_format_allows_colons_like_node(rsmq: RSMQ, q: str) -> None:
    assert rsmq.delete(q, "a:" * 16) is False
    assert rsmq.change_visibility(q, "a:" * 16, 1) is False


# -- paging, counts, batches --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"offset": -1}, "offset must be an int from 0"),
        ({"offset": 1.0}, "offset must be an int from 0"),
        ({"offset": True}, "offset must be an int from 0"),
        ({"limit": 0}, "limit must be an int between 1 and 1000"),
        ({"limit": 1001}, "limit must be an int between 1 and 1000"),
        ({"limit": 2.0}, "limit must be an int between 1 and 1000"),
    ],
)
def test_peek_paging_validation(rsmq: RSMQ, q: str, kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(InvalidValue, match=match):
        rsmq.peek(q, **kwargs)


@pytest.mark.parametrize("count", [0, -1, BATCH_MAX + 1, True, 1.0])
def test_receive_count_validation(rsmq: RSMQ, q: str, count: Any) -> None:
    with pytest.raises(InvalidValue, match="count must be an int between 1 and 1000"):
        rsmq.protocol.receive(q, rsmq.serializer, count=count)
    with pytest.raises(InvalidValue, match="count must be an int between 1 and 1000"):
        rsmq.protocol.pop(q, rsmq.serializer, count=count)


def test_batches_are_limited(rsmq: RSMQ, q: str) -> None:
    with pytest.raises(InvalidValue, match="at most 1000 entries per batch, got 1001"):
        rsmq.protocol.send_many(q, ["x"] * 1001, rsmq.serializer)
    with pytest.raises(InvalidValue, match="at most 1000"):
        rsmq.protocol.delete_many(q, [GOOD_ID] * 1001)
    assert rsmq.get_queue_attributes(q).msgs == 0


# -- the error types -----------------------------------------------------------------------------


def test_errors_share_one_base_and_carry_node_codes() -> None:
    from django_rsmq.engine import errors

    expected = {
        errors.InvalidName: "invalidFormat",
        errors.InvalidValue: "invalidValue",
        errors.NoAttributeSupplied: "noAttributeSupplied",
        errors.QueueNotFound: "queueNotFound",
        errors.QueueExists: "queueExists",
        errors.QueueFull: "queueFull",
        errors.MessageTooLong: "messageTooLong",
        errors.MessageNotFound: "messageNotFound",
        errors.StaleReceipt: "staleReceipt",
        errors.SerializationError: "messageNotString",
        errors.BodyDecodeError: "undecodableBody",
        errors.ReplyLost: "replyLost",
        errors.WriteRefused: "writeRefused",
        errors.SendNotConfirmed: "sendNotConfirmed",
    }
    assert set(expected) == {getattr(errors, n) for n in errors.__all__} - {RSMQError}
    for cls, code in expected.items():
        assert issubclass(cls, RSMQError)
        assert cls.code == code
    # stdlib bases let callers catch them generically too
    assert issubclass(errors.InvalidValue, ValueError)
    assert issubclass(errors.QueueNotFound, LookupError)
    assert issubclass(errors.ReplyLost, redis.ConnectionError)  # outage handling catches it
    assert issubclass(errors.MessageNotFound, LookupError)
    assert issubclass(errors.SerializationError, TypeError)
