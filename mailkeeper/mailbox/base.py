"""What every mailbox adapter offers the sync (IMAP and local Maildir alike)."""

from __future__ import annotations

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
    """A read-only view of one account's folders. Used as a context manager:
    `__enter__` connects (or opens), `__exit__` closes."""

    def __enter__(self) -> Mailbox: ...

    def __exit__(self, *exc: object) -> None: ...

    def folder_roles(self) -> dict[str, str]:
        """role -> folder name for inbox, sent, drafts (those that exist), after the
        account's `folders:` overrides; raises UserError naming folders that do not exist."""
        ...

    def status(self, folder: str) -> FolderStatus:
        """Cheap: tells whether anything is new without listing the folder."""
        ...

    def new_uids(self, folder: str, after_uid: int) -> list[int]:
        """Every UID above `after_uid`, ascending."""
        ...

    def fetch_batch(
        self, folder: str, uids: list[int], next_uids: list[int] | None = None
    ) -> list[Fetched]:
        """Fetched for each UID that still exists, in UID order; attachment bodies never read.
        `next_uids`: the batch the caller asks for next, which an adapter may start on."""
        ...

    def changed_flags(self, folder: str, since_modseq: int) -> dict[int, tuple[str, ...]]:
        """Flags of messages changed since `since_modseq` ({} when the store has no modseq)."""
        ...
