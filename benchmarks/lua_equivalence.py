"""Differential check of this checkout's Lua scripts against another revision's.

``python -m benchmarks.lua_equivalence [--against main] [--sequences 20] [--ops 300]
[--seed 1] [--redis-server PATH ...]`` starts its own ``redis-server`` (one per binary
given, else the one on PATH) on a free 127.0.0.1 port and runs random sequences of
operations through the engine's public API. Every command the engine sends goes to two
databases of that server: the new scripts run in db 0, the old ones in db 1, with the
same keys and arguments (the client draws its random id suffixes and jitter once). After
every operation the replies must be identical and so must the whole state of both
databases: every key, its type and encoding, every hash field and value (in order for a
listpack/ziplist hash, whose order is insertion order), zset member and score, string,
set member, and whether a key expires.

Scripts read Redis ``TIME``; for a sound comparison both sides must see the same time,
so each script's ``redis.call("TIME")`` is rewritten (on both sides alike) to read a
fake clock from a hash the harness advances by a random step before each operation.

Exit status 0 when every sequence matched; the first difference is printed otherwise.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import redis

from django_rsmq.engine import RSMQ, Entry, RetryPolicy, RSMQError, scripts
from django_rsmq.engine.server import RedisServer

from .scripts_at import load

CLOCK = "__rsmq_equivalence_clock__"
TIME_CALL = 'redis.call("TIME")'
CLOCK_CALL = f'redis.call("HMGET", "{CLOCK}", "s", "us")'
NAMES = [
    p.name[:-4]
    for p in sorted(Path(scripts.__file__).parent.glob("*.lua"))
    if not p.name.startswith("_")
]


class Mismatch(AssertionError):
    pass


def _clocked(source: str) -> str:
    out = source.replace(TIME_CALL, CLOCK_CALL)
    if '"TIME"' in out:
        raise ValueError("a script reads TIME in a form the harness does not rewrite")
    return out


class Tee(redis.Redis):
    """A client whose every command runs in db 0 (new scripts) and db 1 (old scripts);
    the replies must match, db 0's is returned."""

    old_db: redis.Redis
    scripts_by_sha: dict[str, tuple[str, str]]  # new sha -> (clocked new, clocked old) sha

    def execute_command(self, *args: Any, **options: Any) -> Any:
        name = args[0].upper() if isinstance(args[0], str) else args[0].decode().upper()
        new_args, old_args = args, args
        if name == "EVALSHA":
            sha = args[1] if isinstance(args[1], str) else args[1].decode()
            new_sha, old_sha = self.scripts_by_sha[sha]
            new_args = ("EVALSHA", new_sha, *args[2:])
            old_args = ("EVALSHA", old_sha, *args[2:])
        elif name == "EVAL":
            raise Mismatch("EVAL sent: the harness loads every script beforehand")
        new_reply, new_error = _call(lambda: super(Tee, self).execute_command(*new_args, **options))
        old_reply, old_error = _call(lambda: self.old_db.execute_command(*old_args, **options))
        if repr(new_reply) != repr(old_reply) or _norm(new_error) != _norm(old_error):
            raise Mismatch(
                f"{args[:2]!r}...: new {new_reply!r} / {new_error!r}, "
                f"old {old_reply!r} / {old_error!r}"
            )
        if new_error is not None:
            raise new_error
        return new_reply

    def pipeline(self, transaction: bool = True, shard_hint: Any = None) -> Any:
        return _Pipeline(self)


class _Pipeline:
    def __init__(self, tee: Tee) -> None:
        self.tee = tee
        self.commands: list[tuple[tuple[Any, ...], dict[str, Any]]] = []

    def execute_command(self, *args: Any, **options: Any) -> _Pipeline:
        self.commands.append((args, options))
        return self

    def execute(self, raise_on_error: bool = True) -> list[Any]:
        out = []
        for args, options in self.commands:
            reply, error = _call(lambda a=args, o=options: self.tee.execute_command(*a, **o))
            if isinstance(error, Mismatch) or (error is not None and raise_on_error):
                raise error
            out.append(error if error is not None else reply)
        self.commands = []
        return out


def _call(f: Callable[[], Any]) -> tuple[Any, Exception | None]:
    try:
        return f(), None
    except Mismatch:
        raise
    except Exception as e:  # compared between the two sides
        return None, e


