"""The team record's schema and security on a real PostgreSQL (issue 23): the SQL of
`team admin-sql` applies as an administrator runs it, and the database itself keeps each rep
to their own rows, lets nobody delete or change the schema, lets only the manager move
ownership, and a rep's mailkeeper refuses a schema of another version."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from mailkeeper.cli import cli

sys.path.insert(0, str(Path(__file__).parent))
from teamkit import MANAGER, admin_sql, login, team_database  # noqa: E402

psycopg = pytest.importorskip("psycopg", reason="team mode needs psycopg (the team extra)")


@pytest.fixture
def team_db(postgres_server: Any, tmp_path: Path) -> str:
    return team_database(postgres_server, tmp_path)


def test_the_admin_sql_applies_cleanly_and_names_roles_exactly(
    postgres_server: Any, tmp_path: Path
) -> None:
    reps = ("Amy Chen", 'o"brien')
    db = team_database(postgres_server, tmp_path, reps=reps, manager="Lee")
    out = postgres_server.psql(db, "SELECT rolname, rolcanlogin FROM pg_roles ORDER BY 1").stdout
    for role in (*reps, "Lee"):
        assert role in out
    with login(postgres_server, db, 'o"brien') as c:
        assert c.execute("SELECT current_user").fetchone()[0] == 'o"brien'
        assert c.execute("SELECT version FROM team.schema_version").fetchone()[0] == 1
    # no password in the SQL: the administrator sets them
    statements = [x for x in admin_sql("--rep", "amy", "--manager", "lee").splitlines()
                  if not x.startswith("--")]  # fmt: skip
    assert not [x for x in statements if "PASSWORD" in x.upper()]


def test_admin_sql_refuses_bad_names() -> None:
    result = CliRunner().invoke(cli, ["team", "admin-sql", "--rep", "amy", "--manager", "amy"])
    assert result.exit_code == 1
    assert "named twice: amy" in result.output


def test_a_rep_writes_only_their_own_rows_and_deletes_nothing(
    postgres_server: Any, team_db: str
) -> None:
    pg = postgres_server
    with login(pg, team_db, "amy") as amy:
        amy.execute("INSERT INTO team.findings (key, kind, state) VALUES ('f1', 'issue', 'open')")
        amy.execute("INSERT INTO team.customers (name, owner) VALUES ('Birch', 'amy')")
    with login(pg, team_db, "bob") as bob:
        # bob sees amy's row (the record is for everyone) ...
        assert bob.execute("SELECT rep, state FROM team.findings").fetchall() == [("amy", "open")]
        # ... but updating it changes nothing: row-level security hides it from his UPDATE
        cur = bob.execute("UPDATE team.findings SET state = 'resolved' WHERE rep = 'amy'")
        assert cur.rowcount == 0
    with login(pg, team_db, "bob") as bob:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):  # writing as amy
            bob.execute("INSERT INTO team.findings (rep, key, kind, state) "
                        "VALUES ('amy', 'f2', 'issue', 'open')")  # fmt: skip
        with pytest.raises(psycopg.errors.InsufficientPrivilege):  # taking over a customer
            bob.execute("UPDATE team.customers SET owner = 'bob'")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):  # deleting history
            bob.execute("DELETE FROM team.findings")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            bob.execute("TRUNCATE team.messages")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):  # changing the schema
            bob.execute("ALTER TABLE team.findings ADD COLUMN x int")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            bob.execute("CREATE TABLE team.mine (x int)")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            bob.execute("CREATE TABLE public.mine (x int)")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            bob.execute("UPDATE team.schema_version SET version = 9")
    with login(pg, team_db, "amy") as amy:
        assert amy.execute("SELECT state FROM team.findings WHERE key = 'f1'").fetchone() == (
            "open",
        )


def test_only_the_manager_moves_ownership(postgres_server: Any, team_db: str) -> None:
    pg = postgres_server
    with login(pg, team_db, "amy") as amy:
        amy.execute("INSERT INTO team.customers (name, owner) VALUES ('Birch', 'amy')")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):  # a rep's own, still no
            amy.execute("UPDATE team.customers SET owner = 'bob'")
    with login(pg, team_db, MANAGER) as lee:
        lee.execute("UPDATE team.customers SET owner = 'bob' WHERE name = 'Birch'")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            lee.execute("UPDATE team.customers SET name = 'Other'")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            lee.execute("INSERT INTO team.findings (key, kind, state) VALUES ('x', 'y', 'z')")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            lee.execute("DELETE FROM team.customers")
        assert lee.execute("SELECT owner FROM team.customers").fetchone() == ("bob",)


def test_the_upgrade_sql_runs_on_a_database_of_that_version(
    postgres_server: Any, team_db: str, tmp_path: Path
) -> None:
    """The grants and policies are written to be run again: an upgrade (here from the current
    version: no migration, a new rep) applies cleanly over the existing record."""
    sql = tmp_path / "upgrade.sql"
    sql.write_text(admin_sql("--rep", "amy", "--rep", "bob", "--rep", "cai", "--manager",
                             MANAGER, "--upgrade-from", "1"))  # fmt: skip
    postgres_server.psql(team_db, file=sql)
    postgres_server.set_password("cai", "team-pw-7")
    with login(postgres_server, team_db, "cai") as cai:
        cai.execute("INSERT INTO team.reps DEFAULT VALUES")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            cai.execute("DELETE FROM team.reps")
    result = CliRunner().invoke(
        cli, ["team", "admin-sql", "--rep", "a", "--manager", "m", "--upgrade-from", "7"]
    )
    assert result.exit_code == 1 and "knows versions 1 to 1" in result.output
