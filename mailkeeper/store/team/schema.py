"""The team record's schema on PostgreSQL: numbered migrations and the SQL an administrator runs.

The team store's only DDL. `admin_sql` prints everything an administrator runs once inside an
existing, empty database (`psql -v ON_ERROR_STOP=1 -d DB -f FILE`): the schema, one login role
per rep and one for the manager (named exactly as given, without passwords: the administrator
sets them), grants and row-level security. `upgrade_sql` prints what takes a database from an
older version to this one, the security part again (it is written to be run more than once).

Security, enforced by PostgreSQL and not by the client: every table is readable by every team
role (reading the whole record is the point); a rep's role may insert and update only rows whose
`rep` is itself (row-level security, `rep` defaults to `current_user`) and deletes nothing (no
DELETE or TRUNCATE grant: the record is append-only for reps, so a rep who leaves cannot take
the history along); no team role owns a table or may create one (the schema and its tables
belong to the administrator who ran the SQL). The manager reads everything and may change a
customer's owner (`team handover`), recorded in `handovers`.
"""

from __future__ import annotations

from collections.abc import Sequence

SCHEMA = "team"

# Tables whose rows a rep writes: (table, the rep may also update its own rows).
REP_TABLES: tuple[tuple[str, bool], ...] = (
    ("reps", True),
    ("customers", False),  # the first rep to publish a customer owns it; only the manager moves it
    ("customer_views", True),
    ("customer_domains", True),
    ("customer_addresses", True),
    ("messages", False),  # a message is written once, by the first rep to publish it
    ("message_texts", False),  # ... and its text, when that rep shares text
    ("links", True),
    ("findings", True),
    ("orders", True),
    ("order_events", True),
    ("order_problems", True),
    ("drafts", True),
)
MANAGER_TABLES = ("handovers",)

