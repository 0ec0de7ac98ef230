"""Maildir adapter: the Mailbox interface on a local Maildir, read-only to the sync.

Nothing inside the Maildir is ever renamed, moved, written or deleted: message files are only
opened for reading (so a message's flags, which live in its file name, never change). The sync
writes only mailkeeper's own UID map, kept in `state_dir`, outside the Maildir. The one write
into the Maildir is `MaildirDraftBox.append_draft` (`mailkeeper draft`): a new file in the
Drafts folder, never a change to one that is there.

Layouts: Maildir++ (INBOX is the top folder's cur/ and new/, subfolders are `.Sent`,
`.Archive.2024`; Dovecot, Courier) and mbsync's `SubFolders Verbatim` / `Legacy` (subfolders are
`Sent/`, `Archive/2024/` or `Archive/.2024/`, INBOX often `INBOX/`). Nested names are shown
with "/" ("Archive/2024"); a name written with "." ("Archive.2024") is accepted too.

Stable UIDs, per folder, from the first source that applies:
  (a) mbsync: the folder has a `.uidvalidity` file and file names carry `,U=<n>`;
  (b) Dovecot: the folder has a `dovecot-uidlist`;
  (c) mailkeeper's own append-only map in `state_dir`: first line the UIDVALIDITY, then
      "uid basename" lines. New files get the next UIDs in (mtime, name) order; a file a mail
      client renamed to change its flags keeps its UID (the basename before ":2," is the key).
In (a) and (b) a file the owning program has not numbered yet is left alone until it has:
numbering it ourselves could clash with the number it will get.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import socket
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from mailkeeper.errors import MailboxError, UserError
from mailkeeper.mailbox.base import FolderRoles, FolderStatus, ServerFolder, resolve_roles
from mailkeeper.mailbox.draftbox import keys_in, no_drafts_folder
from mailkeeper.mailbox.maildirlist import (
    INBOX,
    _DovecotNumbering,
    _is_maildir,
    _MbsyncNumbering,
    _Numbering,
    _OwnNumbering,
    _safe,
    find_folders,
    flags_of,
    list_messages,
    split_name,
)
from mailkeeper.mailbox.maildirread import (
    _open_quietly,
    _read_header,
    read_and_split,
)
from mailkeeper.model import Fetched

logger = logging.getLogger(__name__)

_WILLNEED = getattr(os, "POSIX_FADV_WILLNEED", None)  # not on macOS


# ----------------------------------------------------------------------------- the adapter
class MaildirMailbox:
    """One local Maildir, read-only. Use as a context manager."""

    def __init__(
        self,
        root: Path,
        account_name: str,
        folders: dict[str, str] | None = None,
        extra_folders: Iterable[str] = (),
        *,
        state_dir: Path,
        max_message_size: int = 25 * 1024 * 1024,
        max_text_bytes: int = 256 * 1024,
    ) -> None:
        self.root = Path(root).expanduser()
        self.account_name = account_name
        self.folder_overrides = dict(folders or {})
        self.extra_folders = tuple(extra_folders)
        self.state_dir = Path(state_dir).expanduser()
        self.max_message_size = max_message_size
        self.max_text_bytes = max_text_bytes
        self._folders: dict[str, Path] = {}
        self._own: dict[Path, _OwnNumbering] = {}
        self._uidlists: dict[Path, tuple[tuple[int, int, int], _DovecotNumbering | None]] = {}
        self._index: dict[str, dict[int, str]] = {}
        self._resolved: FolderRoles | None = None

    # ------------------------------------------------------------------ open / close
    def __enter__(self) -> MaildirMailbox:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def open(self) -> None:
        """Check that the root is a Maildir and find its folders; UserError when it is not."""
        self._check_root()
        self._check_state_dir()
        self._folders = find_folders(self.root)
        if not self._folders:
            raise UserError(
                f"{self.account_name}: {self.root} is not a Maildir",
                [
                    f"no cur/ and new/ folders were found in {self.root} or below it",
                    f"point accounts.{self.account_name}.maildir at the folder that holds "
                    "cur/ and new/ (Maildir++), or the one that holds INBOX/, Sent/, ... "
                    "(mbsync SubFolders Verbatim)",
                ],
            )
        logger.info("%s: Maildir %s, folders: %s", self.account_name, self.root, self._names())

    def _check_root(self) -> None:
        where = f"accounts.{self.account_name}.maildir"
        if not self.root.exists():
            raise UserError(
                f"{self.account_name}: the Maildir {self.root} does not exist",
                [f"fix {where} in mailkeeper.yaml, or fetch your mail into it first (mbsync -a)"],
            )
        if not self.root.is_dir():
            raise UserError(
                f"{self.account_name}: the Maildir {self.root} is not a folder",
                [f"point {where} in mailkeeper.yaml at a Maildir folder"],
            )
        if not os.access(self.root, os.R_OK | os.X_OK):
            raise UserError(
                f"{self.account_name}: the Maildir {self.root} cannot be read",
                [f"let this user read it (ls -ld {self.root})"],
            )

    def _check_state_dir(self) -> None:
        """The UID maps must never land inside the Maildir (it is read-only to us)."""
        root, state = self.root.resolve(), self.state_dir.resolve()
        if state == root or root in state.parents:
            raise UserError(
                f"{self.account_name}: mailkeeper's state folder {state} is inside the "
                f"Maildir {root}, which mailkeeper never writes to",
                ["put `database:` in mailkeeper.yaml outside the Maildir folder"],
            )

    def close(self) -> None:
        self._own.clear()
        self._index.clear()
        self._uidlists.clear()

    def _names(self) -> str:
        return ", ".join(sorted(self._folders)) or "(none)"

    # ------------------------------------------------------------------ folders
    def _lookup(self, name: str) -> str | None:
        """The folder's name as found on disk: exact, INBOX in any case, or "a.b" as "a/b"."""
        if name in self._folders:
            return name
        if name.upper() == INBOX:
            return next((n for n in sorted(self._folders) if n.upper() == INBOX), None)
        slashed = name.replace(".", "/")
        return slashed if slashed in self._folders else None

    def _folder_dir(self, name: str) -> Path:
        found = self._lookup(name)
        if found is None or not _is_maildir(self._folders[found]):
            # created, renamed or removed since open(): look once more
            self._folders = find_folders(self.root)
            found = self._lookup(name)
        if found is None:
            raise MailboxError(
                f"{self.account_name}: folder '{name}' is not in the Maildir {self.root}; "
                f"it has: {self._names()}"
            )
        return self._folders[found]

    def resolve_folders(self) -> FolderRoles:
        """`base.resolve_roles` over the folders found at open() (no SPECIAL-USE flags in
        a Maildir: names only; "Archive.2024" finds "Archive/2024"); see base.Mailbox."""
        if self._resolved is None:
            self._resolved = resolve_roles(
                [ServerFolder(name, (), "/") for name in sorted(self._folders)],
                self.folder_overrides,
                self.extra_folders,
                where=f"the Maildir {self.root}",
                dotted_names=True,
            )
        return self._resolved

    def folder_roles(self) -> dict[str, str]:
        found = self.resolve_folders()
        if found.problems:
            raise UserError(
                "folders in mailkeeper.yaml do not match the Maildir",
                [f"account '{self.account_name}': {p}" for p in found.problems],
            )
        return dict(found.roles)

    # ------------------------------------------------------------------ numbering
    def _numbering(self, name: str, folder_dir: Path) -> _Numbering:
        found: _Numbering | None = _MbsyncNumbering.read(folder_dir)
        if found is None:
            found = self._dovecot(folder_dir)
        if found is not None:
            return found
        map_path = self._map_path(name, folder_dir)
        own = self._own.get(map_path)
        if own is None:
            for d in (self.state_dir, map_path.parent):
                d.mkdir(parents=True, exist_ok=True, mode=0o700)
            own = self._own[map_path] = _OwnNumbering.open(map_path)
        return own

    def _dovecot(self, folder_dir: Path) -> _DovecotNumbering | None:
        """The folder's dovecot-uidlist, parsed again only when the file has changed."""
        path = folder_dir / "dovecot-uidlist"
        try:
            st = path.stat()
        except FileNotFoundError:
            return None
        key = (st.st_ino, st.st_mtime_ns, st.st_size)
        cached = self._uidlists.get(path)
        if cached is None or cached[0] != key:
            cached = self._uidlists[path] = (key, _DovecotNumbering.read(folder_dir))
        return cached[1]

    def _map_path(self, name: str, folder_dir: Path) -> Path:
        """One map per folder *path*: pointing the account at another Maildir starts afresh."""
        digest = hashlib.sha256(os.fsencode(str(folder_dir.resolve()))).hexdigest()[:10]
        label = _safe(self._lookup(name) or name)  # "Archive.2024" and "Archive/2024": one map
        return self.state_dir / _safe(self.account_name) / f"{label}.{digest}.uids"

    # ------------------------------------------------------------------ the protocol
    def status(self, folder: str) -> FolderStatus:
        """Directory listings only (plus the small UID files): no message is read."""
        folder_dir = self._folder_dir(folder)
        listing = list_messages(folder_dir)
        numbering = self._numbering(folder, folder_dir)
        return FolderStatus(
            uidvalidity=numbering.uidvalidity,
            uidnext=numbering.uidnext(listing),
            messages=len(listing),
            highestmodseq=None,
        )

    def new_uids(self, folder: str, after_uid: int) -> list[int]:
        index = self._refresh_index(folder)
        return sorted(u for u in index if u > after_uid)

    def all_uids(self, folder: str) -> list[int]:
        return sorted(self._refresh_index(folder))

    def _refresh_index(self, folder: str) -> dict[int, str]:
        folder_dir = self._folder_dir(folder)
        listing = list_messages(folder_dir)
        numbering = self._numbering(folder, folder_dir)
        numbering.assign(listing)
        index = numbering.numbered(listing)
        left = len(listing) - len(index)
        if left:
            logger.info(
                "%s/%s: %d file(s) not numbered by %s yet; read once it has",
                self.account_name,
                folder,
                left,
                numbering.source,
            )
        self._index[folder] = index
        return index

    def fetch_batch(
        self, folder: str, uids: list[int], next_uids: list[int] | None = None
    ) -> list[Fetched]:
        """Each file is only looked at here (`stat`: that it is there, and its time); the parse
        worker reads and splits it (`Fetched.deferred` → `read_and_split`), so the file's bytes
        never pass through this process, which paces the sync, nor through the pipe to the
        worker. A file gone since the listing is looked up again by its basename (a flag change
        renames it) and skipped when it is really gone. (`next_uids` is for network adapters;
        a local read has nothing to start early.)"""
        index = self._index.get(folder)
        if index is None or any(u not in index for u in uids):
            index = self._refresh_index(folder)
        out: list[Fetched] = []
        relisted = False
        for uid in uids:
            path = index.get(uid)
            if path is None:
                continue
            mtime = self._mtime(path)
            if mtime is None and not relisted:
                index, relisted = self._refresh_index(folder), True
                path = index.get(uid)
                mtime = self._mtime(path) if path is not None else None
            if mtime is None or path is None:
                logger.info(
                    "%s/%s: uid %s vanished before it was read", self.account_name, folder, uid
                )
                continue
            out.append(self._fetched(folder, uid, path, mtime))
        return out

    def _mtime(self, path: str) -> float | None:
        """The file's time, and a hint to the kernel to start reading it (the worker reads it
        a few batches later; on a cold cache that read would otherwise wait for the disk)."""
        try:
            fd = _open_quietly(path)
        except FileNotFoundError:
            return None
        except OSError as e:
            raise MailboxError(f"{self.account_name}: cannot read {path}: {e.strerror}") from e
        try:
            st = os.fstat(fd)
            if _WILLNEED is not None:
                os.posix_fadvise(fd, 0, min(st.st_size, self.max_message_size), _WILLNEED)
            return st.st_mtime
        finally:
            os.close(fd)

    def _fetched(self, folder: str, uid: int, path: str, mtime: float) -> Fetched:
        """The message as the parse worker gets it: where the file is, nothing read yet."""
        flags = flags_of(split_name(os.path.basename(path))[1])
        internaldate = datetime.fromtimestamp(mtime, UTC)
        return Fetched(
            folder=folder,
            uid=uid,
            size=0,  # the worker reads it
            header=b"",
            flags=flags,
            internaldate=internaldate,
            deferred=functools.partial(
                read_and_split,
                path,
                self.account_name,
                folder,
                uid,
                flags,
                internaldate,
                self.max_message_size,
                self.max_text_bytes,
            ),
        )

    def changed_flags(self, folder: str, since_modseq: int) -> dict[int, tuple[str, ...]]:
        """Always {}: a Maildir has no modification sequence, so `status` reports no
        HIGHESTMODSEQ and the sync never asks. Flags are recorded when a message is first
        fetched; a later flag change made by a mail client is not picked up."""
        return {}


