"""mailkeeper.yaml `sync:`, `drafts:` and `daemon:`: how much a sync fetches, how many drafts
a run adds, when the daemon does what. Read with file:line problems; re-exported by
config.settings."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import time
from typing import Any, TypeVar

from yaml.nodes import Node, ScalarNode

from mailkeeper.config.yamlreader import _NULL, YamlReader, _parse_size, _parse_time

_SYNC_KEYS = ("batch_size", "max_message_size", "max_text_bytes", "workers")
_DRAFTS_KEYS = ("per_run", "per_day", "cooldown_days", "promise_ahead_hours")
_DAEMON_KEYS = ("daily_at", "folders_every_minutes", "poll_every_seconds", "idle_minutes")


@dataclass(frozen=True)
class SyncSettings:
    batch_size: int = 200
    max_message_size: int = 25 * 1024 * 1024  # larger messages are stored with headers only
    max_text_bytes: int = 256 * 1024  # cap on one downloaded text part
    workers: int = 0  # 0 = auto


DRAFT_KINDS = ("check_in", "issue_ack", "promise_followup", "progress", "problem", "greeting")


@dataclass(frozen=True)
class DraftSettings:
    per_run: int = 10  # new drafts added by one run, most urgent first; the rest wait
    per_day: int = 10  # ... and by all runs of one day (the rep's day)
    # a draft the rep deleted without sending: no new draft for that finding for this long
    cooldown_days: tuple[tuple[str, int], ...] = (
        ("check_in", 14), ("issue_ack", 2), ("promise_followup", 2), ("progress", 3),
        ("problem", 1), ("greeting", 365),
    )  # fmt: skip
    promise_ahead_hours: int = 24  # draft a promise follow-up this long before it is due

    def cooldown(self, kind: str) -> int:
        return dict(self.cooldown_days).get(kind, 7)


@dataclass(frozen=True)
class DaemonSettings:
    """`daemon:` in mailkeeper.yaml: when the long-running `mailkeeper daemon` does what."""

    daily_at: time = time(7, 30)  # the daily pass (scan + draft), in the rep's time zone
    folders_every_minutes: int = 15  # Sent and the other folders are synced this often
    poll_every_seconds: int = 60  # the Inbox without IDLE (a server without it, a Maildir)
    idle_minutes: int = 25  # IDLE is re-issued this often (servers end it after 29-30)


def _read_time(r: YamlReader, node: Node, name: str) -> time | None:
    raw = r.text(node, name, 'a time like "09:00"')
    if raw is None:
        return None
    value = _parse_time(raw)
    if value is None:
        r.problem(node, f"{name}: '{raw}' is not a time of day", 'HH:MM, e.g. "09:00" or "18:30"')
    return value


def _read_drafts(r: YamlReader, node: Node) -> DraftSettings | None:
    keys = r.mapping(node, "drafts", _DRAFTS_KEYS)
    if keys is None:
        return None
    d = DraftSettings()
    values: dict[str, Any] = {}
    for key, low, high in (
        ("per_run", 0, 1000),
        ("per_day", 0, 1000),
        ("promise_ahead_hours", 0, 24 * 30),
    ):
        if key in keys:
            v = r.integer(keys[key], f"drafts.{key}", low, high)
            if v is None:
                return None
            values[key] = v
    if "cooldown_days" in keys:
        cool = dict(d.cooldown_days)
        for kind, kind_node, value in r.entries(
            keys["cooldown_days"], "drafts.cooldown_days", "kind: days, e.g. check_in: 14"
        ):
            if kind not in DRAFT_KINDS:
                r.problem(
                    kind_node,
                    f"drafts.cooldown_days: unknown kind '{kind}'",
                    f"one of {', '.join(DRAFT_KINDS)}",
                )
                return None
            days = r.integer(value, f"drafts.cooldown_days.{kind}", 0, 3650)
            if days is None:
                return None
            cool[kind] = days
        values["cooldown_days"] = tuple(cool.items())
    return DraftSettings(**{**d.__dict__, **values})


def _read_daemon(r: YamlReader, node: Node) -> DaemonSettings | None:
    if isinstance(node, ScalarNode) and node.tag == _NULL:
        return DaemonSettings()
    keys = r.mapping(node, "daemon", _DAEMON_KEYS)
    if keys is None:
        return None
    d = DaemonSettings()
    values = {
        "daily_at": _opt(keys, "daily_at", d.daily_at,
                         lambda n: _read_time(r, n, "daemon.daily_at")),
        "folders_every_minutes": _opt(keys, "folders_every_minutes", d.folders_every_minutes,
                                      lambda n: r.integer(n, "daemon.folders_every_minutes",
                                                          1, 24 * 60)),
        "poll_every_seconds": _opt(keys, "poll_every_seconds", d.poll_every_seconds,
                                   lambda n: r.integer(n, "daemon.poll_every_seconds", 1, 3600)),
        # RFC 2177: servers may end an IDLE after 30 minutes; re-issue it before that.
        "idle_minutes": _opt(keys, "idle_minutes", d.idle_minutes,
                             lambda n: r.integer(n, "daemon.idle_minutes", 1, 29)),
    }  # fmt: skip
    if any(v is None for v in values.values()):
        return None
    return DaemonSettings(**values)  # type: ignore[arg-type]


def _read_sync(r: YamlReader, node: Node) -> SyncSettings | None:
    if isinstance(node, ScalarNode) and node.tag == _NULL:
        return SyncSettings()
    keys = r.mapping(node, "sync", _SYNC_KEYS)
    if keys is None:
        return None
    default = SyncSettings()
    values = {
        "batch_size": _opt(
            keys,
            "batch_size",
            default.batch_size,
            lambda n: r.integer(n, "sync.batch_size", 1, 10_000),
        ),
        "max_message_size": _opt(
            keys,
            "max_message_size",
            default.max_message_size,
            lambda n: _read_size(r, n, "sync.max_message_size"),
        ),
        "max_text_bytes": _opt(
            keys,
            "max_text_bytes",
            default.max_text_bytes,
            lambda n: _read_size(r, n, "sync.max_text_bytes"),
        ),
        "workers": _opt(
            keys, "workers", default.workers, lambda n: r.integer(n, "sync.workers", 0, 64)
        ),
    }
    if any(v is None for v in values.values()):
        return None
    return SyncSettings(**values)  # type: ignore[arg-type]


_T = TypeVar("_T")


def _opt(
    keys: dict[str, Node], key: str, default: _T, read: Callable[[Node], _T | None]
) -> _T | None:
    return read(keys[key]) if key in keys else default


def _read_size(r: YamlReader, node: Node, name: str) -> int | None:
    raw = r.text(node, name, 'a size in bytes, or like "25 MB"')
    size = _parse_size(raw) if raw is not None else None
    if raw is not None and (size is None or size < 1):
        r.problem(node, f"{name}: '{raw}' is not a size", 'a size in bytes, or like "25 MB"')
        return None
    return size
