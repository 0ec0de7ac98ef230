"""`build_demo(dest)`: a small, realistic demo world to try mailkeeper on without a mail server.

It writes into `dest`:
  Maildir/            Amy Chen's mail (INBOX, Sent and an empty Drafts, Maildir++), about
                      sixty messages from
                      `demo_mail`, built with the stdlib email package
  mailkeeper.yaml     one account reading that Maildir (`maildir: ./Maildir`)
  rules/, templates/  the shipped defaults (`defaults.init_config_dir`), with the demo's
                      customers in rules/customers.yaml

Everything is deterministic: fixed Message-IDs, MIME boundaries, file names and dates (offsets
from `now`, 2026-11-01 unless given), so two builds are byte-identical.
"""

from __future__ import annotations

import getpass
import hashlib
import html
import json
import logging
import os
import shutil
import stat
import tempfile
import textwrap
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from email import encoders
from email.charset import QP, Charset
from email.header import Header
from email.message import Message
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.nonmultipart import MIMENonMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime, formataddr
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from mailkeeper.config import defaults
from mailkeeper.demo.mail import AMY, CUSTOMERS_YAML, MAILS, Attach, Mail, Person
from mailkeeper.errors import UserError

logger = logging.getLogger(__name__)

DEMO_NOW = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
MARKER = ".mailkeeper-demo"
UNREAD_DAYS = 4  # inbound mail younger than this is still unread (in new/)
MAILDIR = "Maildir"
QUOTE_DEPTH = 2  # how many earlier messages a reply quotes

CONFIG = """\
# The mailkeeper demo (written by `mailkeeper demo`): Amy Chen, export sales at Lumen
# Furniture, reading a local Maildir instead of an IMAP server.
me:
  name: Amy Chen
  addresses: [amy@lumen-furniture.com]
  company_domains: [lumen-furniture.com]
  signature: |
    Amy Chen
    Export Sales Manager | Lumen Furniture Co., Ltd.
timezone: Asia/Shanghai
working_hours: {days: [mon, tue, wed, thu, fri], start: "09:00", end: "18:00"}
database: ./mailkeeper.db
rules: ./rules
templates: ./templates
accounts:
  demo:
    maildir: ./Maildir
"""


# ----------------------------------------------------------------------------- public API
def demo_now(as_of: datetime | None = None) -> datetime:
    """The demo's "now": 09:00 UTC of `as_of`'s day, or of today, so that the story's dates
    (given as days before now) lead up to the day the demo runs, and a rerun on the same day
    is identical."""
    day = (as_of or datetime.now(UTC)).astimezone(UTC).date()
    return datetime.combine(day, DEMO_NOW.timetz())


def default_demo_dir() -> Path:
    """Where the demo goes without --dir: one folder per user under the temp dir, replaced by
    each run (an earlier demo holds MARKER), so that running the demo again does not leave
    another folder behind. Earlier demos in folders of the old random names
    (mailkeeper-demo-XXXXXXXX, each ~2 MB) that this user owns are removed."""
    tmp = Path(tempfile.gettempdir())
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (some containers)
        user = str(os.getuid())
    home = tmp / f"mailkeeper-demo-{user}"
    for old in tmp.glob("mailkeeper-demo-*"):
        if old != home and _is_own_demo(old):
            shutil.rmtree(old, ignore_errors=True)
    if home.exists() and not (_is_own_demo(home) or _is_empty_own_dir(home)):
        # Someone else's folder of that name: never touch it, use a fresh one.
        return Path(tempfile.mkdtemp(prefix="mailkeeper-demo-"))
    return home


def _is_own_demo(path: Path) -> bool:
    try:
        st = path.lstat()
    except OSError:
        return False
    return stat.S_ISDIR(st.st_mode) and st.st_uid == os.getuid() and (path / MARKER).is_file()


