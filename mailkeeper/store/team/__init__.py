"""The team record on PostgreSQL (issue 23): the SQLite store's sibling, the only code that
speaks SQL to it. `connect` opens a connection as the rep's (or the manager's) own role and
checks the schema version; `TeamWriter` publishes (idempotent upserts keyed by natural keys);
`TeamReader` answers the team commands. psycopg 3 is imported here only, so a mailkeeper
without the `team` extra runs everything else."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mailkeeper.errors import MailkeeperError, UserError
from mailkeeper.store.team.schema import SCHEMA, VERSION, admin_sql, upgrade_sql

__all__ = [
    "VERSION",
    "TeamConnection",
    "TeamSchemaError",
    "TeamUnavailable",
    "admin_sql",
    "connect",
    "upgrade_sql",
]

CONNECT_TIMEOUT = 10  # seconds: a team database that does not answer must not hold a daemon up


class TeamUnavailable(MailkeeperError):
    """The team database cannot be reached now (down, network gone): local work goes on and
    the next push catches up."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems: list[str] = list(problems or [])


class TeamSchemaError(UserError):
    """The team database holds no team schema, or one of another version."""


@dataclass(frozen=True)
class Params:
    host: str
    port: int
    database: str
    user: str
    password: str | None
    sslmode: str
    sslrootcert: Path | None


def _psycopg() -> Any:
    try:
        import psycopg
    except ImportError:
        raise UserError(
            "team mode needs psycopg 3, which is not installed",
            ["pip install 'mailkeeper[team]' (or pip install 'psycopg[binary]>=3.1')"],
        ) from None
    return psycopg


class TeamConnection:
    """One open connection to the team record, schema version checked."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn
        self.role: str = conn.execute("SELECT current_user").fetchone()[0]

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> TeamConnection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def writer(self) -> Any:
        from mailkeeper.store.team.writer import TeamWriter

        return TeamWriter(self)

    def reader(self) -> Any:
        from mailkeeper.store.team.reader import TeamReader

        return TeamReader(self)


def connect(p: Params) -> TeamConnection:
    """A connection as `p.user`; TeamUnavailable when the server cannot be reached,
    UserError for a refused login, TeamSchemaError for a schema of another version."""
    psycopg = _psycopg()
    kwargs: dict[str, Any] = {
        "host": p.host,
        "port": p.port,
        "dbname": p.database,
        "user": p.user,
        "sslmode": p.sslmode,
        "connect_timeout": CONNECT_TIMEOUT,
        "application_name": "mailkeeper",
        "autocommit": True,  # each publish or change is one explicit transaction
    }
    if p.password is not None:
        kwargs["password"] = p.password
    if p.sslrootcert is not None:
        kwargs["sslrootcert"] = str(p.sslrootcert)
    where = f"{p.user}@{p.host}:{p.port}/{p.database}"
    try:
        conn = psycopg.connect(**kwargs)
    except psycopg.OperationalError as e:
        text = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        if "authentication failed" in text or "does not exist" in text or "certificate" in text:
            raise UserError(f"the team database refused {where}", [text]) from None
        raise TeamUnavailable(
            f"the team database at {where} cannot be reached: {text}",
            ["nothing is lost: what is still to publish waits in the local outbox for the next "
             "push; check team.host and team.port, and that PostgreSQL is running"],
        ) from None  # fmt: skip
    try:
        check_version(conn)
    except BaseException:
        conn.close()
        raise
    return TeamConnection(conn)


def check_version(conn: Any) -> int:
    psycopg = _psycopg()
    try:
        with conn.transaction():
            row = conn.execute(f"SELECT max(version) FROM {SCHEMA}.schema_version").fetchone()
    except psycopg.errors.UndefinedTable:
        raise TeamSchemaError(
            "the team database holds no mailkeeper team schema",
            ["an administrator creates it: mailkeeper team admin-sql --rep NAME ... "
             "--manager NAME > team.sql; psql -v ON_ERROR_STOP=1 -d DB -f team.sql"],
        ) from None  # fmt: skip
    except psycopg.errors.InsufficientPrivilege:
        raise TeamSchemaError(
            "this role may not read the team schema",
            ["the administrator runs the SQL of `mailkeeper team admin-sql` naming this role"],
        ) from None
    version = int(row[0] or 0)
    if version < VERSION:
        raise TeamSchemaError(
            f"the team database's schema is version {version}, older than this mailkeeper's "
            f"({VERSION})",
            [f"an administrator upgrades it: mailkeeper team admin-sql --upgrade-from {version} "
             "--rep NAME ... --manager NAME, run with psql as before"],
        )  # fmt: skip
    if version > VERSION:
        raise TeamSchemaError(
            f"the team database's schema is version {version}, newer than this mailkeeper's "
            f"({VERSION})",
            ["upgrade mailkeeper on this machine to the version the team uses"],
        )
    return version