def _norm(e: Exception | None) -> str | None:
    if e is None:
        return None
    return f"{type(e).__name__}: {e}"  # error text names no SHA: both sides' differ


def dump(client: redis.Redis) -> dict[bytes, Any]:
    """Everything in the client's db but the fake clock, comparable between two dbs."""
    keys = sorted(k for k in client.scan_iter(count=1000) if k != CLOCK.encode())
    pipe = client.pipeline(transaction=False)
    for key in keys:
        pipe.type(key)
        pipe.object("encoding", key)
        pipe.pttl(key)
    meta = pipe.execute()
    read = {
        b"hash": lambda k: pipe.hgetall(k),
        b"zset": lambda k: pipe.zrange(k, 0, -1, withscores=True),
        b"set": lambda k: pipe.smembers(k),
        b"string": lambda k: pipe.get(k),
        b"list": lambda k: pipe.lrange(k, 0, -1),
    }
    for i, key in enumerate(keys):
        read[meta[3 * i]](key)
    values = pipe.execute()
    out: dict[bytes, Any] = {}
    for i, key in enumerate(keys):
        kind, enc, pttl = meta[3 * i : 3 * i + 3]
        value = values[i]
        if kind == b"hash":
            pairs = list(value.items())
            value = pairs if enc in (b"listpack", b"ziplist") else sorted(pairs)
        elif kind == b"set":
            value = sorted(value)
        out[key] = (kind, enc, pttl >= 0, value)
    return out


class Sequence:
    """One random sequence of operations on a few queues with varied settings."""

    QUEUES: dict[str, dict[str, Any]] = {
        "plain": {"dedup_window": 3600},
        "small": {"maxsize": 1024, "delay": 1},
        "rel": {"max_receives": 2, "retry": RetryPolicy.exponential(base=0.5, max=4, jitter=0.5)},
        "ret": {"retention": 3},
        "retdl": {"retention": 4, "retention_action": "dead_letter", "max_receives": 3},
        "cap": {"max_messages": 6, "dedup_window": 0},
    }

    def __init__(self, tee: Tee, rng: random.Random) -> None:
        self.tee, self.rng = tee, rng
        self.now_us = 1_763_800_000_000_000 + rng.randrange(10**9)
        self.mq = RSMQ(tee, namespace="eq", realtime=rng.random() < 0.5)
        self.receipts: list[Any] = []
        self.ids: list[tuple[str, str]] = []
        self.tick(0)
        for name, settings in self.QUEUES.items():
            self.mq.create_queue(name, vt=self.rng.choice([1, 2, 5]), **settings)

    def tick(self, max_ms: int) -> None:
        self.now_us += self.rng.randrange(max_ms * 1000 + 1)
        s, us = divmod(self.now_us, 1_000_000)
        for db in (self.tee, self.tee.old_db):
            redis.Redis.execute_command(db, "HSET", CLOCK, "s", s, "us", us)

    def body(self) -> str:
        n = self.rng.choice([1, 10, 10, 40, 100, 1000, 1100, 3000])
        return "".join(self.rng.choice("abcé") for _ in range(n))

    def entry(self) -> Entry:
        return Entry(
            self.body(),
            delay=self.rng.choice([None, None, 0, 0.5, 2]),
            dedup_id=self.rng.choice([None, None, "d1", "d2", "d3"]),
        )

    def receipt(self) -> Any:
        return self.rng.choice(self.receipts) if self.receipts else "plain:" + "0" * 32 + ":1"

    def message_id(self) -> str:
        if self.ids and self.rng.random() < 0.9:
            return self.rng.choice(self.ids)[1]
        return "0" * 32

    def step(self) -> None:
        rng, mq = self.rng, self.mq
        q = rng.choice(list(self.QUEUES) + ["missing"] * (rng.random() < 0.03))
        self.tick(rng.choice([0, 0, 5, 300, 1500, 3000]))
        op = rng.choices(
            [
                "send", "send_many", "receive", "receive_many", "pop", "pop_many", "ack",
                "ack_many", "delete", "delete_many", "change_visibility", "nack", "fail",
                "peek", "attributes", "plain_delete", "set_attributes",
            ],
            weights=[20, 6, 16, 6, 5, 2, 12, 5, 3, 2, 3, 3, 3, 1, 1, 2, 1],
        )[0]  # fmt: skip
        try:
            if op == "send":
                e = self.entry()
                mid = mq.send(q, e.body, delay=e.delay, dedup_id=e.dedup_id)
                self.ids.append((q, mid))
            elif op == "send_many":
                for o in mq.send_many(q, [self.entry() for _ in range(rng.randint(1, 8))]):
                    if o.value:
                        self.ids.append((q, o.value))
            elif op in ("receive", "receive_many"):
                vt = rng.choice([None, None, 0, 1, 3])
                got = (
                    [m for m in [mq.receive(q, vt=vt)] if m]
                    if op == "receive"
                    else mq.receive_many(q, rng.randint(1, 6), vt=vt)
                )
                self.receipts.extend(got)
            elif op == "pop":
                mq.pop(q)
            elif op == "pop_many":
                mq.pop_many(q, rng.randint(1, 5))
            elif op == "ack":
                mq.ack(self.receipt())
            elif op == "ack_many":
                mq.ack_many([self.receipt() for _ in range(rng.randint(1, 6))])
            elif op == "delete":
                mq.delete(q, self.message_id())
            elif op == "delete_many":
                mq.delete_many(q, [self.message_id() for _ in range(rng.randint(1, 5))])
            elif op == "change_visibility":
                if rng.random() < 0.5:
                    mq.change_visibility(q, self.message_id(), rng.choice([0, 1, 5]))
                else:
                    mq.change_visibility_by_receipt(self.receipt(), rng.choice([0, 1, 5]))
            elif op == "nack":
                mq.nack(self.receipt(), rng.choice([None, 0, 1]))
            elif op == "fail":
                mq.fail(self.receipt(), ValueError("boom"))
            elif op == "peek":
                mq.peek(q, limit=rng.randint(1, 10))
            elif op == "attributes":
                mq.get_queue_attributes(q)
            elif op == "plain_delete" and self.ids:
                # What a plain RSMQ client's deleteMessage does: leaves our side entries.
                qn, mid = rng.choice(self.ids)
                self.tee.zrem(f"eq:{qn}", mid)
                self.tee.hdel(f"eq:{qn}:Q", mid, f"{mid}:rc", f"{mid}:fr")
            elif op == "set_attributes" and q in ("rel", "cap", "ret"):
                mq.set_queue_attributes(q, vt=rng.choice([1, 2, 4]))
        except RSMQError:
            pass
        if len(self.receipts) > 200:
            del self.receipts[:100]
        if len(self.ids) > 400:
            del self.ids[:200]


