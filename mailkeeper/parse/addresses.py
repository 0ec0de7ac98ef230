"""Address headers -> (name, address) pairs: the fast path for plain lists, the email package's
parser for the rest, display names that the parser drops recovered from the text, and a
display name never taken for an address. Split out of `parse.message` (issue 17: no module
past 900 lines); `message` calls `_addresses` and reads `_EMAIL_RE`."""

from __future__ import annotations

import re
from email.utils import getaddresses
from functools import lru_cache

from mailkeeper.model import Address
from mailkeeper.parse.charsets import decode_header_value

# An address header longer than this is read up to here and the cut recorded as a defect.
# A Cc of 10,000 people is ~300,000 characters and is read whole: every recipient counts
# (one of them may be the customer). Parsing is linear in the length.
_MAX_ADDRESS_HEADER = 4 * 1024 * 1024

_EMAIL_RE = re.compile(r"[A-Za-z0-9._%+'=-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63}){1,8}")


_UNFOLD = re.compile(r"\r?\n[ \t]*|\r")
_WHITESPACE = re.compile(r"\s")  # str.isspace() characters
_LWS = re.compile(r"[ \t]+")
# One mailbox of the common shapes, then a comma or the end: `a@b.c`, `Name <a@b.c>`,
# `"Name, Inc." <a@b.c>`. Dot-atom addresses only; names without specials, comments, quoted
# pairs or groups. Anything else goes to email.utils.getaddresses.
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_SIMPLE_ADDR = rf"{_ATOM}(?:\.{_ATOM})*@[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*"
_SIMPLE_MAILBOX = re.compile(
    rf'[ \t]*(?:"([^"\\\r\n]*)"[ \t]*<({_SIMPLE_ADDR})>|([^"\\()<>@,;:\[\]\r\n]*)<({_SIMPLE_ADDR})>'
    rf"|({_SIMPLE_ADDR}))[ \t]*(?:,[ \t,]*|\Z)"
)


def _simple_addresses(value: str) -> list[tuple[str, str]] | None:
    """What the stdlib's non-strict parser (`getaddresses([value], strict=False)`, the same
    on every patch level) returns, minus its empty pairs, when every mailbox in `value` has a
    simple shape; None when one does not (the caller then uses that parser)."""
    pairs: list[tuple[str, str]] = []
    pos, end = 0, len(value)
    match = _SIMPLE_MAILBOX.match
    while pos < end:
        m = match(value, pos)
        if m is None or m.end() == pos:
            return None if value[pos:].strip(" \t,") else pairs
        quoted, quoted_addr, phrase, phrase_addr, bare = m.groups()
        if bare is not None:
            pairs.append(("", bare))
        elif quoted is not None:
            pairs.append((quoted, quoted_addr))
        else:
            # getaddresses joins the words of a phrase with one space; only space and tab
            # separate words (other white space, like U+00A0, is part of a word).
            pairs.append((" ".join(_LWS.split(phrase.strip(" \t"))), phrase_addr))
        pos = m.end()
    return pairs


# `jane@birch.co.uk <x@evil.test>`: an unquoted display name holding an address, which the
# stdlib's parser reads as two mailboxes (jane@birch.co.uk first). The address is the one in
# angle brackets; the name is only a name, so it is quoted before parsing.
_ADDRESS_AS_NAME = re.compile(
    r'(^|,)([ \t]*)([^"\\()<>,;:\[\]\r\n]*@[^"\\()<>,;:\[\]\r\n]*?)[ \t]*<([^<>\r\n]*@[^<>\r\n]*)>'
)


def _quote_address_names(value: str, notes: list[str] | None) -> str:
    def quoted(m: re.Match[str]) -> str:
        lead, space, name, addr = m.groups()
        name = name.strip(" \t")
        if notes is not None and name.lower() != addr.strip().lower():
            notes.append(f"a display name that looks like an address: {name[:80]}")
        return f'{lead}{space}"{name}" <{addr}>'

    return _ADDRESS_AS_NAME.sub(quoted, value)


_ENCODED_WORDS = re.compile(
    r"=\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=(?:[ \t]*=\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=)*"
)


def _quote_encoded_words(value: str, hint: str | None, notes: list[str] | None) -> str:
    """Encoded words as the quoted strings they stand for: a name that decodes to specials
    (":", "<", CR LF ...) must not be read as address syntax."""

    def quoted(m: re.Match[str]) -> str:
        text = decode_header_value(m.group(0), hint, notes)
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'

    return _ENCODED_WORDS.sub(quoted, value)


_CACHED_ADDRESS_CHARS = 2000


