"""What every mailbox adapter offers the sync."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

from mailkeeper.model import Fetched

ROLES = ("inbox", "sent", "drafts")


@dataclass(frozen=True)
class FolderStatus:
    uidvalidity: int
    uidnext: int | None
    messages: int
    highestmodseq: int | None


class Mailbox(Protocol):
    """A read-only view of one account's folders (plus, later, APPEND of drafts)."""

    def folder_roles(self) -> dict[str, str]:
        """role -> folder name for inbox, sent, drafts (those that exist)."""
        ...

    def status(self, folder: str) -> FolderStatus: ...

    def fetch_new(self, folder: str, after_uid: int, batch_size: int) -> Iterator[list[Fetched]]:
        """Batches of every message with a UID above `after_uid`, in UID order."""
        ...

    def changed_flags(self, folder: str, since_modseq: int) -> dict[int, tuple[str, ...]]: ...

    def close(self) -> None: ...
