"""The parse step: Fetched -> Message.

`parse` turns a Fetched (from an IMAP fetch, or from whole bytes by `mime.fetched_from_bytes`)
into a Message. It never raises: every problem becomes a defect string on the Message.

Headers are read with the stdlib compat32 parser (fast, lenient); charset repair is in
`charsets`, html/quote/signature/language helpers in `textclean`.
"""

from __future__ import annotations

import binascii
import hashlib
import logging
import re
from datetime import UTC, datetime, timedelta
from email.parser import BytesParser
from email.policy import compat32
from email.utils import parsedate_tz
from functools import lru_cache

from mailparser.dates import parse_mail_date

from mailkeeper.model import Address, Attachment, Fetched, Message, Part
from mailkeeper.parse.addresses import _CACHED_ADDRESS_CHARS, _addresses
from mailkeeper.parse.charsets import decode_base64, decode_header_value, decode_text
from mailkeeper.parse.mime import BARE_CR_NOTE, choose_text_sections, content_params, fix_bare_cr
from mailkeeper.parse.textclean import guess_language, html_to_text, strip_reply

logger = logging.getLogger(__name__)

__all__ = ["message_key", "parse"]

_MAX_TEXT_CHARS = 1_000_000
_MAX_DATE_CHARS = 200

# ---------------------------------------------------------------------------------------------
# Headers


# A header line as the compat32 feed parser sees one: a field name and a colon (or an envelope
# "From " line, or a continuation); anything else ends the header block.
_FIELD_START = re.compile(rb"[\041-\071\073-\176]*:").match
_FIELD_NAME_BYTES = bytes([*range(0o41, 0o72), *range(0o73, 0o177)])


def _header_fields(header: bytes) -> tuple[list[tuple[str, bytes]], list[str]]:
    """(name, source bytes) per header field and the parser's defect names, exactly as
    `BytesParser(policy=compat32).parsebytes(header, headersonly=True)` would find them
    (universal line ends, unfolding, envelope and stray lines), without building a Message.

    One pass over the lines: email.feedparser's header loop (_parsegen, then
    _parse_headers) folded together."""
    lines = header.splitlines(True)  # bytes split on CR, LF and CRLF only, like the parser
    defects: list[str] = []
    fields: list[tuple[str, list[bytes]]] = []
    current: list[bytes] | None = None
    # A "From " line after the first is a misplaced envelope header, unless it is the last
    # line of the block: then it is the first line of the body (known one line later).
    from_pending = False
    for lineno, line in enumerate(lines):
        c = line[0]
        if c == 32 or c == 9:  # a continuation line
            if from_pending:
                defects.append("MisplacedEnvelopeHeaderDefect")
                from_pending = False
            if current is None:
                defects.append("FirstHeaderLineIsContinuationDefect")
            else:
                current.append(line)
            continue
        if line.startswith(b"From "):  # an envelope line
            if from_pending:
                defects.append("MisplacedEnvelopeHeaderDefect")
            current = None
            from_pending = lineno > 0  # the first line is the envelope line: skipped
            continue
        # A field: _FIELD_START matches (name characters up to the first colon); bytes
        # operations instead of the regex.
        colon = line.find(b":")
        if colon < 0 or line[:colon].translate(None, _FIELD_NAME_BYTES):
            if c != 13 and c != 10:  # not the blank separator line: the body starts here
                defects.insert(0, "MissingHeaderBodySeparatorDefect")  # the parser's first
            break
        if from_pending:
            defects.append("MisplacedEnvelopeHeaderDefect")
            from_pending = False
        if colon == 0:
            current = None
            defects.append("InvalidHeaderDefect")
            continue
        current = [line]
        fields.append((line[:colon].decode("ascii"), current))
    return [(name, b"".join(source)) for name, source in fields], defects


def _after_fields(header: bytes) -> bytes:
    """The bytes from the first line of `header` that _header_fields does not read as a field."""
    pos = 0
    for line in header.splitlines(True):
        c = line[0]
        if not (c == 32 or c == 9 or line.startswith(b"From ") or _FIELD_START(line)):
            return header[pos:]
        pos += len(line)
    return b""