def _is_empty_own_dir(path: Path) -> bool:
    try:
        st = path.lstat()
        return stat.S_ISDIR(st.st_mode) and st.st_uid == os.getuid() and not any(path.iterdir())
    except OSError:
        return False


def build_demo(dest: Path, now: datetime = DEMO_NOW) -> Path:
    """Write the demo world into `dest` (empty, new, or an earlier demo, which is replaced)
    and return the path of its mailkeeper.yaml."""
    dest = Path(dest).expanduser().absolute()
    _prepare(dest)
    defaults.init_config_dir(dest, force=True)
    (dest / "rules" / "customers.yaml").write_text(CUSTOMERS_YAML, encoding="utf-8")
    (dest / "rules" / "touches.yaml").write_text(demo_touches(now), encoding="utf-8")
    _declare_last_years_orders(dest / "rules" / "orders.yaml", now)
    config = dest / defaults.CONFIG_NAME
    config.write_text(CONFIG, encoding="utf-8")
    config.chmod(0o600)
    count = write_maildir(dest / MAILDIR, MAILS, now)
    (dest / MARKER).write_text("written by mailkeeper.demo.build.build_demo\n", encoding="utf-8")
    logger.info("demo: %d messages in %s, config %s", count, dest / MAILDIR, config)
    return config


# customers the rep has not written to for months, whose holidays the demo may greet: the
# next holiday of theirs is always within a few months (Brazil's and Australia's together)
_GREETED = (("BR", "Casa Ipê Móveis"), ("AU", "Kauri Living"))
# Their holidays one wishes someone a happy one of (as the holidays package names them): not
# days of mourning or remembrance (All Souls' Day, Good Friday, ANZAC Day), which the demo once
# greeted with "Happy ..."; at most four months apart, so one is always near.
_FESTIVE = frozenset({
    "Universal Fraternization Day", "Carnival", "Worker's Day", "Independence Day",
    "Republic Proclamation Day", "Christmas Day", "New Year's Day", "Australia Day",
    "Easter Monday",
})  # fmt: skip


def demo_touches(now: datetime) -> str:
    """The demo's touches.yaml: whatever the day, one greeting is due. It lists the next
    holiday in the calendars of the customers above and opens greetings early enough to reach
    it (a rep's own file lists the holidays they care about, 5 days ahead)."""
    from mailkeeper.config.touches import calendar

    today = now.date()
    found = sorted(
        (day, country, name)
        for country, _ in _GREETED
        for year in (today.year, today.year + 1)
        for day, name in calendar(country, year)
        if day >= today + timedelta(days=1) and name in _FESTIVE
    )
    day, country, name = found[0]
    ahead = max(5, (day - today).days + 1)
    return (
        "# The demo's greetings (written by `mailkeeper demo` for its date): the next holiday\n"
        "# of a customer the rep has not written to for a while. See README, touches.yaml.\n"
        f"greetings:\n  {country}: [{json.dumps(name, ensure_ascii=False)}]\n"
        f"tiers:\n  A: {{greeting_days_before: {ahead}}}\n  B: {{greeting_days_before: {ahead}}}\n"
        "  C: {greeting_days_before: off}\n"
    )


# Birch & Co's orders of the calendar year before `now` (the yearly report card's year):
# (ref, confirmed, shipped, quantity, amount, currency) as (month, day) of that year. The plan
# ships 60 days after confirmation: BC-Y33 left 6 days late, the other three on time or early.
LAST_YEARS_ORDERS = (
    ("BC-{y}01", (2, 10), (4, 8), 120, "9500", "USD"),
    ("BC-{y}17", (5, 6), (7, 2), 300, "21400.50", "USD"),
    ("BC-{y}33", (8, 19), (10, 24), 80, "6200", "GBP"),
    ("BC-{y}48", (10, 20), (12, 15), 150, "11800", "USD"),
)


