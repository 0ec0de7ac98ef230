"""Generate an export sales rep's mailbox straight into a Maildir (INBOX and .Sent).

Deterministic: the same --seed and --count always give the same messages, byte for byte.
Messages come in real threads (Message-ID, In-Reply-To, References, quoted text); every
thread is built from its own seeded random stream, so both cores can write in parallel.

    python bench/generate.py --count 10000 --maildir /tmp/Maildir --customers /tmp/customers.yaml
    python bench/generate.py --count 10000 --new 100 --offset 1 --maildir /tmp/Maildir
    python bench/generate.py --count 10000 --profile html --maildir /tmp/Maildir

--profile picks the mail mix: "default" (the mix every earlier figure was measured on; the
same seed gives the same bytes as before profiles existed) or "html" (closer to what Outlook
and Foxmail users receive: more HTML-only mail, Outlook/Foxmail HTML with style blocks,
tables and quoted history as HTML, inline cid: images, larger and more attachments).
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import os
import random
import statistics
import sys
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import phrases as ph
from mime import AttachmentPool, Mail, render
from world import ME_ADDR, ME_NAME, MY_DOMAIN, Company, Person, World, build_world
from world import write_customers_yaml as write_customers_yaml

END = datetime(2025, 10, 31, 18, 0, tzinfo=UTC)
SPAN = timedelta(days=3652)
ME = Person(ME_NAME, ME_ADDR, "en", 480)
DAEMON = Person("Mail Delivery System", f"MAILER-DAEMON@mx1.{MY_DOMAIN}", "en", 480)
MAIL_UID = 65534
QUOTE_CAP = 8000
LENGTHS = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10)
LENGTH_WEIGHTS = (16, 20, 18, 14, 10, 8, 5, 4, 3, 2)
PROFILES = ("default", "html")


@dataclass(frozen=True)
class ThreadPlan:
    index: int
    kind: str  # "customer" | "internal" | "newsletter"
    length: int


@dataclass
class ThreadCtx:
    """What stays the same through one thread."""

    contact: Person
    company: Company | None
    language: str
    topic: str
    subject: str
    values: dict[str, str]
    cc_pool: list[Person] = field(default_factory=list)


@dataclass
class GenStats:
    count: int = 0
    inbox: int = 0
    sent: int = 0
    attachments: int = 0
    newsletters: int = 0
    autoreplies: int = 0
    bounces: int = 0
    chinese: int = 0
    total_bytes: int = 0
    sizes: list[int] = field(default_factory=list)

    def add(self, mail: Mail, size: int) -> None:
        self.count += 1
        self.inbox += mail.folder == "INBOX"
        self.sent += mail.folder == "Sent"
        self.attachments += mail.attachment is not None
        self.newsletters += mail.kind == "newsletter"
        self.autoreplies += mail.kind == "autoreply"
        self.bounces += mail.kind == "bounce"
        self.chinese += mail.language == "zh"
        self.total_bytes += size
        self.sizes.append(size)

    def merge(self, other: GenStats) -> None:
        for name in (
            "count",
            "inbox",
            "sent",
            "attachments",
            "newsletters",
            "autoreplies",
            "bounces",
            "chinese",
            "total_bytes",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.sizes.extend(other.sizes)

    def summary(self) -> dict[str, float | int]:
        n = max(self.count, 1)
        return {
            "messages": self.count,
            "inbox": self.inbox,
            "sent": self.sent,
            "inbox_pct": round(100 * self.inbox / n, 1),
            "attachments_pct": round(100 * self.attachments / n, 1),
            "newsletters": self.newsletters,
            "autoreplies": self.autoreplies,
            "bounces": self.bounces,
            "chinese_pct": round(100 * self.chinese / n, 1),
            "median_kb": round(statistics.median(self.sizes) / 1024, 1) if self.sizes else 0,
            "mean_kb": round(self.total_bytes / n / 1024, 1),
            "total_mb": round(self.total_bytes / 2**20, 1),
        }


# ----------------------------------------------------------------------------- plan


def plan_threads(seed: int, count: int) -> Iterator[ThreadPlan]:
    """Threads adding up to exactly `count` messages; a prefix of a larger plan."""
    rng = random.Random(f"plan-{seed}")
    total = index = 0
    while total < count:
        r = rng.random()
        if r < 0.09:
            kind, length = "newsletter", 1
        elif r < 0.15:
            kind, length = "internal", rng.choice((1, 1, 2, 3))
        else:
            kind, length = "customer", rng.choices(LENGTHS, weights=LENGTH_WEIGHTS)[0]
        length = min(length, count - total)
        yield ThreadPlan(index, kind, length)
        total += length
        index += 1


# ------------------------------------------------------------------------- contents


def client_for(person: Person, when: datetime) -> str:
    """The mail client a person writes with (stable per domain)."""
    if person.email == ME_ADDR:
        return "foxmail" if when.year < 2021 else "outlook"
    domain = person.email.rsplit("@", 1)[-1]
    fixed = {"gmail.com": "gmail", "qq.com": "qqmail", "163.com": "foxmail", MY_DOMAIN: "foxmail"}
    if domain in fixed:
        return fixed[domain]
    h = zlib.crc32(domain.encode()) % 100
    if person.language == "zh":
        return "foxmail" if h < 45 else "qqmail" if h < 70 else "outlook"
    for limit, client in ((45, "outlook"), (65, "gmail"), (75, "thunderbird"), (85, "htmlonly")):
        if h < limit:
            return client
    return "plain8bit"


def thread_values(rng: random.Random, company: Company | None, start: datetime) -> dict[str, str]:
    name, name_zh, prefix, low, high = rng.choice(ph.PRODUCTS)
    price = rng.randint(low, high)
    qty = rng.choice((50, 100, 120, 200, 300, 500, 800, 1000, 1500, 2000))
    if prefix in ("CNC", "EB", "HD"):
        qty = rng.choice((1, 2, 3, 5, 10))
    country = company.country if company else rng.choice(list(ph.DEST_PORTS))
    day = start + timedelta(days=rng.randint(10, 60))
    return {
        "product": name,
        "product_zh": name_zh,
        "model": f"LM-{prefix}{rng.randint(1000, 9999)}",
        "qty": str(qty),
        "price": str(price),
        "moq": str(max(1, qty // 2)),
        "po": f"PO{start.year % 100:02d}{rng.randint(100, 999)}",
        "pi": f"LM{start:%y%m}{rng.randint(10, 99)}",
        "amount": f"{price * qty * 0.3:,.0f}",
        "pct": str(rng.choice((5, 10, 15, 30, 60, 80))),
        "days": str(rng.randint(5, 40)),
        "day": f"{day:%B} {day.day}" if rng.random() < 0.7 else f"{day:%Y-%m-%d}",
        "load_port": rng.choice(ph.LOAD_PORTS),
        "dest_port": ph.DEST_PORTS.get(country, "Rotterdam"),
        "vessel": rng.choice(ph.VESSELS),
        "bl": f"COSU{rng.randint(10**9, 10**10 - 1)}",
        "container": rng.choice(("MSKU", "CSNU", "TGHU", "OOLU"))
        + str(rng.randint(10**6, 10**7 - 1)),
        "tracking": str(rng.randint(10**9, 10**10 - 1)),
        "year": str(start.year),
    }


def _sentences(
    rng: random.Random, pool: tuple[str, ...], n: int, values: dict[str, str]
) -> list[str]:
    picked = rng.sample(pool, min(n, len(pool)))
    return [s.format_map(values) for s in picked]


def first_name(person: Person) -> str:
    if person.language == "zh" and not person.name.isascii():
        return person.name[1:] if len(person.name) > 2 else person.name
    return person.name.split()[0]


def compose(
    rng: random.Random,
    ctx: ThreadCtx,
    sender: Person,
    reader: Person,
    first: bool,
    profile: str = "default",
) -> str:
    outbound = sender.email == ME_ADDR
    zh = ctx.language == "zh"
    pools = (ph.ZH_OUT if outbound else ph.ZH_IN) if zh else (ph.EN_OUT if outbound else ph.EN_IN)
    topic_pool = pools.get(ctx.topic, pools["generic"])
    sentences = _sentences(
        rng, topic_pool, rng.randint(2, 5) if first else rng.randint(1, 3), ctx.values
    )
    if not first and rng.random() < 0.5:
        sentences.insert(0, rng.choice(pools["generic"]))
    paragraphs = []
    while sentences:
        take = rng.randint(1, 2)
        paragraphs.append(("" if zh else " ").join(sentences[:take]))
        sentences = sentences[take:]
    greeting = _greeting(rng, reader, zh)
    if (
        profile == "html"
        and ctx.topic in ph.TABLE_TOPICS
        and rng.random() < (0.2 if first else 0.05)
    ):
        paragraphs.append(order_table(rng, ctx, zh))
    return "\n\n".join([greeting, *paragraphs, _signature(rng, sender, ctx, zh)])


def order_table(rng: random.Random, ctx: ThreadCtx, zh: bool) -> str:
    """An order / price table as Outlook and Foxmail put it in the plain part: one row per
    line, cells separated by tabs (the HTML part renders these lines as a <table>)."""
    v = ctx.values
    rows = [ph.TABLE_HEAD_ZH if zh else ph.TABLE_HEAD_EN]
    total_qty = total = 0
    for i in range(1, rng.randint(2, 5) + 1):
        finish = rng.choice(ph.FINISHES_ZH if zh else ph.FINISHES_EN)
        qty = max(1, int(v["qty"]) * rng.choice((1, 1, 2)) // rng.choice((1, 2, 4)))
        price = int(v["price"]) * rng.uniform(0.8, 1.25)
        desc = f"{v['product_zh']}，{finish}" if zh else f"{v['product']}, {finish}"
        model = f"{v['model']}-{i:02d}" if i > 1 else v["model"]
        rows.append((str(i), model, desc, f"{qty:,}", f"{price:,.2f}", f"{qty * price:,.2f}"))
        total_qty += qty
        total += qty * price
    rows.append(("合计" if zh else "Total", "", "", f"{total_qty:,}", "", f"{total:,.2f}"))
    return "\n".join("\t".join(row) for row in rows)


def _greeting(rng: random.Random, reader: Person, zh: bool) -> str:
    if zh:
        if reader.email == ME_ADDR:
            return rng.choice(("陈小姐您好：", "Amy 你好：", "艾米，你好！"))
        return f"{first_name(reader)}，您好！"
    return rng.choice(("Dear {},", "Hi {},", "Hello {},", "Dear {}")).format(first_name(reader))


def _signature(rng: random.Random, sender: Person, ctx: ThreadCtx, zh: bool) -> str:
    if sender.email == ME_ADDR:
        return (ph.MY_SIGNATURE_ZH if zh else ph.MY_SIGNATURE_EN).format(me=ME_NAME)
    company = ctx.company.name if ctx.company and sender.email.endswith(ctx.company.domain) else ""
    if zh:
        sig = f"祝好！\n{sender.name}\n{company}"
    else:
        title = rng.choice(("Purchasing Manager", "Buyer", "Director", "Product Manager"))
        sig = f"{rng.choice(('Best regards,', 'Kind regards,', 'Thanks,', 'BR'))}\n{sender.name}"
        sig += f"\n{title}\n{company}\nTel: +{rng.randint(10, 99)} {rng.randint(10**8, 10**9)}"
    if ctx.company and ctx.company.index % 3 == 0:
        sig += "\n\n" + (ph.DISCLAIMER_ZH if zh else ph.DISCLAIMER_EN)
    return sig


def quote(prev: Mail, client: str, zh: bool) -> str:
    if client in ("foxmail", "qqmail"):
        label = (
            (
                '------------------ 原始邮件 ------------------\n发件人: "{n}"<{e}>;\n'
                "发送时间: {d:%Y年%m月%d日 %H:%M};\n收件人: {t};\n主题: {s}\n\n"
            )
            if zh
            else (
                '------------------ Original ------------------\nFrom:  "{n}"<{e}>;\n'
                "Date:  {d:%a, %b %d, %Y %H:%M};\nTo:  {t};\nSubject:  {s}\n\n"
            )
        )
        body = (
            label.format(
                n=prev.sender.name,
                e=prev.sender.email,
                d=prev.date,
                t=prev.to[0].email if prev.to else "",
                s=prev.subject,
            )
            + prev.text
        )
    elif client == "outlook":
        body = (
            f"________________________________\nFrom: {prev.sender.name} <{prev.sender.email}>"
            f"\nSent: {prev.date:%A, %B %d, %Y %I:%M %p}\nTo: "
            f"{', '.join(p.name for p in prev.to)}\nSubject: {prev.subject}\n\n{prev.text}"
        )
    else:
        lines = "\n".join(
            ">" + (" " if not ln.startswith(">") else "") + ln for ln in prev.text.split("\n")
        )
        body = (
            f"On {prev.date:%a, %d %b %Y at %H:%M}, {prev.sender.name} <{prev.sender.email}>"
            f" wrote:\n{lines}"
        )
    if len(body) > QUOTE_CAP:
        body = body[: body.rfind("\n", 0, QUOTE_CAP)]
    return body


ATTACHMENTS = {
    "rfq": (
        ("Quotation_{model}.xlsx", "x"),
        ("报价单{model}.xlsx", "x"),
        ("Spec_{model}.pdf", "p"),
    ),
    "order": (("PI_{pi}.pdf", "p"), ("{po}.pdf", "p"), ("形式发票{pi}.pdf", "p")),
    "payment": (("TT_copy_{pi}.pdf", "p"), ("水单{pi}.jpg", "j")),
    "production": (("IMG_{tracking}.jpg", "j"), ("生产照片{po}.jpg", "j")),
    "inspection": (("Inspection_report_{po}.pdf", "p"), ("IMG_{tracking}.jpg", "j")),
    "complaint": (("damage_photo_{container}.jpg", "j"), ("IMG_{tracking}.jpg", "j")),
    "shipping": (
        ("BL_draft_{bl}.pdf", "p"),
        ("Packing_list_{po}.xlsx", "x"),
        ("装箱单{po}.xlsx", "x"),
    ),
    "catalogue": (("Lumen_Catalogue_{year}.pdf", "p"), ("新品目录{year}.pdf", "p")),
}
CTYPES = {
    "p": "application/pdf",
    "j": "image/jpeg",
    "x": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


# the "html" profile: 16% of messages with an attachment, PDF / XLSX of 200 KB - 2 MB (raw),
# log-uniform skewed towards the small end (median ~360 KB, mean ~560 KB)
HTML_ATTACH_SHARE = 0.17  # of the messages that can carry one: ~16% of all
HTML_ATTACH_MIN, HTML_ATTACH_MAX = 200_000, 2_000_000


def pick_attachment(
    rng: random.Random, ctx: ThreadCtx, profile: str = "default"
) -> tuple[str, str, int] | None:
    if profile == "html":
        return _pick_large_attachment(rng, ctx)
    if rng.random() >= 0.10:
        return None
    options = ATTACHMENTS.get(ctx.topic, (("Specification_{model}.pdf", "p"),))
    if ctx.language != "zh":
        options = tuple(o for o in options if o[0].isascii()) or options
    name, kind = rng.choice(options)
    size = int(math.exp(rng.uniform(math.log(50_000), math.log(500_000))))
    return name.format_map(ctx.values), CTYPES[kind], size


def _pick_large_attachment(rng: random.Random, ctx: ThreadCtx) -> tuple[str, str, int] | None:
    if rng.random() >= HTML_ATTACH_SHARE:
        return None
    options = ATTACHMENTS.get(ctx.topic, (("Specification_{model}.pdf", "p"),))
    options = tuple(o for o in options if o[1] in "px") or (("Photos_{po}.pdf", "p"),)
    if ctx.language != "zh":
        options = tuple(o for o in options if o[0].isascii()) or options
    name, kind = rng.choice(options)
    low, high = math.log(HTML_ATTACH_MIN), math.log(HTML_ATTACH_MAX)
    size = int(math.exp(low + (high - low) * rng.random() ** 2))
    return name.format_map(ctx.values), CTYPES[kind], size


# -------------------------------------------------------------------------- threads


def message_id(rng: random.Random, client: str, sender: Person, when: datetime) -> str:
    token = rng.randbytes(10).hex()
    domain = sender.email.rsplit("@", 1)[-1]
    if client == "outlook":
        return (
            f"{token.upper()}@AM{rng.randint(0, 9)}PR0{rng.randint(1, 9)}MB"
            f"{rng.randint(1000, 9999)}.eurprd0{rng.randint(1, 9)}.prod.outlook.com"
        )
    if client == "gmail":
        return f"CA+{token}{rng.randbytes(8).hex()}@mail.gmail.com"
    if client == "foxmail":
        return f"{when:%Y%m%d%H%M%S}{rng.randint(10**7, 10**8)}{token[:4]}@{domain}"
    if client == "qqmail":
        return f"tencent_{token.upper()}@qq.com"
    return f"{token[:8]}-{token[8:12]}-{token[12:]}@{domain}"


def _local(when: datetime, person: Person) -> datetime:
    return when.astimezone(timezone(timedelta(minutes=person.tz_minutes)))


def new_mail(
    rng: random.Random,
    ctx: ThreadCtx,
    sender: Person,
    when: datetime,
    prev: Mail | None,
    profile: str = "default",
) -> Mail:
    reader = ctx.contact if sender.email == ME_ADDR else ME
    client = client_for(sender, when)
    local = _local(when, sender)
    subject = ctx.subject if prev is None else _reply_subject(rng, prev.subject, client, ctx)
    cc = [p for p in ctx.cc_pool if rng.random() < 0.3]
    mail = Mail(
        folder="Sent" if sender.email == ME_ADDR else "INBOX",
        kind="normal",
        date=local,
        sender=sender,
        to=[reader],
        cc=cc,
        subject=subject,
        message_id=message_id(rng, client, sender, local),
        language=ctx.language,
        client=client,
        new_text=compose(rng, ctx, sender, reader, prev is None, profile),
        attachment=pick_attachment(rng, ctx, profile),
    )
    if prev is not None:
        mail.in_reply_to = prev.message_id
        mail.references = [*prev.references[-11:], prev.message_id]
        if rng.random() < 0.9:
            mail.quoted = quote(prev, client, ctx.language == "zh")
    return mail


def _reply_subject(rng: random.Random, subject: str, client: str, ctx: ThreadCtx) -> str:
    if ctx.language == "zh" and client in ("foxmail", "qqmail"):
        prefix = rng.choice(("回复：", "回复: ", "答复: "))
    else:
        prefix = "RE: " if client == "outlook" else "Re: "
    if subject.lower().startswith(("re:", "回复", "答复")) and rng.random() < 0.8:
        return subject
    return prefix + subject


def auto_reply(rng: random.Random, ctx: ThreadCtx, to_mail: Mail) -> Mail:
    contact = ctx.contact
    when = to_mail.date + timedelta(seconds=rng.randint(5, 90))
    zh = ctx.language == "zh"
    text = (
        "您好，我目前休假中，{}之后回复您的邮件。紧急事务请联系同事。"
        if zh
        else "Thank you for your email. I am out of the office until {} with limited access to "
        "email. For urgent matters please contact my colleague."
    ).format(f"{when + timedelta(days=7):%Y-%m-%d}")
    client = client_for(contact, when)
    prefix = "自动回复: " if zh else rng.choice(("Automatic reply: ", "Out of Office: "))
    return Mail(
        folder="INBOX",
        kind="autoreply",
        date=_local(when, contact),
        sender=contact,
        to=[ME],
        subject=prefix + to_mail.subject,
        message_id=message_id(rng, client, contact, when),
        language=ctx.language,
        client=client,
        new_text=text,
        in_reply_to=to_mail.message_id,
        references=[to_mail.message_id],
        flags="S",
    )


def bounce(rng: random.Random, to_mail: Mail) -> Mail:
    when = to_mail.date + timedelta(seconds=rng.randint(2, 30))
    original = (
        f"From: {ME_NAME} <{ME_ADDR}>\nTo: {to_mail.to[0].email}\n"
        f"Subject: {to_mail.subject}\nDate: {to_mail.date:%a, %d %b %Y %H:%M:%S %z}\n"
        f"Message-ID: <{to_mail.message_id}>\n"
    )
    return Mail(
        folder="INBOX",
        kind="bounce",
        date=_local(when, DAEMON),
        sender=DAEMON,
        to=[ME],
        subject="Undelivered Mail Returned to Sender",
        message_id=f"{rng.randbytes(8).hex()}@mx1.{MY_DOMAIN}",
        language="en",
        client="postfix",
        new_text="",
        original_headers=original,
        flags="S",
    )


def _customer_ctx(world: World, rng: random.Random, start: datetime) -> ThreadCtx:
    if rng.random() < 0.08:
        contact, owner = rng.choice(world.freemail)
        company = world.companies[owner] if owner is not None else None
    else:
        company = rng.choices(world.companies, cum_weights=_cum_weights(world))[0]
        contact = rng.choice(company.contacts)
    language = contact.language
    if company is not None and company.language == "zh" and rng.random() < 0.3:
        language = "en"
    topic = rng.choices(list(ph.TOPICS), weights=list(ph.TOPICS.values()))[0]
    values = thread_values(rng, company, start)
    subjects = (ph.SUBJECTS_ZH if language == "zh" else ph.SUBJECTS_EN)[topic]
    cc_pool = [p for p in (company.contacts if company else []) if p != contact][:2]
    if rng.random() < 0.3:
        cc_pool.append(rng.choice(world.colleagues))
    return ThreadCtx(
        contact, company, language, topic, rng.choice(subjects).format_map(values), values, cc_pool
    )


_CUM: dict[int, list[float]] = {}


def _cum_weights(world: World) -> list[float]:
    key = id(world)
    if key not in _CUM:
        total, cum = 0.0, []
        for w in world.company_weights():
            total += w
            cum.append(total)
        _CUM[key] = cum
    return _CUM[key]


def thread_start(rng: random.Random) -> datetime:
    """Mail volume grows over the ten years: later dates are more likely."""
    when = END - SPAN + SPAN * rng.random() ** (1 / 1.5)
    return when.replace(
        hour=rng.randint(0, 23), minute=rng.randint(0, 59), second=rng.randint(0, 59)
    )


def _gap(rng: random.Random) -> timedelta:
    return timedelta(minutes=20 + rng.expovariate(1 / (36 * 60)))


def build_thread(
    world: World,
    seed: int,
    plan: ThreadPlan,
    start: datetime | None = None,
    profile: str = "default",
) -> tuple[ThreadCtx | None, list[Mail]]:
    rng = random.Random(f"thread-{seed}-{plan.index}")
    when = start or thread_start(rng)
    if plan.kind == "newsletter":
        return None, [newsletter(rng, world, when)]
    if plan.kind == "internal":
        return internal_thread(rng, world, plan, when, profile)
    ctx = _customer_ctx(world, rng, when)
    outbound = ctx.topic in ph.OUTBOUND_FIRST or rng.random() < 0.2
    mails: list[Mail] = []
    prev: Mail | None = None
    while len(mails) < plan.length:
        sender = ME if outbound else ctx.contact
        mail = new_mail(rng, ctx, sender, when, prev, profile)
        mails.append(mail)
        if outbound and len(mails) < plan.length and rng.random() < 0.035:
            extra = bounce(rng, mail) if rng.random() < 0.2 else auto_reply(rng, ctx, mail)
            mails.append(extra)
        if mail.folder == "INBOX" and rng.random() < 0.05:
            mail.flags = ""  # unread
        prev = mail
        when = when + _gap(rng)
        outbound = rng.random() < 0.66 if not outbound else rng.random() < 0.1
        if outbound and prev.folder == "INBOX" and prev.flags:
            prev.flags = "RS"
    return ctx, mails[: plan.length]


def internal_thread(
    rng: random.Random, world: World, plan: ThreadPlan, when: datetime, profile: str = "default"
) -> tuple[ThreadCtx, list[Mail]]:
    colleague = rng.choice(world.colleagues)
    values = thread_values(rng, None, when)
    zh = colleague.language == "zh"
    subject = f"订单{values['po']}" if zh else f"PO {values['po']} - {values['product']}"
    ctx = ThreadCtx(colleague, None, colleague.language, "internal", subject, values)
    mails: list[Mail] = []
    prev: Mail | None = None
    sender = rng.choice((ME, colleague))
    for _ in range(plan.length):
        reader = colleague if sender is ME else ME
        client = client_for(sender, when)
        pool = ph.INTERNAL_ZH if zh else ph.INTERNAL_EN
        body = "\n\n".join(
            [
                _greeting(rng, reader, zh),
                *_sentences(rng, pool, 2, values),
                ME_NAME if sender is ME else sender.name,
            ]
        )
        mail = Mail(
            folder="Sent" if sender is ME else "INBOX",
            kind="internal",
            date=_local(when, sender),
            sender=sender,
            to=[reader],
            subject=subject if prev is None else "Re: " + subject,
            message_id=message_id(rng, client, sender, when),
            language=ctx.language,
            client=client,
            new_text=body,
            attachment=pick_attachment(rng, ctx, profile),
        )
        if prev is not None:
            mail.in_reply_to, mail.references = prev.message_id, [*prev.references, prev.message_id]
            mail.quoted = quote(prev, client, zh)
        mails.append(mail)
        prev, sender, when = mail, reader, when + _gap(rng)
    return ctx, mails


NEWS_TOPICS = (
    "Asia-Europe spot rates rise for the third week",
    "Canton Fair phase 2 opens with record visitors",
    "Oak prices ease as European supply recovers",
    "New EU deforestation rules: what furniture importers must know",
    "Container shipping: blank sailings ahead of Golden Week",
    "Top 10 furniture design trends this season",
    "RMB exchange rate weekly review",
    "How to pass the BIFMA test first time",
    "Anti-dumping duties on upholstered furniture",
)


def newsletter(rng: random.Random, world: World, when: datetime) -> Mail:
    name, addr, list_id = rng.choice(world.newsletters)
    sender = Person(name, addr, "zh" if not name.isascii() else "en", 0)
    articles = rng.sample(NEWS_TOPICS, rng.randint(4, 8))
    paragraphs = []
    for title in articles:
        slug = title.lower().replace(" ", "-")[:40]
        paragraphs.append(
            f"{title}\n{rng.choice(ph.EN_OUT['catalogue'])} "
            f"{rng.choice(ph.EN_IN['question'])} {ph.DISCLAIMER_EN[:240]}\n"
            f"Read more: https://{list_id}/a/{slug}?utm_source=newsletter"
            f"&utm_medium=email&uid={rng.randbytes(6).hex()}"
        )
    paragraphs.append(
        f"You receive this because you subscribed as {ME_ADDR}. Unsubscribe: "
        f"https://{list_id}/unsubscribe"
    )
    return Mail(
        folder="INBOX",
        kind="newsletter",
        date=when,
        sender=sender,
        to=[ME],
        subject=f"{articles[0]} | {name}",
        message_id=f"{rng.randbytes(12).hex()}@{list_id}",
        language=sender.language,
        client="newsletter",
        new_text="\n\n".join(paragraphs),
        list_id=list_id,
        flags="S" if rng.random() < 0.6 else "",
    )


# -------------------------------------------------------------------------- writing


_POOLS: dict[tuple[int, str], AttachmentPool] = {}
_WORLD: World | None = None


def _pool(seed: int, profile: str = "default") -> AttachmentPool:
    """The default profile's pool is 1 MB (its attachments are at most 500 KB); the html
    profile's is large enough for 2 MB attachments."""
    key = (seed, profile)
    if key not in _POOLS:
        _POOLS[key] = (
            AttachmentPool(seed) if profile == "default" else AttachmentPool(seed, 9 << 18)
        )
    return _POOLS[key]