def _field_value(source: bytes) -> str:
    """The raw value of a field as compat32 keeps it (see Policy.header_source_parse)."""
    value = source[source.index(b":") + 1 :].lstrip(b" \t").rstrip(b"\r\n")
    return value.decode("ascii", "surrogateescape")


class _Headers:
    """Raw header values by lower-case name (first occurrence wins for `get`).

    Values are decoded only when read: a message has dozens of fields, parse() reads ~15."""

    content_type = "text/plain"
    report_type = ""
    charset: str | None = None
    # What follows the first line that is not a header field, when no blank line came first:
    # text that a server (Dovecot) keeps in the header block of a message without headers.
    rest = b""

    def __init__(self, header: bytes, defects: list[str]) -> None:
        self.values: dict[str, bytes] = {}
        self._decoded: dict[str, str] = {}
        try:
            if isinstance(header, (bytes, bytearray)) and header:
                header = bytes(header)
                fixed = fix_bare_cr(header)
                if fixed is not None:
                    header = fixed
                    defects.append(BARE_CR_NOTE)
                fields, found = _header_fields(header)
                if found and found[0] == "MissingHeaderBodySeparatorDefect":
                    self.rest = _after_fields(header)
            else:
                fields, found = self._parser_fields(header)
        except Exception as exc:  # noqa: BLE001
            defects.append(f"header parse failed: {type(exc).__name__}")
            return
        values = self.values
        for name, source in fields:
            values.setdefault(name.strip().lower(), source)
        for name in found:
            if name not in defects:
                defects.append(name)
        ctype = self.get("content-type") or ""
        self.content_type = ctype.split(";", 1)[0].strip().lower() or "text/plain"
        lower = ctype.lower()
        if "charset" in lower or "report-type" in lower:  # else neither parameter is there
            params = content_params(ctype)
            self.report_type = params.get("report-type", "").lower()
            self.charset = params.get("charset") or None

    def _parser_fields(self, header: bytes) -> tuple[list[tuple[str, bytes]], list[str]]:
        """The stdlib parser, for input that is not plain bytes (it decides what fails)."""
        msg = BytesParser(policy=compat32).parsebytes(header, headersonly=True)
        for name, value in msg.raw_items():
            self._decoded.setdefault(name.strip().lower(), str(value))
        fields = [(name, b"") for name, _ in msg.raw_items()]
        return fields, [type(d).__name__ for d in msg.defects]

    def get(self, name: str) -> str | None:
        value = self._decoded.get(name)
        if value is None:
            source = self.values.get(name)
            if source is None:
                return None
            value = self._decoded[name] = _field_value(source)
        return value

    def has(self, name: str) -> bool:
        return name in self.values


_MSGID = re.compile(r"<([^<>\s]+)>")
_BARE_MSGID = re.compile(r"^[^<>\s@]+@[^<>\s@]+$")


def _message_ids(value: str | None) -> list[str]:
    if not value:
        return []
    ids = [i for i in _MSGID.findall(value) if len(i) < 1000]
    if ids:
        return ids
    return [t for t in value.split() if _BARE_MSGID.match(t) and len(t) < 1000]


def _first_id(value: str | None) -> str | None:
    ids = _message_ids(value)
    return ids[0] if ids else None


_MONTHS = {m: i for i, m in enumerate("jan feb mar apr may jun jul aug sep oct nov dec".split(), 1)}
# "Mon, 2 Jan 2006 15:04:05 +0800": what mail-parser's parse_mail_date reads the same way,
# minus its rarer forms (comments, 2-digit years, named zones, leap seconds), which go to it.
_PLAIN_DATE = re.compile(
    r"(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), )?(\d{1,2}) ([A-Za-z]{3}) (\d{4}) "
    r"([01]\d|2[0-3]):([0-5]\d):([0-5]\d) ([+-])(\d\d)(\d\d)",
    re.ASCII,
)


