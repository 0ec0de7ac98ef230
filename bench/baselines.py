"""The baselines mailkeeper's sync is measured against.

raw     imapclient with its debug output off (see ../shared/FACTS.md), one connection,
        EXAMINE, then per batch of 200 UIDs: headers + BODYSTRUCTURE + size + flags +
        internal date, and the chosen text part of each message (first non-attachment
        text/plain leaf, else text/html), one FETCH per (batch, section). No parsing of
        the messages, nothing stored: the wire cost of exactly what mailkeeper fetches.
status  a fresh connection, LOGIN, one STATUS per folder: the least a client can do to
        learn that nothing changed.
mbsync  writes an mbsyncrc for a one-way pull of INBOX and Sent into a Maildir.

Each subcommand prints one JSON object; the password comes from $MK_BENCH_PASSWORD.

    MK_BENCH_PASSWORD=secret python bench/baselines.py raw --port 1143
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import defaultdict
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from imapclient import IMAPClient

FOLDERS = ("INBOX", "Sent")
HEADER_ITEMS = [b"BODY.PEEK[HEADER]", b"BODYSTRUCTURE", b"RFC822.SIZE", b"FLAGS", b"INTERNALDATE"]
STATUS_ITEMS = [b"MESSAGES", b"UIDNEXT", b"UIDVALIDITY", b"HIGHESTMODSEQ"]


def connect(host: str, port: int, user: str, password: str, timeout: float = 60.0) -> IMAPClient:
    client = IMAPClient(host, port=port, ssl=False, timeout=timeout)
    client._imap.debug = 0  # imapclient 4.1 sets 5: imaplib then repr()s every literal
    client.login(user, password)
    return client


# ------------------------------------------------------------------ BODYSTRUCTURE


def _s(value: object) -> str:
    if isinstance(value, bytes):
        return value.decode("ascii", "replace").lower()
    return str(value).lower() if value is not None else ""


def _params(value: object) -> dict[str, str]:
    if not isinstance(value, tuple | list):
        return {}
    items = list(value)
    return {_s(items[i]): _s(items[i + 1]) for i in range(0, len(items) - 1, 2)}


def leaves(structure: Sequence[Any], prefix: str = "") -> Iterator[tuple[str, Sequence[Any]]]:
    """(IMAP section, leaf) for every leaf, not descending into attached messages."""
    if isinstance(structure[0], list):  # multipart: ([parts], subtype, ...)
        for i, part in enumerate(structure[0], 1):
            yield from leaves(part, f"{prefix}.{i}" if prefix else str(i))
    else:
        yield prefix or "1", structure


def _is_attachment(leaf: Sequence[Any]) -> bool:
    text = _s(leaf[0]) == "text"
    disp_index = 9 if text else 8
    disposition = leaf[disp_index] if len(leaf) > disp_index else None
    if isinstance(disposition, tuple | list) and disposition:
        if _s(disposition[0]) == "attachment":
            return True
        if "filename" in _params(disposition[1] if len(disposition) > 1 else None):
            return True
    return "name" in _params(leaf[2])


def text_section(structure: Sequence[Any]) -> str | None:
    """The part mailkeeper reads: first non-attachment text/plain, else text/html."""
    html: str | None = None
    for section, leaf in leaves(structure):
        if _s(leaf[0]) != "text" or _is_attachment(leaf):
            continue
        subtype = _s(leaf[1])
        if subtype == "plain":
            return section
        if subtype == "html" and html is None:
            html = section
    return html


# -------------------------------------------------------------------------- raw


def chunks(items: Sequence[int], size: int) -> Iterator[list[int]]:
    for i in range(0, len(items), size):
        yield list(items[i : i + size])


def fetch_batch(client: IMAPClient, uids: list[int]) -> tuple[int, int, int]:
    """One batch: headers etc., then one FETCH per text section. (messages, bytes, fetches)"""
    response = client.fetch(uids, HEADER_ITEMS)
    by_section: dict[str, list[int]] = defaultdict(list)
    nbytes = 0
    for uid, data in response.items():
        nbytes += len(data.get(b"BODY[HEADER]") or b"")
        section = text_section(data[b"BODYSTRUCTURE"])
        if section is not None:
            by_section[section].append(uid)
    for section, members in by_section.items():
        key = f"BODY[{section}]".encode()
        for data in client.fetch(members, [f"BODY.PEEK[{section}]".encode()]).values():
            nbytes += len(data.get(key) or b"")
    return len(response), nbytes, 1 + len(by_section)


def raw_fetch(
    host: str,
    port: int,
    user: str,
    password: str,
    batch: int = 200,
    folders: Sequence[str] = FOLDERS,
) -> dict[str, Any]:
    t0 = time.perf_counter()
    messages = nbytes = fetches = 0
    client = connect(host, port, user, password)
    try:
        for folder in folders:
            client.select_folder(folder, readonly=True)  # EXAMINE
            uids = sorted(client.search("ALL"))
            for part in chunks(uids, batch):
                m, b, f = fetch_batch(client, part)
                messages, nbytes, fetches = messages + m, nbytes + b, fetches + f
    finally:
        client.logout()
    seconds = time.perf_counter() - t0
    return {
        "messages": messages,
        "bytes": nbytes,
        "fetches": fetches,
        "seconds": seconds,
        "rate": messages / seconds if seconds else 0.0,
    }


def status_check(
    host: str, port: int, user: str, password: str, folders: Sequence[str] = FOLDERS
) -> dict[str, Any]:
    """Fresh connection + LOGIN + one STATUS per folder + LOGOUT."""
    t0 = time.perf_counter()
    client = connect(host, port, user, password)
    try:
        status = {
            f: {_s(k): int(v) for k, v in client.folder_status(f, STATUS_ITEMS).items()}
            for f in folders
        }
    finally:
        client.logout()
    return {"seconds": time.perf_counter() - t0, "status": status}


# ----------------------------------------------------------------------- mbsync


def mbsyncrc(host: str, port: int, user: str, password: str, maildir: Path) -> str:
    if not password.isalnum():
        raise ValueError("the bench password must be alphanumeric (it goes into PassCmd)")
    return f"""# written by bench/baselines.py: one-way pull of INBOX and Sent