def folder_path(maildir: Path, folder: str) -> Path:
    return maildir if folder == "INBOX" else maildir / f".{folder}"


def write_mail(maildir: Path, mail: Mail, data: bytes, tag: str, chown: bool) -> None:
    ts = int(mail.date.timestamp())
    flags = "".join(sorted(mail.flags))
    path = folder_path(maildir, mail.folder) / "cur" / f"{ts}.M{tag}.bench,S={len(data)}:2,{flags}"
    with open(path, "wb") as fh:
        fh.write(data)
    os.utime(path, (ts, ts))
    if chown:
        os.chown(path, MAIL_UID, MAIL_GID)


MAIL_GID = 65534


def _write_plans(args: tuple[int, list[ThreadPlan], str, bool, str]) -> GenStats:
    seed, plans, maildir, chown, profile = args
    if _WORLD is None:
        raise RuntimeError("generate() sets the world before the workers fork")
    stats = GenStats()
    root = Path(maildir)
    for plan in plans:
        _, mails = build_thread(_WORLD, seed, plan, profile=profile)
        rng = random.Random(f"render-{seed}-{plan.index}")
        for k, mail in enumerate(mails):
            data = render(mail, rng, _pool(seed, profile), profile)
            write_mail(root, mail, data, f"{seed}_0_{plan.index}_{k}", chown)
            stats.add(mail, len(data))
    return stats


