"""Render a generated mail to RFC 5322 bytes, the way the sender's mail client would.

Written by hand rather than with `email.message` because the generator must write
100,000 messages in well under two minutes. Lines end in LF, as in a Maildir.
"""

from __future__ import annotations

import base64
import binascii
import html
import random
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import format_datetime
from urllib.parse import quote

from world import MY_DOMAIN, Person

B64_LINE = 57  # raw bytes per 76-character base64 line


@dataclass
class Mail:
    folder: str  # "INBOX" or "Sent"
    kind: str  # "normal" | "newsletter" | "autoreply" | "bounce" | "internal"
    date: datetime  # aware, in the sender's zone
    sender: Person
    to: list[Person]
    subject: str
    message_id: str
    language: str
    client: str  # which mail client wrote it: decides MIME shape, charset and encodings
    new_text: str  # what the sender wrote (greeting, body, signature)
    quoted: str = ""  # the quoted previous message, already formatted
    cc: list[Person] = field(default_factory=list)
    in_reply_to: str | None = None
    references: list[str] = field(default_factory=list)
    attachment: tuple[str, str, int] | None = None  # (filename, content type, raw size)
    flags: str = "S"
    list_id: str | None = None
    original_headers: str = ""  # for bounces

    @property
    def text(self) -> str:
        return self.new_text + ("\n\n" + self.quoted if self.quoted else "")