def run(url: str, against: str, sequences: int, ops: int, seed: int) -> int:
    old = load(against)
    base = url.rsplit("/", 1)[0]
    new_client = Tee.from_url(f"{base}/0")
    new_client.old_db = redis.Redis.from_url(f"{base}/1")
    raw = redis.Redis.from_url(f"{base}/0")
    raw_old = redis.Redis.from_url(f"{base}/1")
    new_client.scripts_by_sha = {}
    for name in NAMES:
        pair = []
        for s in (scripts.get(name).source, old(name).source):
            src = _clocked(s)
            raw.script_load(src)
            pair.append(hashlib.sha1(src.encode()).hexdigest())
        new_client.scripts_by_sha[scripts.get(name).sha] = (pair[0], pair[1])
    checked = 0
    for n in range(sequences):
        for db in (new_client, new_client.old_db):
            redis.Redis.execute_command(db, "FLUSHDB")
        rng = random.Random(seed * 1_000_003 + n)
        seq = Sequence(new_client, rng)
        for i in range(ops):
            seq.step()
            a, b = dump(raw), dump(raw_old)
            if a != b:
                diff = {
                    k: (a.get(k), b.get(k)) for k in a.keys() | b.keys() if a.get(k) != b.get(k)
                }
                raise Mismatch(f"sequence {n} op {i}: state differs (new, old): {diff}")
            checked += 1
    return checked


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--against", default="main", help="git revision of the old scripts")
    parser.add_argument("--sequences", type=int, default=20)
    parser.add_argument("--ops", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--redis-server", action="append", default=[], metavar="PATH")
    args = parser.parse_args(argv)
    for binary in args.redis_server or [None]:
        with tempfile.TemporaryDirectory() as tmp:
            server = RedisServer(Path(tmp), binary=binary)
            server.start()
            try:
                version = server.client().info("server")["redis_version"]
                n = run(server.url, args.against, args.sequences, args.ops, args.seed)
                print(f"Redis {version}: {args.sequences} sequences, {n} operations: identical")
            finally:
                server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
