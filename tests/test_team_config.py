"""The team: section of mailkeeper.yaml (config/team.py): its keys, each problem with its line,
a manager's config (me and team, no accounts), and the local outbox the triggers fill only
once team mode is on."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from mailkeeper.config.settings import load_settings
from mailkeeper.errors import ConfigError
from mailkeeper.store import Store

ME = """\
me:
  name: Lee Wang
  addresses: [lee@lumen-furniture.com]
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "mailkeeper.yaml"
    path.write_text(text)
    path.chmod(0o600)
    return path


def problems(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    return info.value.problems


def test_a_managers_config_has_me_and_team_and_no_accounts(tmp_path: Path) -> None:
    (tmp_path / "ca.pem").write_text("-----BEGIN CERTIFICATE-----\n")
    path = write(tmp_path, ME + textwrap.dedent("""\
        team:
          rep: lee
          host: db.lumen-furniture.com
          port: 6432
          database: mailkeeper_team
          password_env: TEAM_PW
          sslmode: verify-full
          sslrootcert: ./ca.pem
          share: headers
        """))  # fmt: skip
    s = load_settings(path)
    assert s.accounts == {}
    t = s.team
    assert t is not None
    assert (t.rep, t.user, t.host, t.port, t.database) == (
        "lee", "lee", "db.lumen-furniture.com", 6432, "mailkeeper_team"
    )  # fmt: skip
    assert (t.password_env, t.sslmode, t.sslrootcert, t.share) == (
        "TEAM_PW", "verify-full", tmp_path / "ca.pem", "headers"
    )  # fmt: skip
    assert not s.warnings


def test_without_accounts_or_team_the_config_is_refused(tmp_path: Path) -> None:
    assert any("no 'accounts'" in p for p in problems(write(tmp_path, ME)))


def test_team_problems_come_with_their_lines(tmp_path: Path) -> None:
    path = write(tmp_path, ME + textwrap.dedent("""\
        team:
          rep: amy
          host: db.example.com
          database: team
          sslmode: verify
          sslrootcert: ./missing.pem
          share: everything
          passwd: x
        """))  # fmt: skip
    found = problems(path)
    expected = [(8, "sslmode: unknown mode 'verify'"), (9, "missing.pem does not exist"),
                (10, "team.share: unknown value"), (11, "unknown key 'passwd'")]  # fmt: skip
    for line, words in expected:
        assert any(p.startswith(f"{path}:{line}: ") and words in p for p in found), (words, found)
    path = write(tmp_path, ME + "team:\n  rep: amy\n  host: h\n")
    assert any("team has no 'database'" in p for p in problems(path))


def test_an_unverified_connection_to_another_host_is_warned_about(tmp_path: Path) -> None:
    path = write(tmp_path, ME + "team:\n  rep: amy\n  host: db.example.com\n  database: t\n")
    assert any("not verified" in w for w in load_settings(path).warnings)
    path = write(tmp_path, ME + "team:\n  rep: amy\n  host: 127.0.0.1\n  database: t\n")
    assert not load_settings(path).warnings


def test_the_outbox_is_filled_only_once_team_mode_is_on() -> None:
    with Store(":memory:") as s:
        c = s.conn
        c.execute("INSERT INTO customers (id, name, status) VALUES (1, 'Birch', 'configured')")
        c.execute("INSERT INTO messages (key, message_id) VALUES ('k1', 'a@b')")
        c.execute("INSERT INTO links (message_key, customer_id, method) VALUES ('k1', 1, 'domain')")
        assert s.outbox.pending() == 0  # team mode off: the triggers stay quiet
        assert s.outbox.enable() == 2  # on: what is there is queued once
        assert s.outbox.enable() == 0
        batch = s.outbox.next_batch(10)
        assert [(q.kind, q.key) for q in batch] == [("customer", "1"), ("link", "1:k1")]
        # changed while a push runs: queued again under a new id, which done() leaves
        c.execute("UPDATE customers SET tier = 'A' WHERE id = 1")
        s.outbox.done(q.id for q in batch)
        assert [(q.kind, q.key) for q in s.outbox.next_batch(10)] == [("customer", "1")]
        c.execute("UPDATE messages SET direction = 'outbound' WHERE key = 'k1'")
        c.execute("DELETE FROM links")
        kinds = sorted((q.kind, q.key) for q in s.outbox.next_batch(10))
        assert kinds == [("customer", "1"), ("link", "1:k1"), ("message", "k1")]
