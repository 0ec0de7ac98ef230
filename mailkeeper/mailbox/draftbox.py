"""The one write mailkeeper makes to a mailbox: adding a new draft to the Drafts folder.

Both kinds of account offer the same four calls: the Drafts folder's name (SPECIAL-USE
\\Drafts, name fallbacks, the `folders: {drafts: ...}` override; never created), the keys of
our drafts still in it, which of our keys reached the Sent folder, and appending a draft.
Nothing that is already in a mailbox is ever changed, moved, flagged or deleted.

The IMAP one is here (ImapDraftBox), the Maildir one in mailbox/maildir.py (MaildirDraftBox).
A draft is added \\Draft \\Seen (Maildir flags DS), as mail clients save theirs.
IMAP uses its own plain connection (mailbox/imapconn.connect), apart from the sync's
pipelined one; the only values put into IMAP commands are our own hex keys and folder names
the server listed. A Maildir gets a new file in its Drafts folder with the D (draft) and S flags.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, Protocol

from mailkeeper.errors import UserError
from mailkeeper.mailbox.base import FolderRoles

logger = logging.getLogger(__name__)

KEY_HEADER = b"X-Mailkeeper-Key"
_KEY_LINE = re.compile(rb"^X-Mailkeeper-Key:[ \t]*([0-9a-f]{8,64})[ \t]*\r?$", re.I | re.M)
_HEX = re.compile(r"^[0-9a-f]{8,64}$")


class DraftBox(Protocol):
    def __enter__(self) -> DraftBox: ...

    def __exit__(self, *exc: object) -> None: ...

    def drafts_folder(self) -> str:
        """The Drafts folder's name; UserError when the mailbox has none (never created)."""
        ...

    def draft_keys(self) -> set[str]:
        """Keys of mailkeeper drafts now in the Drafts folder (edited ones included)."""
        ...

    def sent_keys(self, keys: Iterable[str]) -> set[str]:
        """Which of `keys` appear on a message in the Sent folder (a sent draft)."""
        ...

    def append_draft(self, raw: bytes) -> None:
        """Add `raw` to the Drafts folder as a draft. The only write to a mailbox."""
        ...


def no_drafts_folder(account: str, found: FolderRoles, where: str) -> UserError:
    return UserError(
        f"{account}: {where} has no Drafts folder, so no draft can be placed",
        [
            f"name it in mailkeeper.yaml: accounts.{account}.folders: {{drafts: NAME}} "
            f"(folders there: {', '.join(found.folders) or '(none)'}); mailkeeper never "
            "creates folders",
        ],
    )


def keys_in(data: bytes) -> set[str]:
    return {m.group(1).decode().lower() for m in _KEY_LINE.finditer(data)}


# ----------------------------------------------------------------------------- IMAP
class ImapDraftBox:
    def __init__(self, account: Any, password: Any = None, oauth2_token: Any = None) -> None:
        self.account = account
        self.password = password
        self.oauth2_token = oauth2_token
        self.client: Any = None
        self._found: FolderRoles | None = None

    def __enter__(self) -> ImapDraftBox:
        from mailkeeper.mailbox.imapconn import connect

        self.client = connect(self.account, self.password, self.oauth2_token)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.client is not None:
            try:
                self.client.logout()
            except Exception:  # noqa: BLE001 - closing a connection we are done with
                pass
            self.client = None

    def _roles(self) -> FolderRoles:
        if self._found is None:
            from mailkeeper.mailbox.base import resolve_roles
            from mailkeeper.mailbox.imapconn import server_folders

            self._found = resolve_roles(server_folders(self.client), dict(self.account.folders))
        return self._found

    def drafts_folder(self) -> str:
        found = self._roles()
        if "drafts" not in found.roles:
            raise no_drafts_folder(self.account.name, found, "the server")
        return found.roles["drafts"]

    def _search_keys(self, folder: str, keys: Iterable[str] | None) -> set[str]:
        self.client.select_folder(folder, readonly=True)  # EXAMINE: nothing is changed
        if keys is None:
            uids = self.client.search(["HEADER", "X-Mailkeeper-Key", ""])
        else:
            uids = []
            for key in keys:
                if _HEX.match(key):  # only our own tokens ever go into a command
                    uids += self.client.search(["HEADER", "X-Mailkeeper-Key", key])
        found: set[str] = set()
        for i in range(0, len(uids), 200):
            data = self.client.fetch(
                uids[i : i + 200], [b"BODY.PEEK[HEADER.FIELDS (X-MAILKEEPER-KEY)]"]
            )
            for item in data.values():
                for k, v in item.items():
                    if k.startswith(b"BODY[HEADER.FIELDS") and isinstance(v, bytes):
                        found |= keys_in(v)
        return found

    def draft_keys(self) -> set[str]:
        return self._search_keys(self.drafts_folder(), None)

    def sent_keys(self, keys: Iterable[str]) -> set[str]:
        keys = list(keys)
        sent = self._roles().roles.get("sent")
        if not keys or sent is None:
            return set()
        return self._search_keys(sent, keys) & set(keys)

    def append_draft(self, raw: bytes) -> None:
        folder = self.drafts_folder()
        # \\Seen as mail clients save their drafts: not "new mail" in the Drafts folder
        self.client.append(folder, raw, flags=(b"\\Draft", b"\\Seen"), msg_time=datetime.now(UTC))