def last_years_orders(now: datetime) -> list[tuple[str, date, date, int, str, str]]:
    """The demo's orders of the year before `now`, with their shipping days."""
    y = now.year - 1
    return [(ref.format(y=y % 100), date(y, *c), date(y, *s), q, a, cur)
            for ref, c, s, q, a, cur in LAST_YEARS_ORDERS]  # fmt: skip


def _declare_last_years_orders(path: Path, now: datetime) -> None:
    """Declare them in the demo's rules/orders.yaml, closed a week after shipping (so they ask
    for no progress report today); their shipping is recorded by `record_shipping`."""
    lines = ["orders:"]
    for ref, confirmed, shipped, qty, amount, cur in last_years_orders(now):
        lines.append(f"  - {{ref: {ref}, customer: Birch & Co, confirmed: {confirmed}, "
                     f"closed: {shipped + timedelta(days=7)}, quantity: {qty}, "
                     f"amount: {amount}, currency: {cur}}}")  # fmt: skip
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("\norders: []\n", "\n" + "\n".join(lines) + "\n"), "utf-8")


def record_shipping(app: Any, now: datetime) -> None:
    """Record when each of last year's orders shipped, as the rep would have with `mailkeeper
    order event REF shipped --date DAY`."""
    for ref, _, shipped, *_ in last_years_orders(now):
        app.order_event(ref, "shipped", shipped, None)


def _prepare(dest: Path) -> None:
    """Refuse to write over anything that is not an earlier demo; clear an earlier demo."""
    if dest.exists() and not dest.is_dir():
        raise UserError(f"{dest} is a file", ["give the demo a folder: --dir PATH"])
    if dest.is_dir() and any(dest.iterdir()) and not (dest / MARKER).exists():
        raise UserError(
            f"{dest} is not empty and holds no earlier demo",
            ["give the demo an empty or new folder, e.g. --dir /tmp/mailkeeper-demo"],
        )
    for name in (MAILDIR, "maildir-state"):
        shutil.rmtree(dest / name, ignore_errors=True)
    for db in dest.glob("mailkeeper.db*"):
        db.unlink()
    dest.mkdir(parents=True, exist_ok=True)


def write_maildir(root: Path, mails: Iterable[Mail], now: datetime = DEMO_NOW) -> int:
    """Write `mails` into a Maildir++ at `root` (INBOX at the top, Sent in .Sent)."""
    mails = list(mails)
    by_id = {m.id: m for m in mails}
    answered = {m.reply_to for m in mails if m.sender.email == AMY.email and m.reply_to}
    for folder in (root, root / ".Sent", root / ".Drafts"):
        for sub in ("cur", "new", "tmp"):
            (folder / sub).mkdir(parents=True, exist_ok=True)
    for name in (".Sent", ".Drafts"):  # Drafts: where `mailkeeper draft` puts its drafts
        (root / name / "maildirfolder").touch()
    (root / "subscriptions").write_text("Sent\nDrafts\n")
    for n, mail in enumerate(sorted(mails, key=lambda m: sent_at(m, now)), start=1):
        when = sent_at(mail, now)
        outbound = mail.sender.email == AMY.email
        folder = root / ".Sent" if outbound else root
        base = f"{int(when.timestamp())}.M{n:04d}P1.lumen-demo"
        if not outbound and now - when < timedelta(days=UNREAD_DAYS):
            path = folder / "new" / base
        else:
            flags = "RS" if mail.id in answered else "S"
            path = folder / "cur" / f"{base}:2,{flags}"
        path.write_bytes(render(mail, by_id, now))
        stamp = when.timestamp() + 7  # delivered a few seconds after it was sent
        os.utime(path, (stamp, stamp))
    return len(mails)


# ----------------------------------------------------------------------------- dates and ids
def sent_at(mail: Mail, now: datetime = DEMO_NOW) -> datetime:
    """The moment `mail` was sent: `days_ago` days before `now`, at its sender's local time."""
    tz = ZoneInfo(mail.sender.tz)
    day = now.astimezone(tz).date() - timedelta(days=mail.days_ago)
    hour, minute = (int(x) for x in mail.time.split(":"))
    return datetime.combine(day, time(hour, minute), tz)


