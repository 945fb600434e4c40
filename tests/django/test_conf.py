from __future__ import annotations

from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from django_rsmq.conf import ConnectionSettings, parse, rsmq_settings


def test_defaults_are_in_code_and_no_connection_means_embedded(tmp_path: Path) -> None:
    with override_settings(BASE_DIR=tmp_path):
        cfg = parse({})
    assert cfg.namespace == "rsmq"
    assert cfg.autodiscover_modules == ("handlers",)
    assert cfg.eager is False
    conn = cfg.connections["default"]
    assert (conn.kind, conn.embedded, conn.data_dir) == ("embedded", True, str(tmp_path / ".rsmq"))
    q = cfg.queue("anything")
    assert (q.vt, q.delay, q.maxsize, q.connection, q.auto_create) == (
        30,
        0,
        65536,
        "default",
        True,
    )


def test_queue_defaults_are_merged_into_every_queue() -> None:
    cfg = parse(
        {
            "CONNECTIONS": {"default": "redis://127.0.0.1:6379/0"},
            "QUEUE_DEFAULTS": {"VISIBILITY_TIMEOUT": 60, "MAX_RECEIVES": 5},
            "QUEUES": {"a": {}, "b": {"VISIBILITY_TIMEOUT": 5, "TYPO": 1}},
        }
    )
    assert (cfg.queues["a"].vt, cfg.queues["a"].max_receives) == (60, 5)
    assert (cfg.queues["b"].vt, cfg.queues["b"].max_receives) == (5, 5)
    assert cfg.queues["b"].unknown_keys == ("TYPO",)
    assert cfg.queue("undeclared").vt == 60


def test_override_settings_reloads_the_parsed_settings(namespace: str) -> None:
    before = rsmq_settings()
    assert before.namespace == namespace
    with override_settings(RSMQ={**before.raw, "NAMESPACE": "other", "EAGER": True}):
        assert (rsmq_settings().namespace, rsmq_settings().eager) == ("other", True)
    assert rsmq_settings().namespace == namespace


def test_connection_settings_from_url_and_dict() -> None:
    c = ConnectionSettings.from_url("redis://u:secret@127.0.0.1:6380/2", alias="x")
    assert (c.alias, c.kind) == ("x", "url")
    assert "secret" not in c.display()
    s = ConnectionSettings.from_dict(
        "ha", {"SENTINELS": [["127.0.0.1", 26379]], "MASTER_NAME": "m"}
    )
    assert (s.kind, s.sentinels) == ("sentinel", [("127.0.0.1", 26379)])
    assert ConnectionSettings.from_dict("c", {"USE_DJANGO_CACHE": "default"}).kind == (
        "django_cache"
    )


def test_wrong_shapes_raise_improperly_configured() -> None:
    with pytest.raises(ImproperlyConfigured, match=r"settings\.RSMQ must be a dict"):
        parse(["nope"])
    with pytest.raises(ImproperlyConfigured, match="QUEUES"):
        parse({"QUEUES": {"a": 1}})
    with pytest.raises(ImproperlyConfigured, match="CONNECTIONS"):
        parse({"CONNECTIONS": {"default": 42}})


def test_a_dlq_takes_its_queues_connection_unless_it_names_its_own() -> None:
    conns = {"default": "redis://127.0.0.1:1/0", "far": "redis://127.0.0.1:2/0"}
    cfg = parse(
        {
            "CONNECTIONS": conns,
            "QUEUE_DEFAULTS": {"CONNECTION": "default"},  # a default is not the DLQ's own
            "QUEUES": {
                "implicit": {"CONNECTION": "far", "MAX_RECEIVES": 2},
                "declared": {"CONNECTION": "far", "MAX_RECEIVES": 2, "DEAD_LETTER_QUEUE": "d"},
                "d": {},
                "pinned": {"CONNECTION": "far", "MAX_RECEIVES": 2, "DEAD_LETTER_QUEUE": "p"},
                "p": {"CONNECTION": "default"},  # explicit: kept (check E009 reports it)
                "near": {"MAX_RECEIVES": 2, "DEAD_LETTER_QUEUE": "both"},
                "remote": {"CONNECTION": "far", "MAX_RECEIVES": 2, "DEAD_LETTER_QUEUE": "both"},
                "both": {},  # its queues disagree: kept (E009)
                "undeclared": {"CONNECTION": "far", "MAX_RECEIVES": 2, "DEAD_LETTER_QUEUE": "u"},
            },
        }
    )
    where = {
        n: cfg.queue(n).connection
        for n in ("implicit-dlq", "d", "p", "both", "u", "unrelated", "unrelated-dlq")
    }
    assert where == {
        "implicit-dlq": "far",
        "d": "far",
        "p": "default",
        "both": "default",
        "u": "far",
        "unrelated": "default",
        "unrelated-dlq": "default",
    }
    assert cfg.queue("d").connection == cfg.queues["d"].connection  # one answer