def _date(value: str | None) -> tuple[datetime | None, int | None, str | None]:
    """(UTC datetime, sender's offset in minutes, problem) from a Date header."""
    if not value:
        return None, None, "no Date"
    value = " ".join(value[:_MAX_DATE_CHARS].split())
    m = _PLAIN_DATE.fullmatch(value)
    if m is not None:  # the shape nearly every client writes: no comments, numeric zone
        day, mon, year, hh, mm, ss, sign, zh, zm = m.groups()
        month = _MONTHS.get(mon.lower())
        east = (int(zh) * 60 + int(zm)) * (-1 if sign == "-" else 1)
        if month and int(zm) < 60 and int(year) >= 1900:
            try:
                local = datetime(int(year), month, int(day), int(hh), int(mm), int(ss), tzinfo=UTC)
                return local - timedelta(minutes=east), east, None
            except (ValueError, OverflowError):
                pass  # the full parser decides and names the problem
    return _date_by_parsers(value)


def _date_by_parsers(value: str) -> tuple[datetime | None, int | None, str | None]:
    """_date without its fast path: mail-parser for the instant, parsedate_tz for the offset."""
    result = parse_mail_date(value)
    tup = parsedate_tz(value)
    offset = tup[9] // 60 if tup and tup[9] is not None else None
    if result.value is not None:
        return result.value, offset if offset is not None else 0, None
    return _lenient_date(tup, value)


def _lenient_date(
    tup: tuple[int | None, ...] | None, value: str
) -> tuple[datetime | None, int | None, str | None]:
    if not tup:
        return None, None, f"unparsable Date {value[:60]!r}"
    try:
        y, mo, d, h, mi, sec = (int(x or 0) for x in tup[:6])
        year = y + (2000 if y < 50 else 1900 if y < 100 else 0)
        naive = datetime(year, mo, d, h, mi, min(sec, 59))
    except (ValueError, OverflowError, TypeError):
        return None, None, f"invalid Date {value[:60]!r}"
    offset = int(tup[9] or 0) // 60
    try:
        return naive.replace(tzinfo=UTC) - timedelta(minutes=offset), offset, None
    except OverflowError:  # "31 Dec 9999 23:59 -1200" is past the last datetime
        return None, None, f"invalid Date {value[:60]!r}"


def _as_utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


# ---------------------------------------------------------------------------------------------
# Body text


def _uudecode(data: bytes) -> bytes:
    out: list[bytes] = []
    started = False
    for line in data.splitlines():
        if not started:
            started = line.startswith(b"begin ")
            continue
        if line.strip() in (b"end", b"`"):
            break
        try:
            out.append(binascii.a2b_uu(line))
        except binascii.Error:
            nbytes = (((line[0] - 32) & 63) * 4 + 5) // 3 if line else 0
            try:
                out.append(binascii.a2b_uu(line[:nbytes]))
            except binascii.Error:
                continue
    return b"".join(out)


_JUNK_CHARS = tuple(chr(c) for c in (*range(0, 9), 11, 12, *range(14, 32), 127))
_BINARY_JUNK = re.compile("[" + "".join(_JUNK_CHARS) + "]+")
_IDENTITY_ENCODINGS = frozenset({"7bit", "8bit", "binary", "", "7-bit", "8-bit", "plain", "none"})


_B64_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="
# "=" not followed by two hex digits or a (soft) line end.
_QP_BAD_ESCAPE = re.compile(rb"=(?![0-9A-Fa-f]{2}|[ \t]*(?:\r?\n|\Z))")


def _base64_body(data: bytes, defects: list[str]) -> bytes:
    """Base64 body bytes. Clean input is decoded in one strict pass; otherwise what can be read
    is kept: runs of base64 lines are decoded, lines that are not base64 are kept as they are,
    and a defect says so (a padding slip alone is no defect)."""
    try:
        return binascii.a2b_base64(data.translate(None, b" \t\r\n"), strict_mode=True)
    except binascii.Error:
        pass
    out: list[bytes] = []
    run: list[bytes] = []
    foreign = 0
    for line in data.splitlines():
        line = line.strip()
        if not line:
            continue
        if line.translate(None, _B64_ALPHABET):  # characters base64 does not have
            if run:
                out.append(decode_base64(b"".join(run)))
                run = []
            out.append(line + b"\n")
            foreign += 1
            continue
        run.append(line)
        if line.endswith(b"="):  # padding: the end of one encoded chunk
            out.append(decode_base64(b"".join(run)))
            run = []
    if run:
        out.append(decode_base64(b"".join(run)))
    if foreign:
        defects.append(f"base64: {foreign} line(s) not base64, kept as they are")
    return b"".join(out)