def ensure_maildir(maildir: Path, chown: bool) -> None:
    for folder in ("INBOX", "Sent"):
        for sub in ("cur", "new", "tmp"):
            d = folder_path(maildir, folder) / sub
            d.mkdir(parents=True, exist_ok=True)
            if chown:
                os.chown(d, MAIL_UID, MAIL_GID)
                os.chown(d.parent, MAIL_UID, MAIL_GID)


def generate(
    world: World,
    seed: int,
    count: int,
    maildir: Path,
    workers: int = 0,
    chown: bool | None = None,
    profile: str = "default",
) -> GenStats:
    """Write `count` messages into maildir (INBOX = maildir itself, Sent = maildir/.Sent)."""
    global _WORLD
    chown = os.geteuid() == 0 if chown is None else chown
    ensure_maildir(maildir, chown)
    _WORLD = world
    plans = list(plan_threads(seed, count))
    workers = workers or min(os.cpu_count() or 1, 4)
    chunks = [plans[i :: workers * 8] for i in range(workers * 8)]
    jobs = [(seed, chunk, str(maildir), chown, profile) for chunk in chunks if chunk]
    stats = GenStats()
    if workers == 1:
        for job in jobs:
            stats.merge(_write_plans(job))
        return stats
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        for part in pool.imap_unordered(_write_plans, jobs):
            stats.merge(part)
    return stats