def _addresses(
    value: str | None,
    hint: str | None,
    keep_nameless: bool = False,
    notes: list[str] | None = None,
) -> list[Address]:
    """Mailboxes of an address header; groups, garbage and CR/LF in names never raise.

    With `keep_nameless`, a display name without a usable address ("MAILER-DAEMON <>")
    is kept as Address(name, ""). What could not be read in a name goes to `notes`.

    The same header value comes again and again in a mailbox (the rep's own address, each
    contact's From): the answers for values up to 2,000 characters are kept (Address is
    immutable), which saves ~10 µs a message."""
    if not value:
        return []
    if len(value) > _CACHED_ADDRESS_CHARS:
        return _read_addresses(value, hint, keep_nameless, notes)
    found, found_notes = _cached_addresses(value, hint, keep_nameless)
    if found_notes and notes is not None:
        notes.extend(found_notes)
    return list(found)


@lru_cache(maxsize=4096)
def _cached_addresses(
    value: str, hint: str | None, keep_nameless: bool
) -> tuple[tuple[Address, ...], tuple[str, ...]]:
    notes: list[str] = []
    found = _read_addresses(value, hint, keep_nameless, notes)
    return tuple(found), tuple(notes)


def _read_addresses(
    value: str, hint: str | None, keep_nameless: bool, notes: list[str] | None
) -> list[Address]:
    value = _UNFOLD.sub(" ", value[:_MAX_ADDRESS_HEADER])
    pairs = _simple_addresses(value)
    if pairs is None and "@" in value and "<" in value:
        value = _quote_address_names(value, notes)
        pairs = _simple_addresses(value)
    if pairs is None and "=?" in value and '"' not in value:
        value = _quote_encoded_words(value, hint, notes)
        pairs = _simple_addresses(value)
    if pairs is None:
        try:
            # The stdlib's non-strict parser, the same on every patch level. The strict one
            # (gh-102988: the default from 3.13 and in patched 3.11.x/3.12.x such as Debian
            # 12's 3.11.2) answers [('', '')] for a whole header over a trailing comma, a
            # comment or a stray word, which would drop every display name in it; it is also
            # ~40% slower. Garbage the non-strict one lets through is weeded out below.
            if getaddresses.__kwdefaults__:  # has `strict`
                pairs = getaddresses([value], strict=False)
            else:
                pairs = getaddresses([value])
        except Exception:  # noqa: BLE001
            pairs = []
    out: list[Address] = []
    for name, email in pairs:
        email = _clean_email(email)
        if not email and not name:
            continue
        if not email and "@" in name:
            # "Name <foo@bar" and similar: pick the address out of the remains.
            m = _EMAIL_RE.search(name)
            email, name = (m.group(0).lower(), "") if m else ("", name)
        if email or (keep_nameless and name.strip()):
            out.append(Address(name=decode_header_value(name, hint, notes), email=email))
    if not any(a.email for a in out):
        found = [Address("", m.lower()) for m in _EMAIL_RE.findall(value)[:100]]
        out = found or out[:1]
    if notes is not None and "<" in value and any(a.email and not a.name for a in out):
        out = _recover_names(value, out, hint, notes)
    return out


# `phrase <address>` as written, between commas: where a display name the parser lost was.
_PHRASE = re.compile(r"(?:^|,)[ \t]*([^,<>]*?)[ \t]*<[ \t]*([^<>\s,]+@[^<>\s,]+?)[ \t]*>")
_NOT_A_NAME = re.compile(r"[:;@]")  # a group's label, or an address posing as a name


def _recover_names(
    value: str, found: list[Address], hint: str | None, notes: list[str]
) -> list[Address]:
    """Display names the parser dropped (a stray parenthesis or quote, raw 8-bit bytes in a
    name: `Jurgen ( Muller <jm@b>`) taken from the text before `<address>`, without the
    stray characters, with a note. One pass over `value`, so a long Cc stays linear."""
    phrases: dict[str, str] = {}
    for m in _PHRASE.finditer(value):
        phrase = m.group(1)
        if phrase and not _NOT_A_NAME.search(phrase):
            phrases.setdefault(m.group(2).lower(), phrase)
    if not phrases:
        return found
    out = []
    for a in found:
        raw = phrases.get(a.email) if a.email and not a.name else None
        name = " ".join(raw.translate(_STRAY).split()) if raw else ""
        if name:
            name = decode_header_value(name, hint, notes)
            notes.append(
                "a display name could not be parsed (a stray parenthesis or quote); kept as written"
            )
            a = Address(name=name, email=a.email)
        out.append(a)
    return out


_STRAY = str.maketrans({"(": " ", ")": " ", '"': " ", "\\": " "})


def _clean_email(email: str) -> str:
    """The address, lower-cased, or "" when it is not one: white space, no local part or no
    domain ("@e.f" is what the non-strict parser makes of "a@b.c d@e.f")."""
    email = email.strip().strip("<>").strip()
    local, _, domain = email.rpartition("@")
    if not (local and domain) or _WHITESPACE.search(email):
        return ""
    if not email.isascii():
        email = decode_header_value(email)
    return email.lower()