def message_id(mail: Mail, now: datetime = DEMO_NOW) -> str:
    domain = mail.sender.email.rpartition("@")[2].lower()
    return f"<{sent_at(mail, now):%Y%m%d%H%M%S}.{mail.id}@{domain}>"


def _digest(*parts: str) -> str:
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


def _chain(mail: Mail, by_id: dict[str, Mail]) -> list[Mail]:
    """The messages `mail` answers, oldest first."""
    out: list[Mail] = []
    parent = by_id.get(mail.reply_to or "")
    while parent is not None and parent not in out:
        out.insert(0, parent)
        parent = by_id.get(parent.reply_to or "")
    return out


# ----------------------------------------------------------------------------- text
def _charset(text: str, charset: str) -> Charset:
    """us-ascii when it will do, else `charset` (quoted-printable, as Western clients write;
    GBK stays base64, as Chinese clients write it)."""
    try:
        text.encode("ascii")
        return Charset("us-ascii")
    except UnicodeEncodeError:
        cs = Charset(charset)
    if cs.input_charset in ("utf-8", "iso-8859-1"):
        cs.body_encoding = QP
    return cs


def _header_text(name: str, text: str, charset: str) -> str:
    """RFC 2047 words in the sender's charset when the text is not ASCII."""
    try:
        text.encode("ascii")
        return text
    except UnicodeEncodeError:
        return Header(text, charset, header_name=name).encode()


def _address(person: Person, charset: str | None = None) -> str:
    if not person.name:
        return person.email
    return formataddr((person.name, person.email), charset or person.charset)


def body_text(mail: Mail, by_id: dict[str, Mail], now: datetime, depth: int = QUOTE_DEPTH) -> str:
    """The plain text as the sender's client writes it: text, signature, quoted history."""
    text = mail.body.rstrip()
    if mail.sender.signature and mail.kind == "mail":
        text += "\n\n" + mail.sender.signature
    parent = by_id.get(mail.reply_to or "")
    if parent is not None and depth > 0 and mail.kind == "mail":
        quoted = body_text(parent, by_id, now, depth - 1)
        text += "\n\n" + _quote(mail.sender.quote, parent, quoted, now)
    return text + "\n"


_WEEKDAYS_ZH = "一二三四五六日"
_MONTHS_PT = "jan fev mar abr mai jun jul ago set out nov dez".split()
_WEEKDAYS_PT = "seg ter qua qui sex sáb dom".split()


def _quote(style: str, parent: Mail, text: str, now: datetime) -> str:
    when = sent_at(parent, now)
    s = parent.sender
    who = f"{s.name} <{s.email}>" if s.name else s.email
    to = "; ".join(p.name or p.email for p in parent.to)
    if style == "outlook":
        return (
            "-----Original Message-----\n"
            f"From: {who}\nSent: {when:%A, %d %B %Y %H:%M}\nTo: {to}\n"
            f"Subject: {parent.subject}\n\n{text}"
        )
    if style == "foxmail":
        return (
            "------------------ 原始邮件 ------------------\n"
            f'发件人: "{parent.sender.name}"<{parent.sender.email}>;\n'
            f"发送时间: {when.year}年{when.month}月{when.day}日"
            f"(星期{_WEEKDAYS_ZH[when.weekday()]}) {when:%H:%M}\n"
            f"收件人: {to};\n主题: {parent.subject}\n\n{text}"
        )
    quoted = "\n".join(("> " + line) if line else ">" for line in text.rstrip().split("\n"))
    if style == "de":
        return f"Am {when:%d.%m.%Y} um {when:%H:%M} schrieb {who}:\n{quoted}"
    if style == "pt":
        return (
            f"Em {_WEEKDAYS_PT[when.weekday()]}., {when.day} de {_MONTHS_PT[when.month - 1]}. "
            f"de {when.year} às {when:%H:%M}, {who} escreveu:\n{quoted}"
        )
    return f"On {when:%a, %d %b %Y at %H:%M}, {who} wrote:\n{quoted}"