def generate_new(
    world: World,
    seed: int,
    base_count: int,
    n: int,
    offset: int,
    maildir: Path,
    chown: bool | None = None,
    profile: str = "default",
) -> GenStats:
    """N more messages in the same world, after the mailbox's last date: half of them
    continue existing threads, the rest start new ones. Different offsets never collide."""
    chown = os.geteuid() == 0 if chown is None else chown
    ensure_maildir(maildir, chown)
    rng = random.Random(f"new-{seed}-{offset}")
    customer = [p for p in plan_threads(seed, base_count) if p.kind == "customer"]
    stats = GenStats()
    start = END + timedelta(days=offset)
    for j in range(n):
        when = start + timedelta(minutes=7 * j)
        mail = _new_one(world, seed, rng, customer, when, offset * 100_000 + j, profile)
        data = render(mail, rng, _pool(seed, profile), profile)
        write_mail(maildir, mail, data, f"{seed}_{offset}_new_{j}", chown)
        stats.add(mail, len(data))
    return stats


def _new_one(
    world: World,
    seed: int,
    rng: random.Random,
    customer: list[ThreadPlan],
    when: datetime,
    unique: int,
    profile: str = "default",
) -> Mail:
    if customer and rng.random() < 0.5:
        ctx, mails = build_thread(world, seed, rng.choice(customer), profile=profile)
        prev = next((m for m in reversed(mails) if m.kind == "normal"), None)
        if ctx is not None and prev is not None:
            sender = ctx.contact if rng.random() < 0.7 else ME
            return new_mail(rng, ctx, sender, when, prev, profile)
    _, mails = build_thread(
        world, seed, ThreadPlan(10**8 + unique, "customer", 1), start=when, profile=profile
    )
    return mails[0]