def transfer_decode(data: bytes, encoding: str, defects: list[str]) -> bytes:
    """Undo a content-transfer-encoding; tolerant of broken input."""
    encoding = encoding.strip().lower()
    try:
        if encoding == "base64":
            return _base64_body(data, defects)
        if encoding == "quoted-printable":
            out = binascii.a2b_qp(data)
            # A decoded "=" is legal (=3D); only then is the input searched for bad escapes.
            if b"=" in out and _QP_BAD_ESCAPE.search(data):
                defects.append("quoted-printable: invalid escapes kept as they are")
            return out
        if encoding in ("x-uuencode", "uuencode", "x-uue", "uue"):
            return _uudecode(data)
    except (binascii.Error, ValueError) as exc:
        defects.append(f"{encoding} decoding failed: {exc}")
        return data
    if encoding not in _IDENTITY_ENCODINGS:
        defects.append(f"unknown transfer encoding {encoding!r}")
    return data


def _body_text(f: Fetched, defects: list[str]) -> tuple[str, bool]:
    """(decoded text, html only) of the chosen section(s)."""
    by_section = {p.section: p for p in f.parts}
    texts: list[str] = []
    html_only = False
    for section in choose_text_sections(f.parts):
        data = f.bodies.get(section)
        part = by_section.get(section)
        if data is None or part is None:
            continue
        text, note = decode_text(transfer_decode(data, part.encoding, defects), part.charset)
        if note:
            defects.append(f"body: {note}")
        if part.content_type == "text/html":
            text, html_only = html_to_text(text), True
        texts.append(text)
    return _clean_text("\n".join(texts), defects), html_only


def _clean_text(text: str, defects: list[str]) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")[:_MAX_TEXT_CHARS]
    if any(map(text.__contains__, _JUNK_CHARS)):  # much faster than a regex scan when clean
        if "\x00" in text:
            defects.append("NUL bytes removed from the text")
        text = _BINARY_JUNK.sub("", text)
    return text


# ---------------------------------------------------------------------------------------------
# Automatic and bulk mail

_OOO_SUBJECT = re.compile(
    r"^\s*(out of (the )?office|automatic reply|auto[- ]?reply|auto[- ]?response|autoreply|"
    r"auto response|abwesenheitsnotiz|automatische antwort|réponse automatique|"
    r"respuesta automática|risposta automatica|resposta automática|afwezigheidsmelding|"
    r"自动回复|自動回覆|自動回复|自动答复|自動答覆|不在办公室|不在辦公室|外出中|休假中|"
    r"自動応答|自動返信|不在通知|부재중|자동 회신|on vacation|vacation reply|"
    r"away from (the )?office)"
    r"|\bis out of (the )?office\b|\bout of office (auto ?reply|notification)\b",
    re.IGNORECASE,
)
_BOUNCE_SUBJECT = re.compile(
    r"undeliver|deliver|delay|returned|fail|could not|couldn't|unable|rejected|error|warning|"
    r"non[- ]?delivery|bounce|notify|transcript|退信|退回|未能|投递|送达|"
    r"配信|エラー|送信できません",
    re.IGNORECASE,
)
_DAEMON_FROM = re.compile(
    r"\b(mailer-daemon|postmaster|post_master|mail-daemon|mailerdaemon|mdaemon|"
    r"mail delivery (subsystem|system|service))\b|<>",
    re.IGNORECASE,
)
_ESP_HEADERS = (
    "x-mailchimp-campaign",
    "x-mc-user",
    "x-campaign",
    "x-campaignid",
    "x-campaign-id",
    "x-mailgun-campaign-id",
    "x-sfmc-stack",
    "x-marketoid",
    "x-mailer-recptid",
    "x-newsletter",
    "x-mailing-list",
    "mailing-list",
    "x-listmember",
    "x-list-unsubscribe",
    "list-post",
    "x-beenthere",
)
_ESP_HEADER_SET = frozenset(_ESP_HEADERS)
_ESP_HEADER_PREFIX = re.compile("x-mailchimp|x-campaign|x-mc-").match
_ESP_MAILER = re.compile(
    r"mailchimp|campaign monitor|constant ?contact|sendinblue|brevo|mailjet|phplist|"
    r"exacttarget|salesforce marketing|marketo|hubspot|klaviyo|acoustic|silverpop|"
    r"emarsys|newsletter|mass ?mail|bulk ?mail|mailerlite|getresponse|aweber|sendy",
    re.IGNORECASE,
)