IMAPAccount bench
Host {host}
Port {port}
User {user}
PassCmd "echo {password}"
SSLType None
AuthMechs LOGIN PLAIN
Timeout 120

IMAPStore remote
Account bench

MaildirStore local
Path {maildir}/
Inbox {maildir}/INBOX
SubFolders Verbatim

Channel bench
Far :remote:
Near :local:
Patterns INBOX Sent
Sync Pull
Create Near
SyncState *
"""


def write_mbsyncrc(
    path: Path, host: str, port: int, user: str, password: str, maildir: Path
) -> list[str]:
    """Write the rc file; returns the command line that runs the pull."""
    path.write_text(mbsyncrc(host, port, user, password, maildir))
    path.chmod(0o600)
    return ["mbsync", "-q", "-c", str(path), "-a"]


# -------------------------------------------------------------------------- CLI


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("what", choices=("raw", "status", "mbsyncrc"))
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--user", default="amy")
    ap.add_argument("--batch", type=int, default=200, help="UIDs per FETCH (raw)")
    ap.add_argument("--rc", type=Path, help="mbsyncrc to write (mbsyncrc)")
    ap.add_argument("--maildir", type=Path, help="Maildir mbsync pulls into (mbsyncrc)")
    args = ap.parse_args(argv)
    password = os.environ.get("MK_BENCH_PASSWORD", "")
    if args.what == "raw":
        result = raw_fetch(args.host, args.port, args.user, password, args.batch)
    elif args.what == "status":
        result = status_check(args.host, args.port, args.user, password)
    else:
        if args.rc is None or args.maildir is None:
            ap.error("mbsyncrc needs --rc and --maildir")
        result = {
            "argv": write_mbsyncrc(args.rc, args.host, args.port, args.user, password, args.maildir)
        }
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