M001_INITIAL = [
    f"CREATE SCHEMA {SCHEMA}",
    f"CREATE TABLE {SCHEMA}.schema_version (version integer NOT NULL)",
    f"""CREATE TABLE {SCHEMA}.reps (
        rep text PRIMARY KEY DEFAULT current_user,
        last_push_at timestamptz,
        pending integer NOT NULL DEFAULT 0,      -- outbox rows left after the last push
        client_version text
    )""",
    # One row per customer name, whoever published it first; `owner` moves with a handover.
    f"""CREATE TABLE {SCHEMA}.customers (
        name text PRIMARY KEY,
        owner text NOT NULL,
        rep text NOT NULL DEFAULT current_user,  -- who published it first
        created_at timestamptz NOT NULL DEFAULT now()
    )""",
    f"CREATE INDEX customers_lower_name ON {SCHEMA}.customers (lower(name))",
    # Each rep's view of a customer: its tier and that tier's contact interval in the rep's rules.
    f"""CREATE TABLE {SCHEMA}.customer_views (
        rep text NOT NULL DEFAULT current_user,
        customer text NOT NULL,
        tier text,
        status text,
        language text,
        interval_days integer,
        PRIMARY KEY (rep, customer)
    )""",
    f"""CREATE TABLE {SCHEMA}.customer_domains (
        rep text NOT NULL DEFAULT current_user,
        domain text NOT NULL,
        customer text NOT NULL,
        PRIMARY KEY (rep, domain)
    )""",
    f"CREATE INDEX customer_domains_domain ON {SCHEMA}.customer_domains (domain)",
    f"""CREATE TABLE {SCHEMA}.customer_addresses (
        rep text NOT NULL DEFAULT current_user,
        email text NOT NULL,
        customer text NOT NULL,
        PRIMARY KEY (rep, email, customer)
    )""",
    f"CREATE INDEX customer_addresses_customer ON {SCHEMA}.customer_addresses (customer)",
    # A message once, whichever mailboxes hold it: `key` is its identity across reps
    # (Message-ID, Date, sender, subject, text; not size or trace headers).
    f"""CREATE TABLE {SCHEMA}.messages (
        key text PRIMARY KEY,
        message_id text,
        date timestamptz,
        from_email text,
        from_name text,
        subject text,
        to_json jsonb,
        cc_json jsonb,
        rep text NOT NULL DEFAULT current_user,
        created_at timestamptz NOT NULL DEFAULT now()
    )""",
    f"CREATE INDEX messages_message_id ON {SCHEMA}.messages (message_id)",
    # Its text, apart: a customer's history reads many messages' headers, and narrow rows keep
    # them in few pages. No row when the reps who published it share headers only.
    f"""CREATE TABLE {SCHEMA}.message_texts (
        key text PRIMARY KEY,
        body text NOT NULL,
        rep text NOT NULL DEFAULT current_user
    )""",
    # A rep's link of a message to a customer: the rep's mailbox holds the message.
    f"""CREATE TABLE {SCHEMA}.links (
        message_key text NOT NULL,
        rep text NOT NULL DEFAULT current_user,
        customer text NOT NULL,
        direction text,
        method text,
        via text,
        contact boolean NOT NULL DEFAULT true,
        active boolean NOT NULL DEFAULT true,    -- false: the rep's linking undid it since
        PRIMARY KEY (message_key, rep, customer)
    )""",
    f"CREATE INDEX links_customer ON {SCHEMA}.links (customer)",
    f"""CREATE TABLE {SCHEMA}.findings (
        rep text NOT NULL DEFAULT current_user,
        key text NOT NULL,
        kind text NOT NULL,
        customer text,
        state text NOT NULL,
        message_key text,
        opened_at timestamptz,
        due_at timestamptz,
        closed_at timestamptz,
        data jsonb,
        updated_at timestamptz,
        PRIMARY KEY (rep, key)
    )""",
    f"CREATE INDEX findings_customer ON {SCHEMA}.findings (customer)",
    f"""CREATE TABLE {SCHEMA}.orders (
        rep text NOT NULL DEFAULT current_user,
        ref_key text NOT NULL,
        ref text NOT NULL,
        customer text,
        confirmed_at timestamptz,
        plan text,
        ship_by timestamptz,
        closed_at timestamptz,
        PRIMARY KEY (rep, ref_key)
    )""",
    f"""CREATE TABLE {SCHEMA}.order_events (
        rep text NOT NULL DEFAULT current_user,
        ref_key text NOT NULL,
        milestone text NOT NULL,
        at timestamptz NOT NULL,
        note text,
        PRIMARY KEY (rep, ref_key, milestone, at)
    )""",
    f"""CREATE TABLE {SCHEMA}.order_problems (
        rep text NOT NULL DEFAULT current_user,
        ref_key text NOT NULL,
        at timestamptz NOT NULL,
        note text NOT NULL,
        PRIMARY KEY (rep, ref_key, at, note)
    )""",
    f"""CREATE TABLE {SCHEMA}.drafts (
        rep text NOT NULL DEFAULT current_user,
        key text NOT NULL,
        kind text NOT NULL,
        customer text,
        finding_key text,
        subject text,
        state text NOT NULL,
        created_at timestamptz,
        state_at timestamptz,
        PRIMARY KEY (rep, key)
    )""",
    f"""CREATE TABLE {SCHEMA}.handovers (
        id bigserial PRIMARY KEY,
        at timestamptz NOT NULL,
        customer text NOT NULL,
        from_rep text NOT NULL,
        to_rep text NOT NULL,
        by_role text NOT NULL DEFAULT current_user
    )""",
    f"CREATE INDEX handovers_customer ON {SCHEMA}.handovers (customer)",
]

# version -> its statements; the record's version is the highest applied.
MIGRATIONS: list[tuple[int, list[str]]] = [(1, M001_INITIAL)]
VERSION = MIGRATIONS[-1][0]


def ident(name: str) -> str:
    """`name` as a quoted SQL identifier: a role is named exactly as given."""
    return '"' + name.replace('"', '""') + '"'


def literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def role_problems(reps: Sequence[str], manager: str) -> list[str]:
    """What is wrong with the role names asked for (empty: fine)."""
    problems = []
    names = [*reps, manager]
    if not reps:
        problems.append("at least one --rep NAME")
    for n in names:
        if not n.strip() or "\x00" in n or len(n.encode()) > 63:
            problems.append(f"'{n}': a role name is 1 to 63 bytes, without NUL")
        elif n.startswith("pg_"):
            problems.append(f"'{n}': names starting with pg_ are reserved by PostgreSQL")
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        problems.append(f"named twice: {', '.join(dup)} (the manager is not also a rep)")
    return problems


def _migration_sql(start: int) -> list[str]:
    out = []
    for version, statements in MIGRATIONS:
        if version <= start:
            continue
        out.append(f"-- migration {version}")
        out += [s.strip() + ";" for s in statements]
        out.append(f"DELETE FROM {SCHEMA}.schema_version;")
        out.append(f"INSERT INTO {SCHEMA}.schema_version (version) VALUES ({version});")
    return out