def _auto_reason(h: _Headers, subject: str, text: str = "") -> str | None:
    """Why a message was sent by a machine (auto-reply, bounce, receipt), or None."""
    auto = (h.get("auto-submitted") or "").strip().lower()
    if auto and not auto.startswith("no"):
        return f"Auto-Submitted: {auto.split(';')[0][:40]}"
    for name in ("x-autoreply", "x-autorespond", "x-autoreply-from", "x-mail-autoreply"):
        if h.has(name) and (h.get(name) or "").strip().lower() not in ("no", "false", "0"):
            return name
    if (h.get("precedence") or "").strip().lower() == "auto_reply":
        return "Precedence: auto_reply"
    return _report_reason(h) or _bounce_reason(h, subject) or _ooo_reason(subject, text)


def _report_reason(h: _Headers) -> str | None:
    if h.content_type == "multipart/report":
        kind = {
            "delivery-status": "delivery status notification",
            "disposition-notification": "read receipt",
            "feedback-report": "abuse feedback report",
        }.get(h.report_type, "report")
        return kind
    if h.has("x-failed-recipients"):
        return "X-Failed-Recipients"
    return None


# Sender and X-Mailer values repeat from message to message (a sync sees a few hundred): the
# answers of these two searches are kept for values up to 2,000 characters (~2-3 µs each).
def _from_daemon(value: str) -> bool:
    if len(value) > _CACHED_ADDRESS_CHARS:
        return _DAEMON_FROM.search(value) is not None
    return _cached_search(_DAEMON_FROM, value)


def _esp_mailer(value: str) -> bool:
    if len(value) > _CACHED_ADDRESS_CHARS:
        return _ESP_MAILER.search(value) is not None
    return _cached_search(_ESP_MAILER, value)


@lru_cache(maxsize=2048)
def _cached_search(pattern: re.Pattern[str], value: str) -> bool:
    return pattern.search(value) is not None


def _bounce_reason(h: _Headers, subject: str) -> str | None:
    from_daemon = _from_daemon(h.get("from") or "")
    if from_daemon and _BOUNCE_SUBJECT.search(subject):
        return "bounce from mailer-daemon"
    if (h.get("return-path") or "").strip() == "<>" and _BOUNCE_SUBJECT.search(subject):
        return "bounce (null return path)"
    return None


_LIST_TAGS = re.compile(r"^\s*(\[[^\]]{0,60}\]\s*)+")
_REPLY_PREFIX = re.compile(
    r"^\s*(re|fw|fwd|aw|wg|sv|vs|tr|rv|r|回复|回覆|答复|答覆|转发|轉寄)\s*[:：]", re.IGNORECASE
)


# What an away notice's text says. A person's mail is never taken for an automatic reply by its
# subject alone ("Out of office next week - can we meet before?"): the text must read as one
# too, and ask nothing.
_AWAY_TEXT = re.compile(
    r"out of (the )?office|away from|on (annual |parental |sick )?leave|vacation|holiday|"
    r"limited access|(return|returning|back) (on|to the office|in the office)|"
    r"will (respond|reply|answer|get back)|automatic reply|auto-?reply|"
    r"不在|休假|外出|出差|回来后|自动回复|自動回覆|abwesend|absent|ausente|assente|fuori sede",
    re.IGNORECASE,
)