class AttachmentPool:
    """Random bytes pre-encoded as base64 lines; attachments are slices of it (fast)."""

    def __init__(self, seed: int, size: int = 1 << 20) -> None:
        raw = random.Random(f"pool-{seed}").randbytes(size - size % B64_LINE)
        encoded = base64.b64encode(raw)
        self.lines = b"".join(encoded[i : i + 76] + b"\n" for i in range(0, len(encoded), 76))
        self.n_lines = len(raw) // B64_LINE

    def encode(self, rng: random.Random, size: int, magic: bytes) -> bytes:
        head = magic + rng.randbytes(B64_LINE - len(magic))
        n = min(max(0, -(-size // B64_LINE) - 1), self.n_lines)
        start = rng.randrange(self.n_lines - n + 1)
        return base64.b64encode(head) + b"\n" + self.lines[start * 77 : (start + n) * 77]


MAGIC = {
    "application/pdf": b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n",
    "image/jpeg": b"\xff\xd8\xff\xe0\x00\x10JFIF\x00",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": b"PK\x03\x04\x14\x00",
}


# ------------------------------------------------------------------ header encoding


def _codec(charset: str) -> str:
    """gb2312-labelled mail is really GBK (and may hold GBK-only characters)."""
    return "gbk" if charset.lower() == "gb2312" else charset


def encode_word(text: str, charset: str = "utf-8", enc: str = "B") -> str:
    """RFC 2047 encoded words, each at most ~75 characters, joined by folding whitespace."""
    if text.isascii():
        return text
    if not _encodable(text, charset):
        charset = "utf-8"
    words: list[str] = []
    chunk = ""
    limit = 42 if enc == "B" else 20
    for ch in text:
        if len((chunk + ch).encode(_codec(charset))) > limit:
            words.append(_one_word(chunk, charset, enc))
            chunk = ""
        chunk += ch
    if chunk:
        words.append(_one_word(chunk, charset, enc))
    return "\n ".join(words)


def _one_word(text: str, charset: str, enc: str) -> str:
    data = text.encode(_codec(charset))
    if enc == "B":
        return f"=?{charset}?B?{base64.b64encode(data).decode()}?="
    q = "".join(
        chr(b)
        if (48 <= b <= 57 or 65 <= b <= 90 or 97 <= b <= 122)
        else ("_" if b == 32 else f"={b:02X}")
        for b in data
    )
    return f"=?{charset}?Q?{q}?="


def address(p: Person, charset: str) -> str:
    if p.name.isascii():
        name = p.name if p.name.replace(" ", "").isalnum() else f'"{p.name}"'
        return f"{name} <{p.email}>"
    enc = "B" if p.language == "zh" or charset != "utf-8" else "Q"
    return f"{encode_word(p.name, charset, enc)} <{p.email}>"


def address_list(people: list[Person], charset: str) -> str:
    return ",\n ".join(address(p, charset) for p in people)


# --------------------------------------------------------------------- body encoding


def encode_body(text: str, charset: str, cte: str) -> tuple[str, bytes]:
    data = text.encode(_codec(charset), errors="replace")
    if cte in ("7bit", "8bit"):
        return ("7bit" if data.isascii() else "8bit"), data
    if cte == "quoted-printable":
        return cte, binascii.b2a_qp(data)
    encoded = base64.b64encode(data)
    return "base64", b"\n".join(encoded[i : i + 76] for i in range(0, len(encoded), 76))


HTML_HEAD = {
    "outlook": (
        '<html xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:'
        'office" xmlns:w="urn:schemas-microsoft-com:office:word" xmlns:m="http://schemas.microsoft'
        '.com/office/2004/12/omml" xmlns="http://www.w3.org/TR/REC-html40">\n<head>\n<meta http-'
        'equiv="Content-Type" content="text/html; charset={cs}">\n<meta name="Generator" content='
        '"Microsoft Word 15 (filtered medium)">\n<style><!--\n/* Font Definitions */\n@font-face\n'
        '\t{{font-family:"Cambria Math";\n\tpanose-1:2 4 5 3 5 4 6 3 2 4;}}\n@font-face\n\t{{font-'
        "family:DengXian;\n\tpanose-1:2 1 6 0 3 1 1 1 1 1;}}\n@font-face\n\t{{font-family:Calibri;"
        "\n\tpanose-1:2 15 5 2 2 2 4 3 2 4;}}\n/* Style Definitions */\np.MsoNormal, li.MsoNormal,"
        " div.MsoNormal\n\t{{margin:0cm;\n\tfont-size:11.0pt;\n\t"
        'font-family:"Calibri",sans-serif;}}'
        "\na:link, span.MsoHyperlink\n\t{{mso-style-priority:99;\n\tcolor:#0563C1;\n\ttext-"
        "decoration:underline;}}\nspan.EmailStyle17\n\t{{mso-style-type:personal-compose;\n\tfont-"
        'family:"Calibri",sans-serif;\n\tcolor:windowtext;}}\n.MsoChpDefault\n\t{{mso-style-type:'
        'export-only;\n\tfont-family:"Calibri",sans-serif;}}\n@page WordSection1\n\t{{size:612.0pt '
        "792.0pt;\n\tmargin:72.0pt 72.0pt 72.0pt 72.0pt;}}\ndiv.WordSection1\n\t"
        "{{page:WordSection1;"
        '}}\n--></style>\n</head>\n<body lang="EN-US" link="#0563C1" vlink="#954F72" style="word-'
        'wrap:break-word">\n<div class="WordSection1">\n'
    ),
    "gmail": '<div dir="ltr">\n',
    "foxmail": (
        '<html><head><meta http-equiv="content-type" content="text/html; charset={cs}"><style>'
        "body {{ line-height: 1.5; }}blockquote {{ margin-top: 0px; margin-bottom: 0px; margin-"
        'left: 0.5em; }}body {{ font-size: 14px; font-family: "Microsoft YaHei UI"; color: rgb(0, '
        "0, 0); line-height: 1.5; }}</style></head><body>\n<div><span></span></div>\n"
    ),
}
HTML_HEAD["newsletter"] = (
    '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" "http://www.w3.org/TR/xhtml1/'
    'DTD/xhtml1-transitional.dtd">\n<html xmlns="http://www.w3.org/1999/xhtml"><head><meta http-'
    'equiv="Content-Type" content="text/html; charset={cs}"><meta name="viewport" content="width='
    'device-width, initial-scale=1.0"><style type="text/css">body{{margin:0;padding:0}}table,td{{'
    "border-collapse:collapse;mso-table-lspace:0pt;mso-table-rspace:0pt}}img{{border:0;height:auto;"
    "line-height:100%;outline:none;text-decoration:none}}@media only screen and (max-width:480px)"
    '{{.mj-column-per-100{{width:100%!important;max-width:100%}}}}</style></head>\n<body style="'
    'background-color:#f4f4f4"><table align="center" border="0" cellpadding="0" cellspacing="0" '
    'role="presentation" style="width:600px;background:#ffffff"><tbody>\n'
)
HTML_PARA = {
    "newsletter": '<tr><td align="left" style="font-size:0px;padding:10px 25px;word-break:break-'
    'word"><div style="font-family:Helvetica,Arial,sans-serif;font-size:15px;line-'
    'height:22px;text-align:left;color:#333333">{}</div></td></tr>\n',
    "outlook": '<p class="MsoNormal"><span lang="EN-US" style="font-size:11.0pt;font-family:'
    '&quot;Calibri&quot;,sans-serif;color:#1F497D">{}<o:p></o:p></span></p>\n',
    "gmail": '<div style="font-family:arial,sans-serif;font-size:small">{}</div>\n',
    "foxmail": '<div style="font-family: &quot;Microsoft YaHei UI&quot;; font-size: 14px; '
    'line-height: 1.5;"><span style="background-color: transparent;">{}</span></div>\n',
}
HTML_TAIL = {
    "newsletter": "</tbody></table></body></html>\n",
    "outlook": "</div>\n</body>\n</html>\n",
    "gmail": "</div>\n",
    "foxmail": "</body></html>\n",
}


def to_html(mail: Mail, charset: str) -> str:
    style = mail.client if mail.client in HTML_HEAD else "foxmail"
    para = HTML_PARA[style]
    parts = [HTML_HEAD[style].format(cs=charset)]
    for line in mail.new_text.split("\n"):
        parts.append(para.format(html.escape(line) if line else "&nbsp;"))
    if mail.quoted:
        parts.append(
            '<blockquote style="margin:0 0 0 .8ex;border-left:1px #ccc solid;padding-left:1ex">\n'
        )
        for line in mail.quoted.split("\n"):
            parts.append(
                para.format(html.escape(line.lstrip("> ")) if line.strip("> ") else "&nbsp;")
            )
        parts.append("</blockquote>\n")
    parts.append(HTML_TAIL[style])
    return "".join(parts)


# ----------------------------------------------------------------------- the message


@dataclass(frozen=True)
class Shape:
    structure: str  # "plain" | "alternative" | "html"
    charset: str
    cte: str


def choose_shape(mail: Mail, rng: random.Random) -> Shape:
    zh = mail.language == "zh" or not mail.text.isascii() and _needs_cjk(mail.text)
    latin = not mail.text.isascii()
    client = mail.client
    if client in ("foxmail", "qqmail"):
        charset = "gb18030" if client == "qqmail" else rng.choice(("gb2312", "gb2312", "gbk"))
        if not _encodable(mail.text, charset):
            charset = "utf-8"
        return Shape("alternative" if rng.random() < 0.85 else "html", charset, "base64")
    if client == "outlook":
        charset = ("gb2312" if zh and rng.random() < 0.5 else "utf-8") if latin else "us-ascii"
        if charset == "gb2312" and not _encodable(mail.text, charset):
            charset = "utf-8"
        cte = "base64" if zh and rng.random() < 0.6 else "quoted-printable"
        return Shape("alternative", charset, cte)
    if client == "gmail":
        cte = ("base64" if zh else "quoted-printable") if latin else "7bit"
        return Shape("alternative", "UTF-8", cte)
    if client == "newsletter":
        return Shape("alternative" if rng.random() < 0.7 else "html", "utf-8", "quoted-printable")
    if client == "htmlonly":
        return Shape("html", "utf-8", rng.choice(("quoted-printable", "base64", "8bit")))
    if client == "plain8bit":
        charset = "gbk" if zh and _encodable(mail.text, "gbk") else "utf-8"
        return Shape("plain", charset, "8bit")
    return Shape("plain", "UTF-8", "8bit")  # thunderbird


def _needs_cjk(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def _encodable(text: str, charset: str) -> bool:
    try:
        text.encode(_codec(charset))
    except UnicodeEncodeError:
        return False
    return True


def _boundary(rng: random.Random, client: str) -> str:
    token = rng.randbytes(12).hex()
    if client == "outlook":
        return f"_000_{token.upper()}_"
    if client in ("foxmail", "qqmail"):
        return f"----=_NextPart_{token[:6]}_{token[6:14]}_{token[14:]}"
    return f"000000000000{token[:12]}"


def _leaf(content_type: str, charset: str, cte: str, body: str, extra: str = "") -> bytes:
    cte_used, data = encode_body(body, charset, cte)
    head = (
        f'Content-Type: {content_type}; charset="{charset}"{extra}\n'
        f"Content-Transfer-Encoding: {cte_used}\n\n"
    )
    return head.encode() + data + b"\n"


def _multipart(subtype: str, boundary: str, parts: list[bytes], params: str = "") -> bytes:
    out = [f'Content-Type: multipart/{subtype};{params}\n\tboundary="{boundary}"\n\n'.encode()]
    if subtype != "alternative":
        out.append(b"This is a multi-part message in MIME format.\n\n")
    for part in parts:
        out.append(f"--{boundary}\n".encode())
        out.append(part)
        out.append(b"\n")
    out.append(f"--{boundary}--\n".encode())
    return b"".join(out)


def _text_body(mail: Mail, shape: Shape, rng: random.Random) -> bytes:
    plain = mail.text
    if shape.structure == "plain":
        flowed = "; format=flowed" if mail.client == "thunderbird" else ""
        return _leaf("text/plain", shape.charset, shape.cte, plain, flowed)
    html_text = to_html(mail, shape.charset)
    html_leaf = _leaf("text/html", shape.charset, shape.cte, html_text)
    if shape.structure == "html":
        return html_leaf
    plain_leaf = _leaf("text/plain", shape.charset, shape.cte, plain)
    return _multipart("alternative", _boundary(rng, mail.client), [plain_leaf, html_leaf])


def _attachment(
    attachment: tuple[str, str, int], client: str, rng: random.Random, pool: AttachmentPool
) -> bytes:
    filename, ctype, size = attachment
    if filename.isascii():
        params = f'; name="{filename}"'
        disp = f'attachment;\n\tfilename="{filename}"'
    elif client in ("foxmail", "qqmail", "outlook"):
        word = encode_word(filename, "gb2312" if client != "outlook" else "utf-8")
        params = f';\n\tname="{word}"'
        disp = f'attachment;\n\tfilename="{word}"'
    else:
        params = f';\n\tname="{encode_word(filename)}"'
        disp = f"attachment;\n\tfilename*=UTF-8''{quote(filename)}"
    head = (
        f"Content-Type: {ctype}{params}\nContent-Transfer-Encoding: base64\n"
        f"Content-Disposition: {disp}\n\n"
    )
    return head.encode() + pool.encode(rng, size, MAGIC[ctype])


def render(mail: Mail, rng: random.Random, pool: AttachmentPool) -> bytes:
    if mail.kind == "bounce":
        shape = Shape("report", "us-ascii", "7bit")
        body = _bounce_body(mail, rng)
    else:
        shape = choose_shape(mail, rng)
        body = _text_body(mail, shape, rng)
        if mail.attachment is not None:
            body = _multipart(
                "mixed",
                _boundary(rng, mail.client),
                [body, _attachment(mail.attachment, mail.client, rng, pool)],
            )
    return headers(mail, shape, rng).encode() + body


def _bounce_body(mail: Mail, rng: random.Random) -> bytes:
    failed = mail.original_headers.split("To: ", 1)[-1].split("\n", 1)[0]
    explain = (
        "This is the mail system at host mx1.lumen-furniture.com.\n\nI'm sorry to have to "
        "inform you that your message could not\nbe delivered to one or more recipients. "
        "It's attached below.\n\nFor further assistance, please send mail to postmaster.\n\n"
        "If you do so, please include this problem report. You can\ndelete your own text "
        "from the attached returned message.\n\n                   The mail system\n\n"
        f"<{failed}>: host mx.{failed.split('@')[-1]} said: 550 5.1.1\n"
        "    User unknown (in reply to RCPT TO command)\n"
    )
    status = (
        f"Reporting-MTA: dns; mx1.{MY_DOMAIN}\nArrival-Date: {format_datetime(mail.date)}"
        f"\n\nFinal-Recipient: rfc822; {failed}\nAction: failed\nStatus: 5.1.1\n"
        "Diagnostic-Code: smtp; 550 5.1.1 User unknown\n"
    )
    parts = [
        b"Content-Description: Notification\nContent-Type: text/plain; charset=us-ascii\n\n"
        + explain.encode(),
        b"Content-Description: Delivery report\nContent-Type: message/delivery-status\n\n"
        + status.encode(),
        b"Content-Description: Undelivered Message Headers\nContent-Type: text/rfc822-headers\n\n"
        + mail.original_headers.encode("utf-8", "replace"),
    ]
    return _multipart(
        "report",
        f"{rng.randbytes(8).hex().upper()}.{int(mail.date.timestamp())}",
        parts,
        " report-type=delivery-status;",
    )


# --------------------------------------------------------------------------- headers


def _b64(rng: random.Random, n: int) -> str:
    return base64.b64encode(rng.randbytes(n)).decode()


def _fold(value: str, width: int = 74) -> str:
    return "\n\t".join(value[i : i + width] for i in range(0, len(value), width))


def _ip(rng: random.Random) -> str:
    return (
        f"{rng.randint(20, 220)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
    )


def _trace_headers(mail: Mail, rng: random.Random) -> list[str]:
    """What the receiving side adds: delivery, Received chain, authentication."""
    domain = mail.sender.email.split("@")[-1]
    when = format_datetime(mail.date)
    qid = rng.randbytes(5).hex().upper()
    out = [
        f"Return-Path: <{mail.sender.email}>",
        "Delivered-To: amy@lumen-furniture.com",
        f"Received: from mx1.{MY_DOMAIN}\n\tby mx1.{MY_DOMAIN} with LMTP\n\tid {_b64(rng, 12)}"
        f"\n\t(envelope-from <{mail.sender.email}>)\n\tfor <amy@{MY_DOMAIN}>; {when}",
        f"Received: from mail.{domain} (mail.{domain} [{_ip(rng)}])\n\t(using TLSv1.3 with cipher "
        f"TLS_AES_256_GCM_SHA384 (256/256 bits))\n\t(No client certificate requested)\n\tby mx1."
        f"{MY_DOMAIN} (Postfix) with ESMTPS id {qid}\n\tfor <amy@{MY_DOMAIN}>; {when}",
        f"Authentication-Results: mx1.{MY_DOMAIN};\n\tdkim=pass (2048-bit key; unprotected) "
        f'header.d={domain} header.i=@{domain} header.b="{_b64(rng, 6)}";\n\tspf=pass '
        f"smtp.mailfrom={domain};\n\tdmarc=pass (p=quarantine dis=none) header.from={domain}",
    ]
    if mail.client != "thunderbird":
        out.append(
            "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d="
            + domain
            + "; s=selector1;\n\th=From:Date:Subject:Message-ID:Content-Type:MIME-Version;"
            f"\n\tbh={_b64(rng, 32)};\n\tb=" + _fold(_b64(rng, 256))
        )
    if mail.client == "gmail":
        out += [
            f"X-Google-DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=1e100.net;"
            f"\n\ts=20230601; t={int(mail.date.timestamp())};\n\tbh={_b64(rng, 32)};\n\tb="
            + _fold(_b64(rng, 256)),
            f"X-Gm-Message-State: {_fold(_b64(rng, 60))}",
            f"X-Google-Smtp-Source: {_b64(rng, 60)}",
            f"X-Received: by 2002:a05:6512:{rng.randrange(9999)} with SMTP id "
            f"{rng.randbytes(10).hex()};\n\t{when}",
        ]
    if mail.client == "outlook":
        out += [
            "ARC-Seal: i=1; a=rsa-sha256; s=arcselector9901; d=microsoft.com; cv=none;\n\tb="
            + _fold(_b64(rng, 256)),
            "ARC-Message-Signature: i=1; a=rsa-sha256; c=relaxed/relaxed; d=microsoft.com;\n"
            f"\ts=arcselector9901;\n\th=From:Date:Subject:Message-ID:Content-Type:MIME-Version"
            f";\n\tbh={_b64(rng, 32)};\n\tb=" + _fold(_b64(rng, 256)),
            f"X-MS-Exchange-Organization-Network-Message-Id: {_uuid(rng)}",
            f"X-MS-Exchange-CrossTenant-Id: {_uuid(rng)}",
            f"X-MS-Exchange-CrossTenant-OriginalArrivalTime: {when}",
            "X-MS-Exchange-CrossTenant-AuthAs: Internal",
            f"X-MS-Exchange-Transport-CrossTenantHeadersStamped: AM{rng.randrange(9)}PR0"
            f"{rng.randrange(9)}MB{rng.randrange(9999)}",
            f"X-Microsoft-Antispam-Message-Info:\n\t{_fold(_b64(rng, 420))}",
            "X-MS-Has-Attach: " + ("yes" if mail.attachment else ""),
            "X-MS-TNEF-Correlator:",
        ]
    if mail.client in ("qqmail", "foxmail"):
        out += [
            f"X-QQ-mid: bizesmtp{rng.randrange(10**8)}t{int(mail.date.timestamp())}t"
            f"{rng.randbytes(4).hex()}",
            f"X-QQ-SSF: {rng.randbytes(8).hex().upper()}",
            f"X-QQ-FEAT: {_fold(_b64(rng, 90))}",
            "X-QQ-GoodBg: 0",
            f"X-BIZMAIL-ID: {rng.randrange(10**19)}",
        ]
    return out


def _uuid(rng: random.Random) -> str:
    h = rng.randbytes(16).hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


MAILERS = {
    "outlook": "X-Mailer: Microsoft Outlook 16.0",
    "foxmail": "X-Mailer: Foxmail 7.2.25.228[cn]",
    "qqmail": "X-Mailer: QQMail 2.x",
    "thunderbird": "User-Agent: Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:115.0) "
    "Gecko/20100101 Thunderbird/115.6.0",
    "htmlonly": "X-Mailer: Zoho CRM",
}


def headers(mail: Mail, shape: Shape, rng: random.Random) -> str:
    charset = shape.charset if shape.charset not in ("us-ascii", "UTF-8") else "utf-8"
    hcs = charset if charset.startswith("gb") else "utf-8"
    lines = _trace_headers(mail, rng) if mail.folder == "INBOX" and mail.kind != "internal" else []
    lines += [
        f"Date: {format_datetime(mail.date)}",
        f"From: {address(mail.sender, hcs)}",
        f"To: {address_list(mail.to, hcs)}",
    ]
    if mail.cc:
        lines.append(f"Cc: {address_list(mail.cc, hcs)}")
    subject_enc = "B" if mail.language == "zh" else "Q"
    lines.append(f"Subject: {encode_word(mail.subject, hcs, subject_enc)}")
    if mail.client == "outlook":
        lines += [
            f"Thread-Topic: {encode_word(mail.subject, hcs, subject_enc)}",
            f"Thread-Index: {_b64(rng, 22 + 5 * len(mail.references))}",
        ]
    lines.append(f"Message-ID: <{mail.message_id}>")
    if mail.in_reply_to:
        lines.append(f"In-Reply-To: <{mail.in_reply_to}>")
    if mail.references:
        lines.append("References: " + "\n ".join(f"<{r}>" for r in mail.references))
    lines += _kind_headers(mail)
    if mail.client in MAILERS:
        lines.append(MAILERS[mail.client])
    if mail.client == "foxmail":
        lines += [
            "X-Priority: 3",
            f"X-GUID: {_uuid(rng).upper()}",
            "X-Has-Attach: " + ("yes" if mail.attachment else "no"),
        ]
    if mail.client == "outlook":
        lines.append("Content-Language: " + ("zh-CN" if mail.language == "zh" else "en-US"))
    lines.append("MIME-Version: 1.0")
    return "\n".join(lines) + "\n"


def _kind_headers(mail: Mail) -> list[str]:
    if mail.kind == "newsletter" and mail.list_id:
        host = mail.list_id
        return [
            f"List-Id: <{host}>",
            f"List-Unsubscribe: <https://{host}/u/{mail.message_id[:16]}>,\n"
            f" <mailto:unsubscribe@{host}?subject=unsubscribe>",
            "List-Unsubscribe-Post: List-Unsubscribe=One-Click",
            "Precedence: bulk",
        ]
    if mail.kind in ("autoreply", "bounce"):
        return ["Auto-Submitted: auto-replied", "X-Auto-Response-Suppress: All"]
    return []
