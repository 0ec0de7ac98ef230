"""IMAP adapter (imapclient): connect, find folders, fetch new messages read-only.

Read-only by construction: folders are opened with EXAMINE, bodies fetched with BODY.PEEK,
and no command here stores flags, expunges, copies or moves. Only the headers, the
BODYSTRUCTURE and the chosen text part of a message are downloaded, never attachment bodies.
No string that came from mail is ever put into an IMAP command.
"""

from __future__ import annotations

import dataclasses
import logging
import socket
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from imapclient import IMAPClient
from imapclient import exceptions as imap_exc
from imapclient.imapclient import join_message_ids, seq_to_parenstr_upper
from imapclient.response_parser import parse_fetch_response

from mailkeeper.errors import ConnectionLost, MailboxError, UserError
from mailkeeper.mailbox import imapconn, wire
from mailkeeper.mailbox.base import FolderRoles, FolderStatus, resolve_roles
from mailkeeper.mailbox.bodystructure import NO_BOUNDARY_NOTE, parts_from_bodystructure
from mailkeeper.mailbox.fetchparse import parse_fetch
from mailkeeper.mailbox.imapconn import NETWORK_ERRORS, flag_names
from mailkeeper.model import Fetched, Part

logger = logging.getLogger(__name__)

HEADER_ITEMS = [b"RFC822.SIZE", b"FLAGS", b"INTERNALDATE", b"BODYSTRUCTURE", b"BODY.PEEK[HEADER]"]


def _utc(value: Any) -> datetime | None:
    if not isinstance(value, datetime):
        return None
    if value.tzinfo is None:  # imapclient normalises INTERNALDATE to local naive time
        value = value.astimezone()
    return value.astimezone(UTC)


def server_text(value: Any) -> str:
    """A text the server sent (a NO or BAD answer): UTF-8, as Dovecot writes folder names into
    its error texts; anything else keeps its readable part."""
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("utf-8", "replace")
    return str(value)


def _utf8_check_resp(expected: str, command: str, typ: str, data: list[Any]) -> None:
    """IMAPClient._check_resp, with the server's text read as UTF-8: imapclient reads it as
    ASCII, drops every other byte (a non-ASCII folder name vanishes) and logs a warning."""
    if typ != expected:
        raise imap_exc.IMAPClientError(f"{command} failed: {server_text(data[0] if data else b'')}")


def _only_empty_text(bs: Any, parts: list[Part]) -> bool:
    """A multipart BODYSTRUCTURE whose every leaf is an empty text part."""
    from mailkeeper.parse.mime import EMPTY_TEXT

    return (
        isinstance(bs, (tuple, list))
        and bool(bs)
        and isinstance(bs[0], list)
        and bool(parts)
        and all(p.content_type.startswith("text/") and p.size <= EMPTY_TEXT for p in parts)
    )


def _body_item(data: dict[bytes, Any], section: str) -> bytes | None:
    """The body of `BODY[section]<0>` in a FETCH response, whatever origin suffix it has."""
    want = f"BODY[{section}]".encode()
    for key, value in data.items():
        if isinstance(key, bytes) and key.startswith(want):
            return value if isinstance(value, bytes) else (b"" if value is None else bytes(value))
    return None