# Subjects only a machine writes ("Automatic reply: ...", Outlook's and QQ's own prefix).
_MACHINE_SUBJECT = re.compile(
    r"^\s*(automatic reply|auto[- ]?reply|auto[- ]?response|autoreply|automatische antwort|"
    r"réponse automatique|respuesta automática|risposta automatica|resposta automática|"
    r"自动回复|自動回覆|自動回复|自动答复|自動答覆|自動応答|自動返信|자동 회신)\s*[:：]",
    re.IGNORECASE,
)


def _ooo_reason(subject: str, text: str = "") -> str | None:
    """Out-of-office subject and text, unless a person is replying to or forwarding one."""
    bare = _LIST_TAGS.sub("", subject)
    if _REPLY_PREFIX.match(bare) or not _OOO_SUBJECT.search(bare):
        return None
    if _MACHINE_SUBJECT.match(bare):
        return "automatic-reply subject"
    head = text[:1000]
    if not text.strip() or (_AWAY_TEXT.search(head) and "?" not in head and "？" not in head):
        return "out-of-office subject and text"
    return None


def _bulk_reason(h: _Headers) -> str | None:
    """Why a message looks like list or campaign mail, or None."""
    if h.has("list-id"):
        return "List-Id"
    if h.has("list-unsubscribe"):
        return "List-Unsubscribe"
    precedence = (h.get("precedence") or "").strip().lower()
    if precedence in ("bulk", "list", "junk"):
        return f"Precedence: {precedence}"
    if not _ESP_HEADER_SET.isdisjoint(h.values):
        for name in _ESP_HEADERS:
            if h.has(name):
                return name
    if any(map(_ESP_HEADER_PREFIX, h.values)):
        return "ESP campaign header"
    # Feedback-ID alone is not bulk: QQ Mail adds it to personal mail too.
    mailer = h.get("x-mailer") or ""
    if _esp_mailer(mailer):
        return f"X-Mailer: {mailer[:40]}"
    return None


# ---------------------------------------------------------------------------------------------
# Message


def message_key(
    message_id: str | None,
    date: datetime | None,
    sender_email: str,
    subject: str,
    size: int,
    text: str,
    attachments: list[Attachment],
) -> str:
    """Identity of a message: equal for the same bytes in two folders, different when a reused
    Message-ID comes with a different date, sender, subject, size, text or attachments."""
    text_sha = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
    parts = [
        message_id or "",
        date.isoformat() if date else "",
        sender_email,
        subject,
        str(size),
        text_sha,
        *(f"{a.filename or ''}\x1f{a.size}" for a in attachments),
    ]
    blob = "\x1e".join(parts).encode("utf-8", "surrogatepass")
    return hashlib.sha256(blob).hexdigest()[:32]


def _attachments(parts: list[Part]) -> list[Attachment]:
    out: list[Attachment] = []
    for p in parts:
        if p.is_attachment:
            size = p.size * 3 // 4 if p.encoding == "base64" else p.size
            out.append(Attachment(p.filename, p.content_type, size))
    return out


def _charset_hint(h: _Headers, parts: list[Part]) -> str | None:
    if h.charset:
        return h.charset
    texts = (p.charset for p in parts if p.charset and p.content_type.startswith("text/"))
    return next(texts, None)


def parse(f: Fetched) -> Message:
    """A Message from what a mailbox adapter fetched; never raises (defects record problems).
    (Direction, which needs the rep's addresses, is decided by link.direction_of.)"""
    try:
        return _parse(f)
    except RecursionError:
        return _minimal_message(f, "RecursionError while parsing")
    except Exception as exc:  # noqa: BLE001 - promise 4: no message stops a sync
        logger.exception("parse failed for %s/%s", f.folder, f.uid)
        return _minimal_message(f, f"parse failed: {type(exc).__name__}: {exc}")


