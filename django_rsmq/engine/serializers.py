"""Body serializers. Bodies are UTF-8 strings on the wire, as every RSMQ client expects.

- ``auto`` (default): ``str`` passes through unchanged, any other value is JSON-encoded.
  On receive a body that looks like a JSON object or array is decoded, anything else
  comes back as the string it is (so bodies from Node/PyRSMQ producers always decode).
- ``json``: strict JSON both ways; a body that is not JSON raises :class:`BodyDecodeError`.
- ``text``: strings only.
- ``msgpack``: msgpack, base64-encoded so the wire stays text (needs the ``msgpack`` extra).
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any, Protocol, runtime_checkable

from .errors import InvalidValue, SerializationError

__all__ = [
    "AutoSerializer",
    "JSONSerializer",
    "MsgpackSerializer",
    "Serializer",
    "TextSerializer",
    "get_serializer",
]


@runtime_checkable
class Serializer(Protocol):
    """Turns values into wire strings and back. ``loads`` raises ``ValueError`` on bad input."""

    name: str

    def dumps(self, value: Any) -> str: ...

    def loads(self, raw: str) -> Any: ...


def _json_dumps(value: Any) -> str:
    try:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise SerializationError(f"Message body is not JSON-serializable: {exc}") from exc


class AutoSerializer:
    name = "auto"

    def dumps(self, value: Any) -> str:
        if isinstance(value, str):
            return value
        if isinstance(value, bytes | bytearray | memoryview):
            raise SerializationError(
                "Message bodies are text on the wire: decode bytes first, or use the "
                "'msgpack' serializer for binary data"
            )
        return _json_dumps(value)

    def loads(self, raw: str) -> Any:
        head = raw.lstrip()[:1]
        if head in ("{", "["):
            try:
                return json.loads(raw)
            except ValueError:
                return raw
        return raw


class JSONSerializer:
    name = "json"

    def dumps(self, value: Any) -> str:
        return _json_dumps(value)

    def loads(self, raw: str) -> Any:
        return json.loads(raw)


class TextSerializer:
    name = "text"

    def dumps(self, value: Any) -> str:
        if not isinstance(value, str):
            raise SerializationError(
                f"Message must be a string for the 'text' serializer, got {type(value).__name__}"
            )
        return value

    def loads(self, raw: str) -> Any:
        return raw


class MsgpackSerializer:
    name = "msgpack"

    def __init__(self) -> None:
        try:
            import msgpack  # noqa: F401
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise InvalidValue(
                "The 'msgpack' serializer needs the msgpack package: "
                "pip install 'django-rsmq[msgpack]'"
            ) from exc

    def dumps(self, value: Any) -> str:
        import msgpack

        try:
            packed: bytes = msgpack.packb(value, use_bin_type=True)
        except (TypeError, ValueError, OverflowError) as exc:
            raise SerializationError(f"Message body is not msgpack-serializable: {exc}") from exc
        return base64.b64encode(packed).decode("ascii")

    def loads(self, raw: str) -> Any:
        import msgpack

        try:
            packed = base64.b64decode(raw.encode("ascii"), validate=True)
            return msgpack.unpackb(packed, raw=False, strict_map_key=False)
        except (binascii.Error, UnicodeEncodeError) as exc:
            raise ValueError(f"not base64: {exc}") from exc
        except Exception as exc:  # msgpack raises several unrelated types
            raise ValueError(f"not msgpack: {exc}") from exc


_BY_NAME: dict[str, type[Serializer]] = {
    "auto": AutoSerializer,
    "json": JSONSerializer,
    "text": TextSerializer,
    "msgpack": MsgpackSerializer,
}


# Serializer classes whose instances passed the Protocol check (every receive passes
# one: the check walks the Protocol's attributes each time).
_CONFORMING: set[type] = set(_BY_NAME.values())


def get_serializer(spec: str | Serializer | None) -> Serializer:
    """A serializer from a name (``auto``, ``json``, ``text``, ``msgpack``) or an instance."""
    if spec is None:
        return AutoSerializer()
    if isinstance(spec, str):
        try:
            return _BY_NAME[spec]()
        except KeyError:
            raise InvalidValue(
                f"Unknown serializer {spec!r}; choose one of {', '.join(sorted(_BY_NAME))} "
                "or pass an object with dumps()/loads()"
            ) from None
    kind = type(spec)
    if kind in _CONFORMING:  # checked before: a runtime Protocol isinstance is dear
        return spec
    if isinstance(spec, Serializer):
        # Only when the class itself has them all (not an instance attribute of this one).
        if len(_CONFORMING) < 1000 and all(hasattr(kind, a) for a in ("name", "dumps", "loads")):
            _CONFORMING.add(kind)
        return spec
    raise InvalidValue(f"Not a serializer: {spec!r}")