class ImapMailbox:
    """One IMAP account, read-only. Use as a context manager."""

    def __init__(
        self,
        account: Any,  # config.AccountConfig
        password: Callable[[], str] | None = None,
        oauth2_token: Callable[[], str] | None = None,
        max_message_size: int = 25 * 1024 * 1024,
        max_text_bytes: int = 256 * 1024,
    ) -> None:
        self.account = account
        self._password = password
        self._oauth2_token = oauth2_token
        self.max_message_size = max_message_size
        self.max_text_bytes = max_text_bytes
        self.client: IMAPClient | None = None
        # A header FETCH sent ahead (tag, its UIDs); every FETCH in flight (tag -> UIDs);
        # what arrived early for a UID of one of them (see _complete_fetch).
        self._pending: tuple[str, list[int]] | None = None
        self._outstanding: dict[str, set[int]] = {}
        self._early: dict[int, dict[bytes, Any]] = {}
        self._selected: str | None = None
        self._folders: FolderRoles | None = None

    # ------------------------------------------------------------------ connection
    def __enter__(self) -> ImapMailbox:
        self.connect()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def connect(self) -> None:
        client = imapconn.connect(self.account, self._password, self._oauth2_token)
        wire.install(client._imap)  # untagged FETCH lines without imaplib's per-line overhead
        client._check_resp = _utf8_check_resp  # type: ignore[method-assign]
        self.client = client
        self._selected = None
        self._lost()

    def close(self) -> None:
        if self.client is None:
            return
        try:
            self.client.logout()
        except Exception:  # noqa: BLE001 - closing a dead connection is fine
            try:
                self.client.shutdown()
            except Exception:  # noqa: BLE001
                pass
        self.client = None
        self._lost()

    def _c(self, drain: bool = True) -> IMAPClient:
        """The connection; first the answer to a FETCH sent ahead is read, unless the
        caller is the FETCH pipeline itself (any other command would read it as its own)."""
        if self.client is None:
            raise ConnectionLost(f"{self.account.name}: not connected")
        if drain and self._pending is not None:
            self._drain()
        return self.client

    def has(self, capability: str) -> bool:
        return bool(self._c().has_capability(capability))

    # ------------------------------------------------------------------ folders
    def resolve_folders(self) -> FolderRoles:
        """LIST once per connection, then `base.resolve_roles`; see base.Mailbox."""
        if self._folders is not None:
            return self._folders
        try:
            folders = imapconn.server_folders(self._c())
        except NETWORK_ERRORS as e:
            raise ConnectionLost(f"{self.account.name}: LIST failed: {e}") from e
        self._folders = resolve_roles(
            folders, self.account.folders or {}, self.account.extra_folders
        )
        return self._folders

    def folder_roles(self) -> dict[str, str]:
        found = self.resolve_folders()
        if found.problems:
            raise UserError(
                "folders in mailkeeper.yaml do not match the server",
                [f"account '{self.account.name}': {p}" for p in found.problems],
            )
        return dict(found.roles)

    def status(self, folder: str) -> FolderStatus:
        items = [b"UIDVALIDITY", b"UIDNEXT", b"MESSAGES"]
        condstore = self.has("CONDSTORE")
        if condstore:
            items.append(b"HIGHESTMODSEQ")
        try:
            st = self._c().folder_status(folder, items)
        except NETWORK_ERRORS as e:
            raise ConnectionLost(f"{self.account.name}: STATUS {folder} failed: {e}") from e
        except imap_exc.IMAPClientError as e:
            raise MailboxError(f"{self.account.name}: STATUS {folder} failed: {e}") from e
        return FolderStatus(
            uidvalidity=int(st[b"UIDVALIDITY"]),
            uidnext=int(st[b"UIDNEXT"]) if b"UIDNEXT" in st else None,
            messages=int(st.get(b"MESSAGES", 0)),
            highestmodseq=int(st[b"HIGHESTMODSEQ"])
            if condstore and b"HIGHESTMODSEQ" in st
            else None,
        )

    def _examine(self, folder: str) -> dict[bytes, Any]:
        try:
            info = self._c().select_folder(folder, readonly=True)
        except NETWORK_ERRORS as e:
            raise ConnectionLost(f"{self.account.name}: EXAMINE {folder} failed: {e}") from e
        self._selected = folder
        return info

    # ------------------------------------------------------------------ fetching
    def new_uids(self, folder: str, after_uid: int) -> list[int]:
        self._examine(folder)
        try:
            found = self._c().search(["UID", f"{after_uid + 1}:*"])
        except NETWORK_ERRORS as e:
            raise ConnectionLost(f"{self.account.name}: SEARCH in {folder} failed: {e}") from e
        # "n:*" always matches the highest UID, even when it is below n.
        return sorted(u for u in found if u > after_uid)

    def all_uids(self, folder: str) -> list[int]:
        self._examine(folder)
        try:
            return sorted(self._c().search(["ALL"]))
        except NETWORK_ERRORS as e:
            raise ConnectionLost(f"{self.account.name}: SEARCH in {folder} failed: {e}") from e

    def fetch_batch(
        self, folder: str, uids: list[int], next_uids: list[int] | None = None
    ) -> list[Fetched]:
        """Headers + structure of every UID, then the chosen text parts, grouped by section.

        With `next_uids` (the batch the caller will ask for next), the header FETCH of that
        batch is sent right behind this batch's text FETCHes, unread: the server prepares it
        while the caller parses and stores this batch (pipelining, RFC 3501 5.5; the
        responses carry their UIDs, so they cannot be confused)."""
        from mailkeeper.parse.mime import choose_text_sections  # not needed by a no-change sync

        if self._selected != folder:
            self._drain()
            self._examine(folder)
        try:
            resp = self._take_prefetched(uids)
            if resp is None:
                resp = self._fetch(uids, HEADER_ITEMS)
        except (imap_exc.IMAPClientError, ValueError, TypeError, IndexError) as e:
            self._drain()
            # One message the client cannot read must not sink the batch: split it.
            if len(uids) == 1:
                return [self._fetch_whole(folder, uids[0], e)]
            mid = len(uids) // 2
            return self.fetch_batch(folder, uids[:mid]) + self.fetch_batch(folder, uids[mid:])
        out: dict[int, Fetched] = {}
        groups: dict[tuple[str, ...], list[int]] = {}
        for uid in uids:
            data = resp.get(uid)
            if data is None:  # expunged meanwhile
                continue
            f = self._fetched_from_response(folder, uid, data)
            out[uid] = f
            if f.size > self.max_message_size:
                f.notes.append(
                    f"larger than max_message_size ({f.size} > {self.max_message_size} bytes): "
                    "headers only"
                )
                continue
            sections = tuple(choose_text_sections(f.parts))
            if sections and not f.bodies:  # bodies: read whole from the header already
                groups.setdefault(sections, []).append(uid)
        # The text FETCHes, then the next batch's header FETCH right behind them.
        sent = [
            (self._send_fetch(group, self._text_items(sections)), group, sections)
            for sections, group in groups.items()
        ]
        if next_uids:
            self._pending = (self._send_fetch(next_uids, HEADER_ITEMS), list(next_uids))
        failed = []
        for tag, group, sections in sent:
            try:
                self._store_texts(self._complete_fetch(tag, group), group, sections, out)
            except (imap_exc.IMAPClientError, ValueError, TypeError, IndexError):
                failed.append((group, sections))
        if failed:
            # Something in the text parts the client cannot read: again, group by group,
            # splitting a group down to the one message at fault (after reading the answer
            # sent ahead: new commands must not be answered behind it).
            self._drain()
            for group, sections in failed:
                self._fetch_texts(group, sections, out)
        return [self._reread(out[u]) for u in uids if u in out]

    def _send_fetch(self, uids: list[int], items: list[bytes]) -> str:
        """Send UID FETCH without waiting for the answer; returns its tag."""
        c = self._c(drain=False)
        try:
            tag: str = c._imap._command(
                "UID", "FETCH", join_message_ids(uids), seq_to_parenstr_upper(items)
            )
        except NETWORK_ERRORS as e:
            self._lost()
            raise ConnectionLost(f"{self.account.name}: FETCH failed: {e}") from e
        self._outstanding[tag] = set(uids)
        return tag

    def _complete_fetch(self, tag: str, uids: list[int]) -> dict[int, dict[bytes, Any]]:
        """Read the answer to the FETCH sent as `tag`, parsed, for `uids` only.

        Several FETCHes may be in flight (pipelining), and a server may answer them
        interleaved (Dovecot does, for read-only FETCHes): what arrives for the UIDs of
        another command in flight is kept for that command, whose own read merges it in.
        Other unsolicited answers are dropped, as IMAPClient.fetch does."""
        c = self._c(drain=False)
        mine = self._outstanding.pop(tag, set())
        try:
            try:
                typ, data = c._imap._command_complete("FETCH", tag)
                c._checkok("fetch", typ, data)
            except imap_exc.IMAPClientError:
                c._imap.untagged_responses.pop("FETCH", None)  # not for the next command
                raise
            typ, data = c._imap._untagged_response(typ, data, "FETCH")
        except NETWORK_ERRORS as e:
            self._lost()
            raise ConnectionLost(f"{self.account.name}: FETCH failed: {e}") from e
        try:
            response: dict[int, dict[bytes, Any]] = parse_fetch(data)
        except Exception as e:  # noqa: BLE001 - any doubt: imapclient's own parser decides
            logger.debug(
                "fast FETCH parser gave up (%s: %s); using imapclient's", type(e).__name__, e
            )
            response = parse_fetch_response(data, True, True)
        if self._outstanding:
            others = set().union(*self._outstanding.values())
            for uid, items in response.items():
                if uid in others and uid not in mine:
                    self._early.setdefault(uid, {}).update(items)
        out: dict[int, dict[bytes, Any]] = {}
        for u in uids:
            early = self._early.pop(u, None)
            got = response.get(u)
            if early is not None:
                got = {**early, **got} if got is not None else early
            if got is not None:
                out[u] = got
        for u in mine.difference(uids):  # read for nobody (a drain): forget it
            self._early.pop(u, None)
        return out

    def _take_prefetched(self, uids: list[int]) -> dict[int, dict[bytes, Any]] | None:
        """The answer to the header FETCH sent ahead for `uids`, or None when none was."""
        if self._pending is None:
            return None
        tag, ahead = self._pending
        if ahead != uids:
            self._drain()
            return None
        self._pending = None
        return self._complete_fetch(tag, uids)

    def _drain(self) -> None:
        """Read and drop the answer to a FETCH sent ahead (before any other command)."""
        if self._pending is None:
            return
        tag, _ = self._pending
        self._pending = None
        self._complete_fetch(tag, [])

    def _lost(self) -> None:
        self._selected = None
        self._pending = None
        self._outstanding = {}
        self._early = {}

    def _fetch(self, uids: list[int], items: list[bytes]) -> dict[int, dict[bytes, Any]]:
        """`IMAPClient.fetch(uids, items)`: sent and read through imaplib as IMAPClient.fetch
        does (`_send_fetch`, `_complete_fetch`); only the parsing differs. On anything the fast
        parser does not reproduce exactly, imapclient's parser reads the same data."""
        if not uids:
            return {}
        return self._complete_fetch(self._send_fetch(uids, items), uids)

    def _fetched_from_response(self, folder: str, uid: int, data: dict[bytes, Any]) -> Fetched:
        from mailkeeper.parse.mime import EMPTY_TEXT, fetched_from_bytes, split_header

        notes: list[str] = []
        try:
            parts = parts_from_bodystructure(data.get(b"BODYSTRUCTURE"), notes)
        except Exception as e:  # noqa: BLE001 - a strange BODYSTRUCTURE is a defect, not a stop
            parts = []
            notes.append(f"BODYSTRUCTURE unreadable: {type(e).__name__}")
        header = data.get(b"BODY[HEADER]") or b""
        header = header if isinstance(header, bytes) else bytes(header)
        size = int(data.get(b"RFC822.SIZE") or 0)
        flags = flag_names(data.get(b"FLAGS"))
        internaldate = _utc(data.get(b"INTERNALDATE"))
        if len(header) >= size and len(split_header(header)) < len(header):
            # The server found no header end (CR-only line ends, say) and sent the whole
            # message as its header; a reader finds the end, and the body after it.
            whole = fetched_from_bytes(
                header, folder, uid, flags, internaldate, max_text_bytes=self.max_text_bytes
            )
            whole.size = size
            return whole
        body_size = max(0, size - len(header))
        if body_size > EMPTY_TEXT and _only_empty_text(data.get(b"BODYSTRUCTURE"), parts):
            # A multipart with a boundary no line of the body uses (old webmail, gateways):
            # the server shows one empty text part, the body holds the text. The body is
            # fetched whole as text and read as the Maildir path reads it (_reread).
            parts, notes = [Part("TEXT", "text/plain", size=body_size)], []
        elif parts and parts[0].section == "TEXT":  # a multipart without boundary: all text
            parts[0] = dataclasses.replace(parts[0], size=body_size)
        return Fetched(
            folder=folder,
            uid=uid,
            size=size,
            header=header,
            parts=parts,
            flags=flags,
            internaldate=internaldate,
            notes=notes,
        )

    def _reread(self, f: Fetched) -> Fetched:
        """A message whose whole body was fetched as its text (BODY[TEXT]: the structure had no
        readable parts), read as the Maildir path reads the same bytes: the same text, parts
        and defects whichever adapter read it."""
        body = f.bodies.get("TEXT")
        if body is None or not f.parts or f.parts[0].section != "TEXT":
            return f
        from mailkeeper.parse.mime import fetched_from_bytes

        out = fetched_from_bytes(
            f.header + body, f.folder, f.uid, f.flags, f.internaldate, self.max_text_bytes
        )
        out.size = f.size
        kept = [n for n in f.notes if n != NO_BOUNDARY_NOTE and n not in out.notes]
        out.notes = [*out.notes, *kept]
        return out

    def _text_items(self, sections: tuple[str, ...]) -> list[bytes]:
        return [f"BODY.PEEK[{s}]<0.{self.max_text_bytes}>".encode() for s in sections]

    def _fetch_texts(
        self, uids: list[int], sections: tuple[str, ...], out: dict[int, Fetched]
    ) -> None:
        try:
            resp = self._fetch(uids, self._text_items(sections))
        except (imap_exc.IMAPClientError, ValueError, TypeError, IndexError) as e:
            if len(uids) == 1:
                out[uids[0]].notes.append(f"text part could not be fetched: {type(e).__name__}")
                return
            mid = len(uids) // 2
            self._fetch_texts(uids[:mid], sections, out)
            self._fetch_texts(uids[mid:], sections, out)
            return
        self._store_texts(resp, uids, sections, out)

    def _store_texts(
        self,
        resp: dict[int, dict[bytes, Any]],
        uids: list[int],
        sections: tuple[str, ...],
        out: dict[int, Fetched],
    ) -> None:
        for uid in uids:
            data = resp.get(uid)
            if data is None:
                continue
            for s in sections:
                body = _body_item(data, s)
                if body is not None:
                    out[uid].bodies[s] = body
                    part = next((p for p in out[uid].parts if p.section == s), None)
                    if part is not None and part.size > self.max_text_bytes:
                        out[uid].notes.append(
                            f"text part {s} cut at {self.max_text_bytes} bytes of {part.size}"
                        )

    def _fetch_whole(self, folder: str, uid: int, why: BaseException) -> Fetched:
        """Last resort for a message whose structure the client cannot read."""
        logger.warning("uid %s in %s: %s; fetching it whole", uid, folder, type(why).__name__)
        from mailkeeper.parse.mime import fetched_from_bytes

        note = f"server response unreadable ({type(why).__name__}); parsed from the raw message"
        try:
            meta = self._fetch([uid], [b"RFC822.SIZE", b"FLAGS", b"INTERNALDATE"]).get(uid, {})
            size = int(meta.get(b"RFC822.SIZE") or 0)
            limit = min(size or self.max_message_size, self.max_message_size)
            raw = self._fetch([uid], [f"BODY.PEEK[]<0.{limit}>".encode()]).get(uid, {})
            body = _body_item(raw, "") or b""
            f = fetched_from_bytes(
                body,
                folder=folder,
                uid=uid,
                flags=flag_names(meta.get(b"FLAGS")),
                internaldate=_utc(meta.get(b"INTERNALDATE")),
            )
            f.size = size or f.size
        except (imap_exc.IMAPClientError, ValueError, TypeError, IndexError) as e:
            f = Fetched(folder=folder, uid=uid, size=0, header=b"")
            note = f"server response unreadable ({type(why).__name__}, then {type(e).__name__})"
        f.notes.append(note)
        return f

    def changed_flags(self, folder: str, since_modseq: int) -> dict[int, tuple[str, ...]]:
        """Flags of the messages changed since `since_modseq` (CONDSTORE)."""
        if not self.has("CONDSTORE"):
            return {}
        self._examine(folder)
        try:
            uids = self._c().search(["MODSEQ", str(since_modseq + 1)])
            out: dict[int, tuple[str, ...]] = {}
            for i in range(0, len(uids), 1000):
                resp = self._c().fetch(uids[i : i + 1000], [b"FLAGS"])
                out.update({u: flag_names(d.get(b"FLAGS")) for u, d in resp.items()})
            return out
        except NETWORK_ERRORS as e:
            raise ConnectionLost(f"{self.account.name}: flag refresh failed: {e}") from e


def is_network_error(e: BaseException) -> bool:
    return isinstance(e, (ConnectionLost, socket.timeout)) or isinstance(e, NETWORK_ERRORS)