def _parse(f: Fetched) -> Message:
    defects: list[str] = []
    h = _Headers(f.header, defects)
    hint = _charset_hint(h, f.parts)
    header_notes: list[str] = []
    subject = decode_header_value(h.get("subject"), hint, header_notes)
    senders = _addresses(h.get("from"), hint, True, header_notes) or _addresses(
        h.get("sender"), hint, True, header_notes
    )
    sender = senders[0] if senders else None
    message_id = _first_id(h.get("message-id"))
    header_date, offset, date_problem = _date(h.get("date"))
    text, html_only = _body_text(f, defects)
    if h.rest and not text.strip():
        # No blank line ended the header block: the server kept the text in it (Dovecot,
        # for a message without headers); the Maildir path finds it as the body.
        body, note = decode_text(h.rest, hint)
        text = _clean_text(body, defects).lstrip("\n")
        if note:
            defects.append(f"body: {note}")
    attachments = _attachments(f.parts)
    defects.extend(_header_defects(message_id, sender, date_problem, f, header_notes))
    defects.extend(n for n in f.notes if n not in defects)
    if BARE_CR_NOTE in defects[1:]:
        # First, wherever it was found: in the header over IMAP (the server sends the bytes),
        # in the notes of a Maildir read (mime fixed the header before the parse).
        defects.remove(BARE_CR_NOTE)
        defects.insert(0, BARE_CR_NOTE)
    key = message_key(
        message_id, header_date, sender.email if sender else "", subject, f.size, text, attachments
    )
    references = _message_ids(h.get("references"))
    in_reply_to = _first_id(h.get("in-reply-to"))
    reply_text = strip_reply(text)
    auto_reason = _auto_reason(h, subject, text)
    bulk_reason = _bulk_reason(h)
    return Message(
        key=key,
        message_id=message_id,
        in_reply_to=in_reply_to,
        references=references,
        thread_key=(references[0] if references else None) or in_reply_to or message_id or key,
        date=header_date or _as_utc(f.internaldate),
        date_offset_minutes=offset if header_date else None,
        sender=sender,
        to=_addresses(h.get("to"), hint),
        cc=_addresses(h.get("cc"), hint),
        reply_to=_addresses(h.get("reply-to"), hint),
        subject=subject,
        text=text,
        reply_text=reply_text,
        language=guess_language(reply_text or text),
        is_auto=auto_reason is not None,
        auto_reason=auto_reason,
        is_bulk=bulk_reason is not None,
        bulk_reason=bulk_reason,
        attachments=attachments,
        defects=defects,
        size=f.size,
        has_html_only=html_only,
    )


def _header_defects(
    message_id: str | None,
    sender: Address | None,
    date_problem: str | None,
    f: Fetched,
    header_notes: list[str],
) -> list[str]:
    out: list[str] = []
    if message_id is None:
        out.append("no Message-ID")
    if sender is None or not sender.email:
        out.append("no From address")
    if date_problem:
        fallback = "internal date used" if f.internaldate else "no date at all"
        out.append(f"{date_problem}: {fallback}")
    out.extend(dict.fromkeys(header_notes))
    return out


def _minimal_message(f: Fetched, why: str) -> Message:
    size = getattr(f, "size", 0) or 0
    digest = hashlib.sha256()
    for chunk in (getattr(f, "header", b""), *getattr(f, "bodies", {}).values()):
        digest.update(chunk if isinstance(chunk, bytes) else b"")
    key = message_key(None, None, "", "", size, digest.hexdigest(), [])
    return Message(
        key=key,
        message_id=None,
        in_reply_to=None,
        references=[],
        thread_key=key,
        date=_as_utc(getattr(f, "internaldate", None)),
        date_offset_minutes=None,
        sender=None,
        to=[],
        cc=[],
        reply_to=[],
        subject="",
        text="",
        reply_text="",
        language=None,
        is_auto=False,
        auto_reason=None,
        is_bulk=False,
        bulk_reason=None,
        attachments=[],
        defects=[why],
        size=size,
    )
