"""Serializers: bodies are text on the wire; an undecodable body loses nothing."""

from __future__ import annotations

import base64
import pickle
from typing import Any

import pytest
import redis

from django_rsmq.engine import (
    RSMQ,
    BodyDecodeError,
    InvalidValue,
    Keys,
    SerializationError,
    Serializer,
    get_serializer,
)
from django_rsmq.engine.serializers import (
    AutoSerializer,
    JSONSerializer,
    MsgpackSerializer,
    TextSerializer,
)
from django_rsmq.testing import TestRedis


def wire(raw: redis.Redis, keys: Keys, q: str, mid: str) -> Any:
    return raw.hget(keys.queue(q).hash, mid)


@pytest.mark.parametrize(
    ("value", "on_wire", "back"),
    [
        ("plain", "plain", "plain"),
        ("", "", ""),
        ("5", "5", "5"),
        ({"a": [1, "é"]}, '{"a":[1,"é"]}', {"a": [1, "é"]}),
        ([1, 2], "[1,2]", [1, 2]),
        (5, "5", "5"),  # scalars go out as JSON, come back as the string they are
        (None, "null", "null"),
        (True, "true", "true"),
        (1.5, "1.5", "1.5"),
        ("{not json", "{not json", "{not json"),  # looks like JSON, is not: stays a str
        ('  {"a": 1}', '  {"a": 1}', {"a": 1}),
    ],
)
def test_auto_serializer(
    rsmq: RSMQ, raw: redis.Redis, keys: Keys, q: str, value: Any, on_wire: str, back: Any
) -> None:
    mid = rsmq.send(q, value)
    assert wire(raw, keys, q, mid) == on_wire
    msg = rsmq.receive(q)
    assert msg is not None
    assert msg.body == back
    assert msg.raw == on_wire


def test_auto_refuses_bytes_and_unserializable(rsmq: RSMQ, q: str) -> None:
    for value in (b"bytes", bytearray(b"x"), object(), {1, 2}, float("nan")):
        with pytest.raises(SerializationError) as info:
            rsmq.send(q, value)
        assert info.value.code == "messageNotString"
    assert rsmq.get_queue_attributes(q).totalsent == 0


def test_text_that_is_not_utf8_encodable_is_refused(rsmq: RSMQ, q: str) -> None:
    """Lone surrogates cannot go over the wire: a typed error, nothing stored."""
    for value in ("\ud800", {"k": "a\udfffb"}):
        with pytest.raises(SerializationError, match="not valid UTF-8 text"):
            rsmq.send(q, value)
    attrs = rsmq.get_queue_attributes(q)
    assert (attrs.msgs, attrs.totalsent) == (0, 0)


def test_json_serializer_is_strict(rsmq: RSMQ, raw: redis.Redis, keys: Keys, q: str) -> None:
    mid = rsmq.send(q, "text", serializer="json")
    assert wire(raw, keys, q, mid) == '"text"'
    rsmq.send(q, 5, serializer="json")
    got = [rsmq.receive(q, serializer="json") for _ in range(2)]
    assert [m.body for m in got if m] == ["text", 5]
    for m in got:
        rsmq.ack(m)  # type: ignore[arg-type]
    # a peer put plain text in: json can't decode it
    rsmq.send(q, "not json")
    msg = rsmq.receive(q, serializer="json")
    assert msg is not None
    with pytest.raises(BodyDecodeError, match="json serializer") as info:
        _ = msg.body
    err = info.value
    assert (err.raw, err.qname, err.message_id, err.receipt) == ("not json", q, msg.id, msg.receipt)
    assert err.code == "undecodableBody"
    rsmq.ack(err.receipt)  # not lost: the caller can still settle it
    assert rsmq.get_queue_attributes(q).msgs == 0


def test_undecodable_message_is_redelivered_not_dropped(rsmq: RSMQ, q: str) -> None:
    mid = rsmq.send(q, "not json")
    msg = rsmq.receive(q, vt=0, serializer="json")
    assert msg is not None
    with pytest.raises(BodyDecodeError):
        _ = msg.body
    again = rsmq.receive(q, serializer="json")
    assert again is not None
    assert (again.id, again.rc, again.raw) == (mid, 2, "not json")


def test_text_serializer(rsmq: RSMQ, q: str) -> None:
    h = rsmq.queue(q, serializer="text")
    h.send('{"a": 1}')
    msg = h.receive()
    assert msg is not None
    assert msg.body == '{"a": 1}'  # never decoded
    with pytest.raises(SerializationError, match="must be a string"):
        h.send({"a": 1})
    with pytest.raises(SerializationError):
        h.send(5)
    assert rsmq.get_queue_attributes(q).totalsent == 1