def _roles_sql(names: Sequence[str]) -> list[str]:
    out = ["-- login roles, without passwords: set them with ALTER ROLE name PASSWORD '...'"]
    for n in names:
        out.append(
            "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = "
            f"{literal(n)}) THEN CREATE ROLE {ident(n)} LOGIN; END IF; END $$;"
        )
    return out


def _security_sql(reps: Sequence[str], manager: str) -> list[str]:
    s = SCHEMA
    rep_list = ", ".join(ident(r) for r in reps)
    everyone = ", ".join(ident(r) for r in [*reps, manager])
    mgr = ident(manager)
    out = [
        "-- nobody but the administrator creates anything in this database",
        "REVOKE CREATE ON SCHEMA public FROM PUBLIC;",
        "DO $$ BEGIN EXECUTE format('REVOKE CREATE, TEMPORARY ON DATABASE %I FROM PUBLIC', "
        "current_database()); END $$;",
        f"REVOKE ALL ON ALL TABLES IN SCHEMA {s} FROM PUBLIC;",
        f"GRANT USAGE ON SCHEMA {s} TO {everyone};",
        f"GRANT SELECT ON ALL TABLES IN SCHEMA {s} TO {everyone};",
        "-- reps: insert (and update where allowed) their own rows; never delete",
    ]
    for table, update in REP_TABLES:
        rights = "INSERT, UPDATE" if update else "INSERT"
        out.append(f"GRANT {rights} ON {s}.{table} TO {rep_list};")
    out += [
        "-- the manager: moves a customer's owner and records the handover",
        f"GRANT UPDATE (owner) ON {s}.customers TO {mgr};",
        f"GRANT INSERT ON {s}.handovers TO {mgr};",
        f"GRANT USAGE ON SEQUENCE {s}.handovers_id_seq TO {mgr};",
        "-- row-level security: the database, not the client, decides whose rows a role writes",
    ]
    for table in ["schema_version", *[t for t, _ in REP_TABLES], *MANAGER_TABLES]:
        t = f"{s}.{table}"
        out.append(f"ALTER TABLE {t} ENABLE ROW LEVEL SECURITY;")
        for policy in ("read_all", "own_insert", "own_update", "manager_handover", "manager_log"):
            out.append(f"DROP POLICY IF EXISTS {policy} ON {t};")
        out.append(f"CREATE POLICY read_all ON {t} FOR SELECT USING (true);")
    for table, update in REP_TABLES:
        t = f"{s}.{table}"
        check = "rep = current_user"
        if table == "customers":
            check += " AND owner = current_user"
        out.append(
            f"CREATE POLICY own_insert ON {t} FOR INSERT TO {rep_list} WITH CHECK ({check});"
        )
        if update:
            out.append(
                f"CREATE POLICY own_update ON {t} FOR UPDATE TO {rep_list} "
                "USING (rep = current_user) WITH CHECK (rep = current_user);"
            )
    out += [
        f"CREATE POLICY manager_handover ON {s}.customers FOR UPDATE TO {mgr} "
        "USING (true) WITH CHECK (true);",
        f"CREATE POLICY manager_log ON {s}.handovers FOR INSERT TO {mgr} "
        "WITH CHECK (by_role = current_user);",
    ]
    return out


def admin_sql(reps: Sequence[str], manager: str) -> str:
    """The complete SQL for an existing, empty database (see the module's docstring)."""
    lines = [
        f"-- mailkeeper team record, schema version {VERSION}",
        "-- run once as an administrator inside the (empty) team database:",
        "--   psql -v ON_ERROR_STOP=1 -d DB -f FILE",
        "BEGIN;",
        *_migration_sql(0),
        *_roles_sql([*reps, manager]),
        *_security_sql(reps, manager),
        "COMMIT;",
    ]
    return "\n".join(lines) + "\n"


def upgrade_sql(start: int, reps: Sequence[str], manager: str) -> str:
    """What takes a team database at version `start` to this version, grants and policies
    again for the roles named (new tables get theirs; old ones are rewritten as they were)."""
    lines = [
        f"-- mailkeeper team record: upgrade from schema version {start} to {VERSION}",
        "BEGIN;",
        *_migration_sql(start),
        *_roles_sql([*reps, manager]),
        *_security_sql(reps, manager),
        "COMMIT;",
    ]
    return "\n".join(lines) + "\n"
