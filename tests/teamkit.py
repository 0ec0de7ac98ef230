"""Helpers for the team tests: a team database set up as the README tells an administrator,
logins as a rep, and a rep's mailkeeper.yaml with a team: section."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from mailkeeper.cli import cli

REPS = ("amy", "bob")
MANAGER = "lee"
PASSWORD = "team-pw-7"
_dbs = itertools.count()


def admin_sql(*args: str) -> str:
    result = CliRunner().invoke(cli, ["team", "admin-sql", *args], catch_exceptions=False)
    if result.exit_code != 0:
        raise RuntimeError(result.output)
    return result.output


def team_database(pg: Any, tmp_path: Path, reps: tuple[str, ...] = REPS,
                  manager: str = MANAGER) -> str:  # fmt: skip
    """A fresh database: `team admin-sql` applied with psql, then passwords set."""
    name = f"team{next(_dbs)}_{tmp_path.name[-12:].lower()}".replace("-", "_")
    pg.create_database(name)
    tmp_path.mkdir(parents=True, exist_ok=True)
    sql = tmp_path / f"{name}.sql"
    args = [a for r in reps for a in ("--rep", r)] + ["--manager", manager]
    sql.write_text(admin_sql(*args))
    pg.psql(name, file=sql)
    for role in (*reps, manager):
        pg.set_password(role, PASSWORD)
    return name


def login(pg: Any, db: str, role: str) -> Any:
    import psycopg

    return psycopg.connect(host=pg.host, port=pg.port, dbname=db, user=role, password=PASSWORD,
                           autocommit=True)  # fmt: skip


def team_section(pg: Any, db: str, rep: str, share: str = "full") -> str:
    return (
        f"team:\n  rep: {rep}\n  host: 127.0.0.1\n  port: {pg.port}\n  database: {db}\n"
        f"  password_command: printf '%s' '{PASSWORD}'\n  sslmode: disable\n  share: {share}\n"
    )


def manager_config(dest: Path, pg: Any, db: str) -> Path:
    """A manager's mailkeeper.yaml: me and team:, no accounts."""
    dest.mkdir(parents=True, exist_ok=True)
    cfg = dest / "mailkeeper.yaml"
    cfg.write_text(
        "me:\n  name: Lee Wang\n  addresses: [lee@lumen-furniture.com]\n"
        "  company_domains: [lumen-furniture.com]\n" + team_section(pg, db, MANAGER)
    )
    cfg.chmod(0o600)
    return cfg


def snapshot(pg: Any, db: str) -> dict[str, list[tuple[Any, ...]]]:
    """The whole team record, table by table, without the columns a push's time sets."""
    import psycopg

    tables = {
        "customers": "name, owner, rep",
        "customer_views": "rep, customer, tier, status, language, interval_days",
        "customer_domains": "rep, domain, customer",
        "customer_addresses": "rep, email, customer",
        "messages": "key, message_id, date, from_email, subject, to_json::text, cc_json::text",
        "message_texts": "key, body",
        "links": "message_key, rep, customer, direction, method, via, contact, active",
        "findings": "rep, key, kind, customer, state, message_key, opened_at, due_at, closed_at",
        "orders": "rep, ref_key, ref, customer, confirmed_at, plan, ship_by, closed_at",
        "order_events": "rep, ref_key, milestone, at, note",
        "order_problems": "rep, ref_key, at, note",
        "drafts": "rep, key, kind, customer, finding_key, subject, state",
    }
    with psycopg.connect(pg.superuser_dsn(db)) as c:
        return {
            t: sorted(c.execute(f"SELECT {cols} FROM team.{t}").fetchall(), key=repr)
            for t, cols in tables.items()
        }
