"""The meta table: small named values the pipeline keeps between runs."""

from __future__ import annotations

import json
from typing import Any

from mailkeeper.store.db import QUICK_CHECK_KEY, Database


class StateStore:
    def __init__(self, db: Database) -> None:
        self.conn = db.conn

    def _get(self, key: str) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def _set(self, key: str, value: str | None) -> None:
        if value is None:
            self.conn.execute("DELETE FROM meta WHERE key = ?", (key,))
            return
        self.conn.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    def quick_check_ok_at(self) -> str | None:
        """When `mailkeeper check` last found the database whole (PRAGMA quick_check)."""
        return self._get(QUICK_CHECK_KEY)

    def linked_rowid(self) -> int:
        """Messages up to this row id have been linked."""
        return int(self._get("linked_rowid") or 0)

    def set_linked_rowid(self, rowid: int) -> None:
        self._set("linked_rowid", str(rowid))

    def rules_fingerprint(self) -> str | None:
        """The fingerprint of the rules the links were made under."""
        return self._get("rules_fingerprint")

    def set_rules_fingerprint(self, fingerprint: str) -> None:
        self._set("rules_fingerprint", fingerprint)

    def folder_roles(self, account: str) -> dict[str, Any] | None:
        """The folder roles found for `account` and what they were found under."""
        value = self._get(f"folder_roles:{account}")
        return json.loads(value) if value else None

    def set_folder_roles(self, account: str, value: dict[str, Any] | None) -> None:
        self._set(f"folder_roles:{account}", json.dumps(value) if value is not None else None)