def _html(text: str) -> str:
    paragraphs = "".join(
        "<p>" + html.escape(p).replace("\n", "<br>\n") + "</p>\n" for p in text.split("\n\n")
    )
    return (
        '<html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8">'
        '</head>\n<body style="font-family:Calibri,Arial,sans-serif;font-size:11pt">\n'
        f"{paragraphs}</body></html>\n"
    )


# ----------------------------------------------------------------------------- MIME
def _attachment(a: Attach, seed: str) -> MIMEBase:
    """A file of `a.size` deterministic bytes with the right magic number."""
    magic = {"application/pdf": b"%PDF-1.4\n", "image/jpeg": b"\xff\xd8\xff\xe0\x00\x10JFIF"}
    block = hashlib.sha256(f"{seed}/{a.filename}".encode()).digest()
    head = magic.get(a.content_type, b"")
    data = (head + block * (a.size // len(block) + 1))[: a.size]
    maintype, subtype = a.content_type.split("/", 1)
    part = MIMEBase(maintype, subtype, name=_param(a.filename))
    part.set_payload(data)
    encoders.encode_base64(part)
    part.add_header("Content-Disposition", "attachment", filename=_param(a.filename))
    return part


def _param(value: str) -> str | tuple[str, str, str]:
    """A MIME parameter, RFC 2231-encoded when it is not ASCII."""
    try:
        value.encode("ascii")
        return value
    except UnicodeEncodeError:
        return ("utf-8", "", value)


def _text_part(text: str, subtype: str, charset: str) -> Message:
    part = MIMENonMultipart("text", subtype)
    part.set_payload(text, _charset(text, charset))
    return part


def _body(mail: Mail, text: str) -> Message:
    plain = _text_part(text, "plain", mail.sender.charset)
    if not mail.html:
        return plain
    alt = MIMEMultipart("alternative")
    alt.attach(plain)
    alt.attach(_text_part(_html(text), "html", "utf-8"))
    return alt


def render(mail: Mail, by_id: dict[str, Mail], now: datetime = DEMO_NOW) -> bytes:
    """The RFC 5322 bytes of one demo message."""
    if mail.kind == "bounce":
        msg = _bounce(mail, by_id, now)
    else:
        msg = _body(mail, body_text(mail, by_id, now))
        if mail.attachments:
            mixed = MIMEMultipart("mixed")
            mixed.attach(msg)
            for a in mail.attachments:
                mixed.attach(_attachment(a, mail.id))
            msg = mixed
    _envelope(msg, mail, by_id, now)
    _tidy(msg, mail.id)
    return msg.as_bytes()


def _envelope(msg: Message, mail: Mail, by_id: dict[str, Mail], now: datetime) -> None:
    """The top-level headers, in the order a client writes them."""
    body_headers = [(k, v) for k, v in msg.items()]
    for k in {k for k, _ in body_headers}:
        del msg[k]
    s = mail.sender
    when = sent_at(mail, now)
    if s.email != AMY.email:
        msg["Return-Path"] = "<>" if mail.kind == "bounce" else f"<{s.email}>"
        msg["Received"] = _received(mail, when)
    msg["From"] = _address(s)
    msg["To"] = ", ".join(_address(p, s.charset) for p in mail.to)
    if mail.cc:
        msg["Cc"] = ", ".join(_address(p, s.charset) for p in mail.cc)
    msg["Subject"] = _header_text("Subject", mail.subject, s.charset)
    msg["Date"] = format_datetime(when)
    msg["Message-ID"] = message_id(mail, now)
    chain = _chain(mail, by_id) if mail.kind != "bounce" else []
    if chain:
        msg["In-Reply-To"] = message_id(chain[-1], now)
        msg["References"] = " ".join(message_id(m, now) for m in chain[-8:])
    for name, value in mail.headers:
        msg[name] = value
    if s.mailer:
        msg["X-Mailer" if "Outlook" in s.mailer or "Foxmail" in s.mailer else "User-Agent"] = (
            s.mailer
        )
    for k, v in body_headers:
        msg[k] = v


def _received(mail: Mail, when: datetime) -> str:
    if mail.kind == "bounce":  # made by our own mail server
        arrived = format_datetime(when.astimezone(ZoneInfo(AMY.tz)))
        queue_id = _digest(mail.id)[:10].upper()
        return f"by mail.lumen-furniture.com (Postfix)\n\tid {queue_id}; {arrived}"
    relay = "mail." + mail.sender.email.rpartition("@")[2].lower()
    ip = f"192.0.2.{int(_digest(relay)[:2], 16) % 250 + 1}"
    arrived = format_datetime((when + timedelta(seconds=5)).astimezone(ZoneInfo(AMY.tz)))
    return (
        f"from {relay} ({relay} [{ip}])\n\tby mx.lumen-furniture.com (Postfix) with ESMTPS "
        f"id {_digest(mail.id)[:10].upper()}\n\tfor <{AMY.email}>; {arrived}"
    )


def _tidy(msg: Message, seed: str) -> None:
    """Deterministic MIME boundaries (the stdlib picks random ones), and MIME-Version only at
    the top, as mail clients write it."""
    for n, part in enumerate(msg.walk()):
        if part.get_content_maintype() == "multipart":
            part.set_boundary(f"----=_Part_{n}_{_digest(seed, str(n))[:24]}")
        if part is not msg:
            del part["MIME-Version"]


def _bounce(mail: Mail, by_id: dict[str, Mail], now: datetime) -> Message:
    """A Postfix-style delivery status notification for the message `mail` answers."""
    failed = by_id[mail.reply_to or ""]
    rcpt = failed.to[0].email
    domain = rcpt.rpartition("@")[2]
    report = MIMEMultipart("report", report_type="delivery-status")
    explanation = textwrap.dedent(
        f"""\
        This is the mail system at host mail.lumen-furniture.com.

        I'm sorry to have to inform you that your message could not
        be delivered to one or more recipients. It's attached below.

        For further assistance, please send mail to postmaster.

        If you do so, please include this problem report. You can
        delete your own text from the attached returned message.

                           The mail system

        <{rcpt}>: host mx.{domain}[198.51.100.25] said: 550 5.1.1
            <{rcpt}>: Recipient address rejected: User unknown in virtual mailbox
            table (in reply to RCPT TO command)
        """
    )
    report.attach(MIMEText(explanation, "plain", "us-ascii"))
    per_message = Message()
    per_message["Reporting-MTA"] = "dns; mail.lumen-furniture.com"
    per_message["Arrival-Date"] = format_datetime(sent_at(failed, now))
    per_rcpt = Message()
    per_rcpt["Final-Recipient"] = f"rfc822; {rcpt}"
    per_rcpt["Action"] = "failed"
    per_rcpt["Status"] = "5.1.1"
    per_rcpt["Remote-MTA"] = f"dns; mx.{domain}"
    per_rcpt["Diagnostic-Code"] = "smtp; 550 5.1.1 Recipient address rejected: User unknown"
    status = MIMEBase("message", "delivery-status")
    status.set_payload([per_message, per_rcpt])
    report.attach(status)
    original = render(failed, by_id, now)
    headers = original.split(b"\n\n", 1)[0].decode("ascii", "replace") + "\n"
    report.attach(MIMEText(headers, "rfc822-headers", "us-ascii"))
    return report