def test_msgpack_serializer(rsmq: RSMQ, raw: redis.Redis, keys: Keys, q: str) -> None:
    import msgpack

    value = {"bin": b"\x00\xff", "n": 2**40, "t": [1.5, None, "é"], 3: "int key"}
    mid = rsmq.send(q, value, serializer="msgpack")
    on_wire = wire(raw, keys, q, mid)
    assert on_wire.isascii()
    assert msgpack.unpackb(base64.b64decode(on_wire), strict_map_key=False) == value
    msg = rsmq.receive(q, serializer="msgpack")
    assert msg is not None
    assert msg.body == value
    rsmq.send(q, "plain text, not base64!")
    bad = rsmq.receive(q, serializer="msgpack")
    assert bad is not None
    with pytest.raises(BodyDecodeError, match="not base64"):
        _ = bad.body
    rsmq.send(q, base64.b64encode(b"\xc1").decode())  # 0xc1 is never valid msgpack
    bad = rsmq.receive(q, serializer="msgpack")
    assert bad is not None
    with pytest.raises(BodyDecodeError, match="not msgpack"):
        _ = bad.body
    with pytest.raises(SerializationError):
        rsmq.send(q, object(), serializer="msgpack")


def test_non_utf8_bytes_in_the_hash(
    rsmq: RSMQ, redis_client: redis.Redis, keys: Keys, q: str
) -> None:
    """A foreign producer wrote raw bytes: raw keeps them, body raises, ack still works."""
    mid = rsmq.send(q, "placeholder")
    redis_client.hset(keys.queue(q).hash, mid, b"\xff\xfe\x00bin")
    msg = rsmq.receive(q)
    assert msg is not None
    assert msg.raw == b"\xff\xfe\x00bin"
    with pytest.raises(BodyDecodeError, match="not valid UTF-8") as info:
        _ = msg.body
    assert (info.value.raw, info.value.message_id, info.value.receipt) == (
        b"\xff\xfe\x00bin",
        mid,
        msg.receipt,
    )
    peeked = rsmq.peek(q)[0]
    assert peeked.raw == b"\xff\xfe\x00bin"
    with pytest.raises(BodyDecodeError):
        _ = peeked.body
    rsmq.ack(info.value.receipt)
    assert rsmq.get_queue_attributes(q).msgs == 0


def test_body_decode_error_pickles() -> None:
    err = BodyDecodeError("bad", b"\xff", qname="q", message_id="m" * 32, receipt="r")
    back = pickle.loads(pickle.dumps(err))
    assert (back.raw, back.qname, back.message_id, back.receipt, str(back)) == (
        b"\xff",
        "q",
        "m" * 32,
        "r",
        str(err),
    )


def test_serializer_selection(test_redis: TestRedis, namespace: str) -> None:
    mq = RSMQ(test_redis.client(), namespace=namespace, serializer="json")
    try:
        mq.create_queue("q")
        mq.send("q", "s")  # default json
        mq.send("q", "t", serializer="text")  # per call
        auto = mq.queue("q", serializer="auto")  # per queue handle
        got = [mq.receive("q", serializer="text") for _ in range(2)]
        assert [m.raw for m in got if m] == ['"s"', "t"]
        auto.send({"k": 1})
        msg = auto.receive()
        assert msg is not None
        assert msg.body == {"k": 1}
    finally:
        mq.client.close()


class Upper:
    name = "upper"

    def dumps(self, value: Any) -> str:
        return str(value).upper()

    def loads(self, raw: str) -> Any:
        if raw != raw.upper():
            raise ValueError("not upper case")
        return raw.lower()


def test_custom_serializer(rsmq: RSMQ, q: str) -> None:
    s = Upper()
    assert isinstance(s, Serializer)
    assert get_serializer(s) is s
    rsmq.send(q, "hi", serializer=s)
    rsmq.send(q, "lower")
    a = rsmq.receive(q, serializer=s)
    b = rsmq.receive(q, serializer=s)
    assert a is not None
    assert b is not None
    assert a.body == "hi"
    with pytest.raises(BodyDecodeError, match="upper serializer: not upper case"):
        _ = b.body


def test_get_serializer() -> None:
    assert isinstance(get_serializer(None), AutoSerializer)
    assert isinstance(get_serializer("auto"), AutoSerializer)
    assert isinstance(get_serializer("json"), JSONSerializer)
    assert isinstance(get_serializer("text"), TextSerializer)
    assert isinstance(get_serializer("msgpack"), MsgpackSerializer)
    with pytest.raises(InvalidValue, match="Unknown serializer 'yaml'; choose one of auto, json"):
        get_serializer("yaml")
    with pytest.raises(InvalidValue, match="Not a serializer"):
        get_serializer(5)  # type: ignore[arg-type]
