"""Zoning before judging: which part of a message's text is the writer's new request.

The parse step (parse/textclean.strip_reply) already cuts ">" quotes, attribution lines
("On ... wrote:"), separators ("-----Original Message-----", "------------------ 原始邮件
------------------"), Outlook/Notes header blocks and "Sent from my iPhone". What reaches the
judge can still hold other history and boilerplate; this module splits the text into
  body      the lines judged,
  quoted    ": " / "|" prefixed lines, and everything after a history opener strip_reply
            did not know ("【 在 xxx 的大作中提到: 】", "----- Forwarded by", "转发:" blocks),
  signature a "--" line, a valediction ("Regards,", "Thanks,", "此致") and the short lines
            after it (name, title, phone),
  footer    legal disclaimers and list/marketing footers (unsubscribe, view in browser,
            "You are receiving this", copyright lines),
  closing   the body's last paragraph when it is only a courtesy line ("let me know if you
            have any questions", 有问题随时联系): kept in the body, named for the model,
and counts the content signals of automatic mail (unsubscribe and view-in-browser lines, link
density, templated footers). `flat()` collapses hard line breaks inside paragraphs so a phrase
cut by a wrap still matches (spaCy makes a newline a token: FACTS.md).

Pure, linear in the text, capped at MAX_CHARS.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

MAX_CHARS = 20_000  # a message of any size is judged in bounded time

_PREFIX_QUOTE = re.compile(r"^\s*(:|\|)(\s|$)")
_OPENER = re.compile(
    r"^\s*(【\s*在.{0,80}(大作中|中)提到\s*[:：]?\s*】|-{3,}\s*forwarded by\b|"
    r"-{2,}\s*(original message|原始邮件|原始郵件|forwarded message|转发邮件)\s*-{2,}|"
    r"(转发|轉發|fwd?)\s*[:：]\s*$|"
    r"\*?\s*from\s*:.*\b(sent|date)\s*:|"  # an Outlook header block flattened on one line
    r"(原始邮件|原邮件)\s*[:：]?\s*$)",
    re.IGNORECASE,
)
_VALEDICTION = re.compile(
    r"^\s*(best( regards| wishes)?|kind regards|warm regards|regards|cheers|thanks( again)?|"
    r"thank you|many thanks|sincerely|yours( sincerely| truly| faithfully)?|rgds|br|"
    r"此致|敬礼|祝好|顺祝商祺|谢谢|多谢|祝.{0,6}(愉快|顺利)|best)\s*[,，.!！]?\s*$",
    re.IGNORECASE,
)
_SIG_DASH = re.compile(r"^\s*--\s*$|^\s*_{5,}\s*$")
_LEGAL = re.compile(
    r"(this (e-?mail|message|communication)( and any attachments?)? (is|are|may be) "
    r"(confidential|intended)|intended (solely |only )?for the (use of the )?"
    r"(addressee|named|individual|intended recipient)|if you are not the intended recipient|"
    r"privileged and confidential|do not (read, )?(copy|disclose|distribute)|"
    r"免责声明|本邮件.{0,20}(保密|机密)|若您不是.{0,10}收件人)",
    re.IGNORECASE,
)
_UNSUBSCRIBE = re.compile(
    r"(unsubscribe|opt[- ]out|remove yourself|manage (your )?(subscription|preferences)|"
    r"email preferences|取消订阅|退订|退訂)",
    re.IGNORECASE,
)
_BROWSER = re.compile(
    r"(view (this|it)? ?(e-?mail|message|newsletter)? ?(in|on) (your|a|the)? ?(web )?browser|"
    r"having trouble (viewing|reading)|can't see (this|the) (e-?mail|images)|"
    r"view (the )?online version|在浏览器中查看|无法正常显示)",
    re.IGNORECASE,
)
_TEMPLATE = re.compile(
    r"(©|\(c\)\s*\d{4}|copyright\s*(©|\d{4})|all rights reserved|you (are receiving|received) "
    r"this|this (e-?mail|message) was sent (to|by)|to stop receiving|privacy policy|"
    r"mailing list\s*$|^_{5,}\s*\S+ mailing list|listinfo/|版权所有)",
    re.IGNORECASE,
)
_LINK = re.compile(r"https?://\S+|www\.\S+", re.IGNORECASE)
_WORD = re.compile(r"\w+")
_COURTESY = re.compile(
    r"(let (me|us) know if (you )?(have|need|there (is|are))|(any|further) questions|"
    r"if you (have|need) (any|anything)|feel free to|do not hesitate|don't hesitate|"
    r"shout if|happy to (help|talk|discuss)|hope (this|that) helps|please (call|contact) "
    r"(me )?if|有问题随时|如有(任何)?(问题|疑问)|欢迎(随时)?(联系|来电)|有事(再)?联系)",
    re.IGNORECASE,
)
_PARAGRAPH = re.compile(r"\n[ \t]*\n")
_CJK = re.compile(r"[\u3400-\u9fff]")


@dataclass
class Zones:
    body: str = ""
    quoted: list[str] = field(default_factory=list)
    signature: list[str] = field(default_factory=list)
    footer: list[str] = field(default_factory=list)
    closing: str = ""  # the body's last paragraph when it is only a courtesy line
    unsubscribe: int = 0  # lines offering to unsubscribe (anywhere in the text)
    browser: int = 0  # "view in browser" lines
    template: int = 0  # copyright, "you are receiving this", list footers
    links: int = 0
    words: int = 0

    @property
    def link_density(self) -> float:
        """Links per 100 words of the whole text."""
        return 100.0 * self.links / max(self.words, 1)

    def automatic(self) -> str | None:
        """Why the content reads as a newsletter, marketing or a system notice, or None.
        A person's mail may carry one such line (a signature's privacy-policy link); it takes
        an unsubscribe line with a second sign, or a view-in-browser line, or a text that is
        mostly links."""
        if self.browser:
            return "a 'view in browser' line"
        if self.unsubscribe and (self.template or self.link_density >= 4):
            return "an unsubscribe line with a templated footer or many links"
        if self.links >= 8 and self.link_density >= 8:
            return f"{self.links} links in {self.words} words"
        return None


def flat(text: str) -> str:
    """Hard line breaks inside a paragraph become spaces (no space between CJK characters);
    paragraphs stay apart."""
    out = []
    for para in _PARAGRAPH.split(text):
        lines = [ln.strip() for ln in para.split("\n") if ln.strip()]
        joined = ""
        for ln in lines:
            if joined and not (_CJK.match(ln[:1]) and _CJK.match(joined[-1:])):
                joined += " "
            joined += ln
        if joined:
            out.append(joined)
    return "\n\n".join(out)


def zone(text: str) -> Zones:
    """Split `text` (a message's new text, or its whole body) into zones."""
    z = Zones()
    text = (text or "")[:MAX_CHARS].replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    body: list[str] = []
    rest_from = len(lines)
    for i, line in enumerate(lines):
        if _PREFIX_QUOTE.match(line):
            z.quoted.append(line)
            continue
        if _OPENER.match(line):
            rest_from = i
            break
        body.append(line)
    z.quoted.extend(lines[rest_from:])
    body = _cut_footer(body, z)
    body = _cut_signature(body, z)
    for line in lines:
        if _UNSUBSCRIBE.search(line):
            z.unsubscribe += 1
        if _BROWSER.search(line):
            z.browser += 1
        if _TEMPLATE.search(line):
            z.template += 1
    z.links = len(_LINK.findall(text))
    z.words = len(_WORD.findall(text))
    z.body = "\n".join(body).strip()
    paras = [p for p in _PARAGRAPH.split(z.body) if p.strip()]
    if len(paras) > 1 and _COURTESY.search(paras[-1]) and len(paras[-1]) < 200:
        z.closing = paras[-1].strip()
    return z


def _cut_footer(body: list[str], z: Zones) -> list[str]:
    """Legal and list footers: from the first such line in the last third (or the last 15
    lines) of the text to the end."""
    start = max(0, min(len(body) - 15, len(body) * 2 // 3))
    for i in range(start, len(body)):
        line = body[i]
        if _LEGAL.search(line) or _UNSUBSCRIBE.search(line) or _TEMPLATE.search(line):
            z.footer = body[i:]
            return body[:i]
    return body


def _cut_signature(body: list[str], z: Zones) -> list[str]:
    """A "--" line, or a valediction followed by at most 8 short lines, ends the body."""
    n = len(body)
    for i in range(max(0, n - 12), n):
        line = body[i]
        if _SIG_DASH.match(line):
            z.signature = body[i:]
            return body[:i]
        if _VALEDICTION.match(line):
            tail = [t for t in body[i + 1 :] if t.strip()]
            if len(tail) <= 8 and all(len(t.strip()) <= 60 for t in tail):
                z.signature = body[i:]
                return body[:i]
    return body