# ------------------------------------------------------------------------------ CLI


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--count", type=int, default=10_000, help="messages in the mailbox")
    ap.add_argument("--seed", type=int, default=1, help="world and mailbox seed")
    ap.add_argument("--companies", type=int, default=300, help="customer companies in the world")
    ap.add_argument(
        "--maildir", type=Path, required=True, help="Maildir root (INBOX); Sent is .Sent"
    )
    ap.add_argument("--customers", type=Path, help="also write customers.yaml here")
    ap.add_argument("--variant", type=int, default=0, help="customers.yaml variant (1 = edited)")
    ap.add_argument(
        "--new",
        type=int,
        default=0,
        help="write this many NEW messages instead, continuing a mailbox of --count messages",
    )
    ap.add_argument("--offset", type=int, default=1, help="seed offset of a --new batch")
    ap.add_argument("--workers", type=int, default=0, help="processes (default: cores)")
    ap.add_argument(
        "--profile",
        choices=PROFILES,
        default="default",
        help="mail mix: default (unchanged) or html (Outlook/Foxmail-style HTML-heavy)",
    )
    args = ap.parse_args(argv)
    world = build_world(args.seed, args.companies)
    t0 = time.perf_counter()
    if args.new:
        stats = generate_new(
            world, args.seed, args.count, args.new, args.offset, args.maildir, profile=args.profile
        )
    else:
        stats = generate(
            world, args.seed, args.count, args.maildir, args.workers, profile=args.profile
        )
    summary = {**stats.summary(), "seconds": round(time.perf_counter() - t0, 2)}
    if args.customers:
        write_customers_yaml(world, args.customers, args.variant)
    json.dump(summary, sys.stdout, indent=1)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
