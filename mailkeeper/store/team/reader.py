"""Reading the team record for the team commands, and the manager's one write (handover)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from mailkeeper.errors import UserError
from mailkeeper.store.team.schema import SCHEMA as S

_CUSTOMERS = f"""
WITH lk AS (
    SELECT l.customer,
           max(m.date) FILTER (WHERE l.direction = 'outbound' AND l.contact) AS last_outbound,
           max(m.date) FILTER (WHERE l.direction = 'inbound' AND l.contact) AS last_inbound,
           count(DISTINCT l.message_key) AS messages
    FROM {S}.links l JOIN {S}.messages m ON m.key = l.message_key
    WHERE l.active AND (m.date <= %(as_of)s OR m.date IS NULL)
    GROUP BY l.customer
)
SELECT c.name, c.owner, v.tier, v.interval_days, lk.last_inbound, lk.last_outbound,
       coalesce(lk.messages, 0), h.at
FROM {S}.customers c
LEFT JOIN LATERAL (
    SELECT tier, interval_days FROM {S}.customer_views v WHERE v.customer = c.name
    ORDER BY (v.rep = c.owner) DESC, v.rep LIMIT 1) v ON true
LEFT JOIN lk ON lk.customer = c.name
LEFT JOIN LATERAL (
    SELECT max(at) AS at FROM {S}.handovers h
    WHERE h.customer = c.name AND h.at <= %(as_of)s) h ON true
ORDER BY c.name
"""

# The links are grouped first (narrow rows; a rep links a message to a customer once, so no
# DISTINCT), then joined to their messages.
_HISTORY = f"""
SELECT m.message_id, m.date, m.subject, m.from_email, l.reps, l.outbound, l.inbound
FROM (
    SELECT message_key, array_agg(rep ORDER BY rep) AS reps,
           bool_or(direction = 'outbound') AS outbound, bool_or(direction = 'inbound') AS inbound
    FROM {S}.links WHERE customer = %s AND active GROUP BY message_key
) l JOIN {S}.messages m ON m.key = l.message_key
ORDER BY m.date DESC NULLS LAST, m.key
"""


class TeamReader:
    def __init__(self, team: Any) -> None:
        self.conn = team.conn
        self.role = team.role

    def _all(self, sql: str, params: Any = None) -> list[tuple[Any, ...]]:
        with self.conn.transaction():
            return list(self.conn.execute(sql, params).fetchall())

    def reps(self) -> list[tuple[Any, ...]]:
        """(rep, last_push_at, pending, client_version, messages published by it)."""
        return self._all(
            f"SELECT r.rep, r.last_push_at, r.pending, r.client_version, "
            f"(SELECT count(*) FROM {S}.links l WHERE l.rep = r.rep) "
            f"FROM {S}.reps r ORDER BY r.rep"
        )

    def counts(self) -> dict[str, int]:
        out = {}
        for table in ("customers", "messages", "links", "findings", "orders", "drafts"):
            out[table] = int(self._all(f"SELECT count(*) FROM {S}.{table}")[0][0])
        return out

    def conflicts(self) -> list[tuple[str, list[str], list[str]]]:
        """Domains two reps file under different customer names: (domain, names, reps)."""
        return [
            (r[0], list(r[1]), list(r[2]))
            for r in self._all(
                f"SELECT domain, array_agg(DISTINCT customer ORDER BY customer), "
                f"array_agg(DISTINCT rep ORDER BY rep) FROM {S}.customer_domains "
                "GROUP BY domain HAVING count(DISTINCT customer) > 1 ORDER BY domain"
            )
        ]

    def customers(self, as_of: datetime) -> list[tuple[Any, ...]]:
        """(name, owner, tier, interval_days, last_inbound, last_outbound, messages,
        last handover)."""
        return self._all(_CUSTOMERS, {"as_of": as_of})

    def customer_names(self) -> list[str]:
        return [r[0] for r in self._all(f"SELECT name FROM {S}.customers ORDER BY name")]

    def find_customer(self, name: str) -> str | None:
        """The customer called `name`, else the one whose name is `name` ignoring case (one
        query: the whole list is read only to suggest names when neither is found)."""
        rows = self._all(
            f"SELECT name FROM {S}.customers WHERE name = %s OR lower(name) = lower(%s) "
            "ORDER BY name <> %s LIMIT 1", (name, name, name))  # fmt: skip
        return rows[0][0] if rows else None

    def customer(self, name: str) -> tuple[Any, ...] | None:
        rows = self._all(f"SELECT name, owner FROM {S}.customers WHERE name = %s", (name,))
        return rows[0] if rows else None

    def contacts(self, name: str) -> list[str]:
        return [r[0] for r in self._all(
            f"SELECT DISTINCT email FROM {S}.customer_addresses WHERE customer = %s "
            "ORDER BY email", (name,))]  # fmt: skip

    def history(self, name: str) -> list[tuple[Any, ...]]:
        """(message_id, date, subject, from, reps, any outbound, any inbound), newest first."""
        return self._all(_HISTORY, (name,))

    def role_exists(self, name: str) -> bool:
        return bool(self._all("SELECT 1 FROM pg_roles WHERE rolname = %s", (name,)))

    def handover(self, from_rep: str, to_rep: str, customer: str | None, at: datetime) -> list[str]:
        """Move the customers `from_rep` owns (or only `customer`) to `to_rep`, recording each
        move; the names moved. Only the manager's role may (grants and row-level security)."""
        import psycopg

        try:
            return self._handover(from_rep, to_rep, customer, at)
        except psycopg.errors.InsufficientPrivilege as e:
            raise UserError(
                f"the team database refused the handover to role '{self.role}'",
                [str(e).strip().splitlines()[0], "only the manager's role hands customers over"],
            ) from None

    def _handover(
        self, from_rep: str, to_rep: str, customer: str | None, at: datetime
    ) -> list[str]:
        with self.conn.transaction():
            sql = f"UPDATE {S}.customers SET owner = %s WHERE owner = %s"
            params: tuple[Any, ...] = (to_rep, from_rep)
            if customer is not None:
                sql += " AND name = %s"
                params += (customer,)
            moved = [r[0] for r in self.conn.execute(sql + " RETURNING name", params).fetchall()]
            with self.conn.cursor() as cur:
                cur.executemany(
                    f"INSERT INTO {S}.handovers (at, customer, from_rep, to_rep) "
                    "VALUES (%s, %s, %s, %s)",
                    [(at, name, from_rep, to_rep) for name in moved],
                )
        return sorted(moved)

    def size_bytes(self) -> int:
        return int(self._all("SELECT pg_database_size(current_database())")[0][0])