# ----------------------------------------------------------------------------- drafts
class MaildirDraftBox:
    """The Drafts folder of a local Maildir (mailbox/draftbox.py: the one write we make)."""

    def __init__(self, root: Path, account_name: str, folders: dict[str, str]) -> None:
        self.root = Path(root).expanduser()
        self.account_name = account_name
        self.overrides = folders
        self._found: FolderRoles | None = None
        self._dirs: dict[str, Path] = {}

    def __enter__(self) -> MaildirDraftBox:
        self._dirs = find_folders(self.root)
        self._found = resolve_roles(
            [ServerFolder(n, (), "/") for n in sorted(self._dirs)],
            self.overrides,
            where=f"the Maildir {self.root}",
            dotted_names=True,
        )
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def drafts_folder(self) -> str:
        if self._found is None:
            raise RuntimeError("MaildirDraftBox is used as a context manager")
        if "drafts" not in self._found.roles:
            raise no_drafts_folder(self.account_name, self._found, f"the Maildir {self.root}")
        return self._found.roles["drafts"]

    def _keys_of(self, folder: str, wanted: set[str] | None) -> set[str]:
        found: set[str] = set()
        for sub in ("cur", "new"):
            d = self._dirs[folder] / sub
            if not d.is_dir():
                continue
            for entry in os.scandir(d):
                try:
                    with open(entry.path, "rb") as fh:
                        keys = keys_in(_read_header(fh))
                except OSError:
                    continue
                found |= keys if wanted is None else keys & wanted
        return found

    def draft_keys(self) -> set[str]:
        return self._keys_of(self.drafts_folder(), None)

    def sent_keys(self, keys: Iterable[str]) -> set[str]:
        if self._found is None:
            raise RuntimeError("MaildirDraftBox is used as a context manager")
        sent = self._found.roles.get("sent")
        wanted = set(keys)
        return self._keys_of(sent, wanted) if sent and wanted else set()

    def append_draft(self, raw: bytes) -> None:
        """A new file in Drafts: written in tmp/, then renamed into cur/ with the D and S flags
        (the Maildir way: a reader never sees half a file)."""
        folder = self._dirs[self.drafts_folder()]
        name = f"{time.time():.6f}.M{os.getpid()}P{os.urandom(4).hex()}.{socket.gethostname()}"
        tmp = folder / "tmp" / name
        try:
            with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as fh:
                fh.write(raw)
                fh.flush()
                os.fsync(fh.fileno())
            os.rename(tmp, folder / "cur" / f"{name}:2,DS")  # draft, seen: as clients save
        except OSError as e:
            tmp.unlink(missing_ok=True)
            raise MailboxError(f"{self.account_name}: cannot add a draft to {folder}: {e}") from e
