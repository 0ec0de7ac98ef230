"""Text helpers for the parse step: html -> text, quote/signature stripping, language guess.

All functions are pure, never raise on odd input, and are fast enough to run on every message.
"""

from __future__ import annotations

import logging
import re
from collections import Counter

from selectolax.lexbor import LexborHTMLParser, LexborNode

logger = logging.getLogger(__name__)

# ---------------------------------------------------------------------------------------------
# HTML -> text
#
# lexbor (through selectolax) parses the HTML and decodes entities; a walk over its tree writes
# the text with line marks, and C-level string operations turn them into lines:
#   \x00 ends a line (lexbor turns NUL in the input into U+FFFD: it never comes from the mail),
#   \x01 follows it once per <blockquote> level, \x02 marks a line inside <pre>.

_BLOCK_TAGS = frozenset(
    "address article aside blockquote body center dd details div dl dt fieldset figcaption "
    "figure footer form h1 h2 h3 h4 h5 h6 header hr html li main nav ol p pre section summary "
    "table tbody tfoot thead tr ul".split()
)
_INVISIBLE_TAGS = frozenset("-comment head script style title template noscript xml".split())
# Elements whose content runs to the end of the document when their end tag is missing.
_RAW_TEXT_TAGS = ("script", "style", "title", "noscript", "textarea", "xmp")
_MAX_HTML_CHARS = 2_000_000
_MAX_DEPTH = 300  # deeper subtrees are added as plain text (Python's recursion limit is 1000)
_EMPTY_QUOTED_LINE = re.compile(r"\x00\x01+(?=\x00|$)")
_MANY_NEWLINES = re.compile(r"\n{3,}")


class _Walk:
    """One walk over a parsed document; `parts` collects text and line marks."""

    __slots__ = ("parts", "quote", "pre", "mark", "nested", "had_pre", "raw_text")

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.quote = 0  # <blockquote> depth
        self.pre = 0  # <pre> depth
        self.mark = "\x00"  # what ends a line here
        self.nested = False  # saw a blockquote or pre
        self.had_pre = False
        self.raw_text = False  # skipped a script/style/... element in the body

    def walk(self, node: LexborNode, depth: int) -> None:
        add = self.parts.append
        for child in node.iter(include_text=True):
            tag = child.tag
            if tag == "-text":
                text = child.text_content or ""
                add(text.replace("\n", self.mark) if self.pre else text)
            elif tag == "br":
                add(self.mark)
            elif tag in _BLOCK_TAGS:
                if tag == "blockquote" or tag == "pre":
                    self.nested_block(child, tag, depth)
                    continue
                add(self.mark)
                self.descend(child, depth)
                add(self.mark)
            elif tag in _INVISIBLE_TAGS:
                self.raw_text = self.raw_text or tag in _RAW_TEXT_TAGS
            else:
                if tag == "td" or tag == "th":
                    add(" ")
                self.descend(child, depth)

    def descend(self, node: LexborNode, depth: int) -> None:
        if depth < _MAX_DEPTH:
            self.walk(node, depth + 1)
        else:
            self.parts.append(node.text())

    def nested_block(self, node: LexborNode, tag: str, depth: int) -> None:
        step = 1
        for _ in range(2):
            self.parts.append(self.mark)
            self.nested = True
            if tag == "pre":
                self.pre += step
                self.had_pre = True
            else:
                self.quote += step
            self.mark = "\x00" + "\x01" * self.quote + ("\x02" if self.pre else "")
            self.parts.append(self.mark)
            if step == 1:
                self.descend(node, depth)
            step = -1

    def text(self) -> str:
        joined = "".join(self.parts)
        if self.had_pre:
            lines = []
            for line in joined.split("\x00"):
                body = line.lstrip("\x01")
                quote = len(line) - len(body)
                # <pre> keeps its spaces (not at line ends); elsewhere white space is one space.
                body = body[1:].rstrip() if body[:1] == "\x02" else " ".join(body.split())
                lines.append("> " * quote + body if body else "")
            return _MANY_NEWLINES.sub("\n\n", "\n".join(lines)).strip("\n")
        # str.split() drops every kind of white space (NBSP and the ideographic space too);
        # the marks are not white space, so they stay, and the spaces next to them go.
        text = " ".join(joined.split()).replace(" \x00", "\x00").replace("\x00 ", "\x00")
        if self.nested:  # "> " prefixes, but an empty quoted line is just empty
            text = _EMPTY_QUOTED_LINE.sub("\x00", text.replace("\x01 ", "\x01"))
        while "\x00\x00\x00" in text:
            text = text.replace("\x00\x00\x00", "\x00\x00")
        return text.strip("\x00").replace("\x00", "\n").replace("\x01", "> ")


def html_to_text(html: str) -> str:
    """Visible text of an HTML body: no script/style/head, block tags -> newlines, entities
    decoded, <blockquote> lines quoted with "> ", <pre> lines kept as they are."""
    if not html:
        return ""
    html = html[:_MAX_HTML_CHARS]
    if "\x01" in html or "\x02" in html:  # the walk's own marks (lexbor already maps NUL)
        html = html.replace("\x01", " ").replace("\x02", " ")
    walk = _walk(html)
    text = walk.text()
    if walk.raw_text or not text:
        reopened = _reopen_raw_text(html)
        if reopened is not None:
            return _walk(reopened).text()
    return text


def _walk(html: str) -> _Walk:
    walk = _Walk()
    root = LexborHTMLParser(html).root
    if root is not None:
        walk.walk(root, 0)
    return walk


def _reopen_raw_text(html: str) -> str | None:
    """An unclosed <script> (<style>, ...) would hide the rest of the message: drop the opening
    tags after its last end tag and keep what follows as markup. None when all are closed."""
    lower = html.lower()
    changed = False
    for tag in _RAW_TEXT_TAGS:
        opened = lower.rfind("<" + tag)
        if opened < 0:
            continue
        closed = lower.rfind("</" + tag)
        if opened > closed:
            cut = max(closed, 0)
            tail = _raw_opener(tag).sub(" ", html[cut:])
            html = html[:cut] + tail
            lower = lower[:cut] + tail.lower()
            changed = True
    return html if changed else None


_RAW_OPENERS: dict[str, re.Pattern[str]] = {}


def _raw_opener(tag: str) -> re.Pattern[str]:
    pattern = _RAW_OPENERS.get(tag)
    if pattern is None:
        pattern = _RAW_OPENERS[tag] = re.compile(rf"<{tag}\b[^<>]*>?", re.I)
    return pattern


def _collapse_blank_lines(text: str) -> str:
    while "\n\n\n" in text:
        text = text.replace("\n\n\n", "\n\n")
    return text.strip()


# ---------------------------------------------------------------------------------------------
# Quoted replies and signatures

_WROTE = re.compile(
    r"(wrote|writes|写道|寫道|寫到|写到|a écrit|schrieb|escribió|ha scritto|scrisse|escreveu|"
    r"schreef|skrev|kirjoitti|napisał|написал|написала|написал\(а\)|yazdı|작성|書きました)"
    r"\s*[:：]\s*$",
    re.IGNORECASE,
)
# The start of an attribution line that may wrap ("On Tue, ... <a@b.c>" / "wrote:").
_INTRO = re.compile(
    r"^\s*(-{2,}\s*)?(On|At|Le|Am|El|Il|Op|Em|Den|På|W dniu|В|Вторник|在|于|\d|"
    r"[A-Z][a-z]+day\b)",
)
_GMAIL_CJK_INTRO = re.compile(r"^\s*\d{2,4}\s*[年년/.-].{0,80}<[^<>\s]+@[^<>\s]+>\s*[:：]\s*$")
_SEPARATOR = re.compile(
    r"^\s*[-_=*]{2,}\s*(original message|原始邮件|原始郵件|邮件原件|郵件原件|原始信件|原邮件|"
    r"forwarded message|转发邮件|转发的邮件|轉寄郵件|message d'origine|message transféré|"
    r"ursprüngliche nachricht|weitergeleitete nachricht|mensaje original|mensaje reenviado|"
    r"messaggio originale|messaggio inoltrato|mensagem original|oorspronkelijk bericht|"
    r"исходное сообщение|пересылаемое сообщение|元のメッセージ|転送メッセージ|원본 메시지|"
    r"전달된 메시지|original|reply message|回复的原邮件)\s*[-_=*]{2,}\s*$",
    re.IGNORECASE,
)
_FORWARD_INTRO = re.compile(
    r"^\s*((begin forwarded message|début du message réexpédié)\s*:|-{3,}\s*forwarded by\b)", re.I
)
# Lotus Notes: "Name@ORG" / "12/12/2000 01:31 PM" / "To: ..."
_NOTES_DATE = re.compile(r"^\s*\d{1,2}/\d{1,2}/\d{2,4}\s+\d{1,2}:\d{2}(:\d{2})?\s*([AP]M)?\s*$")
_NOTES_TO = re.compile(r"^\s*To:", re.I)
_FROM_LINE = re.compile(
    r"^\s*\**\s*(from|发件人|發件人|寄件者|寄件人|差出人|von|de|da|van|od|от|보낸 사람)"
    r"\s*\**\s*[:：]",
    re.IGNORECASE,
)
_DATE_FIELD = (
    r"sent|date|发送时间|發送時間|发件时间|寄件日期|日期|时间|時間|送信日時|日時|gesendet|datum|"
    r"envoyé|date d'envoi|enviado|fecha|inviato|data|verzonden|отправлено|дата|보낸 날짜"
)
_OTHER_FIELD = (
    r"to|cc|subject|收件人|收件者|抄送|副本|主题|主題|主旨|宛先|件名|an|betreff|à|objet|para|"
    r"asunto|oggetto|aan|onderwerp|кому|тема|받는 사람|제목|sent by"
)
_DATE_FIELD_LINE = re.compile(rf"^\s*\**\s*({_DATE_FIELD})\s*\**\s*[:：]", re.IGNORECASE)
_ANY_FIELD_LINE = re.compile(rf"^\s*\**\s*({_DATE_FIELD}|{_OTHER_FIELD})\s*\**\s*[:：]", re.I)
_DEVICE = (
    r"(iphone|ipad|ipod|android|mobile|phone|smartphone|tablet|samsung|galaxy|huawei|honor|"
    r"xiaomi|redmi|oppo|vivo|oneplus|pixel|blackberry|nokia|sony|"
    r"手机|手機|华为|華為|小米|荣耀|榮耀|三星|平板|移动设备|行動裝置|安卓|魅族)"
)
# "Sent from my iPhone"-style lines: a known device or app, and little else on the line.
_MOBILE_SIGNATURE = re.compile(
    rf"^\s*(sent from my (\S+ )?{_DEVICE}|(发自|發自|来自|來自|从|從)我的\s*{_DEVICE}|"
    r"sent from (outlook|mail|yahoo mail|mail for windows)\b|get outlook for (ios|android)|"
    r"sent with (sparrow|blackberry)|"
    rf"envoyé de mon {_DEVICE}|enviado desde mi {_DEVICE}|inviato da(l mio)? {_DEVICE}|"
    r"von meinem .{1,40} gesendet|(iphone|ipad)から送信|发自\s*(网易|qq)\s*邮箱)"
    r".{0,40}$",
    re.IGNORECASE,
)
_TRAILING_JUNK = re.compile(r"^\s*([-_=*~]{2,}|>+)?\s*$")
_QUOTE_LOOKAHEAD = 5
_MARKER_START = frozenset("-_=*")
_MAX_SIGNATURE_LINE = 80
# What a signature line can start with: "--", or the first letter of one of _MOBILE_SIGNATURE's
# phrases, in any case (re.IGNORECASE also lets "ſ" match "s" and "İ"/"ı" match "i").
_SIGNATURE_START = frozenset("-sSſgGeEiIİıvV发發来來从從")


def _is_wrote_line(lines: list[str], i: int) -> int | None:
    """If line i ends an attribution ("... wrote:"), return the index where it starts."""
    line = lines[i].rstrip()
    if len(line) > 300 or not line.endswith((":", "：")):
        return None
    if not (_WROTE.search(line) or _GMAIL_CJK_INTRO.match(line)):
        return None
    start = i
    for j in range(i - 1, max(-1, i - 3), -1):
        if not lines[j].strip() or lines[j].lstrip().startswith(">"):
            break
        if _INTRO.match(lines[j]):
            start = j
            break
    return start


def _is_outlook_block(lines: list[str], i: int) -> bool:
    """From: ... followed by Sent:/Date: (or, when From has an address, To:/Subject:)."""
    if not _FROM_LINE.match(lines[i]):
        return False
    has_address = "@" in lines[i] or "mailto" in lines[i].lower()
    seen = 0
    for line in lines[i + 1 : i + 1 + _QUOTE_LOOKAHEAD]:
        if not line.strip():
            continue
        if _DATE_FIELD_LINE.match(line) or (has_address and _ANY_FIELD_LINE.match(line)):
            return True
        seen += 1
        if seen >= 2:  # a wrapped From line is fine, more than that is not a header block
            return False
    return False


def _is_notes_date(lines: list[str], j: int) -> bool:
    """Line j is the date line of a Lotus Notes quote header (name / date / To:)."""
    if j == 0 or j + 1 >= len(lines) or not lines[j - 1].strip():
        return False
    if not _NOTES_DATE.match(lines[j]):
        return False
    return any(_NOTES_TO.match(line) for line in lines[j + 1 : j + 3])


def _opens_history(lines: list[str], i: int) -> bool:
    """Line i starts unprefixed quoted history (a separator or a quoted header block)."""
    line = lines[i]
    if _SEPARATOR.match(line) or _FORWARD_INTRO.match(line):
        return True
    return _is_outlook_block(lines, i)


def _next_is_quoted(lines: list[str], i: int) -> bool:
    for line in lines[i + 1 : i + 4]:
        if line.strip():
            return line.lstrip().startswith(">")
    return False


def _is_signature(line: str) -> bool:
    if len(line) > _MAX_SIGNATURE_LINE:
        return False
    return line.rstrip(" \t\xa0") == "--" or bool(_MOBILE_SIGNATURE.match(line))


def _history_start(lines: list[str], i: int) -> tuple[int, bool] | None:
    """If quoted material starts around line i: (first line index, whether to stop there).

    Unprefixed history (separators, header blocks) stops the scan; an attribution above
    '>' lines ("On ... wrote:") is dropped but the scan goes on, for inline replies."""
    if _opens_history(lines, i):
        return i, True
    if _is_notes_date(lines, i):
        return i - 1, True
    start = _is_wrote_line(lines, i)
    if start is not None:
        return start, not _next_is_quoted(lines, i)
    return None


def strip_reply(text: str) -> str:
    """The new part of a message: no quoted lines, no quoted history, no signature."""
    if not text:
        return ""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    kept: list[int] = []
    for i, line in enumerate(lines):
        first = line.lstrip()[:1]
        if first == ">":
            continue
        # Cheap first-character checks before any regex (most lines are neither).
        if first in _SIGNATURE_START and _is_signature(line):
            break
        if first in _MARKER_START or ":" in line or "：" in line:
            found = _history_start(lines, i)
            if found is not None:
                kept = [k for k in kept if k < found[0]]
                if found[1]:
                    break
                continue
        kept.append(i)
    while kept and _TRAILING_JUNK.match(lines[kept[-1]]):
        kept.pop()
    return _collapse_blank_lines("\n".join([lines[k].rstrip() for k in kept]))


# ---------------------------------------------------------------------------------------------
# Language guess

_SAMPLE_CHARS = 2000
_LATIN_SAMPLE_CHARS = 1500
_LATIN_FIRST_CHARS = 400
_WORD = re.compile(r"[a-zà-ÿ']{2,}")
_STOPWORDS: dict[str, frozenset[str]] = {
    "en": frozenset(
        "the and you for that with this have are will please thanks thank your not but from "
        "can would could should our we is it be on of to in".split()
    ),
    "de": frozenset(
        "und die der das ist nicht ich sie wir mit für ein eine den bitte danke auf".split()
    ),
    "fr": frozenset("le la les et est vous nous pour une des pas que merci dans avec sur".split()),
    "es": frozenset("el los las es que por para una con gracias usted nosotros pero del".split()),
    "it": frozenset("il gli che per una con non sono grazie della questo siamo".split()),
    "pt": frozenset("que para uma com não obrigado você nós está são também".split()),
    "nl": frozenset("het een niet ik wij met voor van dank bedankt zijn".split()),
}


# Runs of one script (counting run lengths is much faster than one match per character).
_CJK_SCRIPTS: dict[str, re.Pattern[str]] = {
    "han": re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+"),
    "kana": re.compile("[\u3040-\u30ff\u31f0-\u31ff\uff66-\uff9f]+"),
    "hangul": re.compile("[\uac00-\ud7af\u1100-\u11ff\u3130-\u318f]+"),
}
_OTHER_SCRIPTS: dict[str, re.Pattern[str]] = {
    "cyrillic": re.compile("[\u0400-\u04ff]+"),
    "greek": re.compile("[\u0370-\u03ff]+"),
    "arabic": re.compile("[\u0600-\u06ff]+"),
    "thai": re.compile("[\u0e00-\u0e7f]+"),
    "hebrew": re.compile("[\u0590-\u05ff]+"),
}
_ANY_OTHER_SCRIPT = re.compile("[\u0370-\u06ff\u0e00-\u0e7f]")
_LATIN_EXTRA = re.compile("[\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f]+")
_ASCII_NON_LETTERS = bytes(c for c in range(128) if not chr(c).isalpha())
# The Latin-1 bytes _LATIN_EXTRA counts (U+00C0-U+00FF but × and ÷).
_LATIN1_LETTERS = bytes(c for c in range(0xC0, 0x100) if c not in (0xD7, 0xF7))


def _ascii_letters(sample: str) -> int:
    return len(sample.encode("ascii", "ignore").translate(None, _ASCII_NON_LETTERS))


def _run_length(pattern: re.Pattern[str], sample: str) -> int:
    return sum(map(len, pattern.findall(sample)))


def _script_counts(sample: str) -> dict[str, int]:
    counts = dict.fromkeys([*_CJK_SCRIPTS, *_OTHER_SCRIPTS], 0)
    counts["ascii"] = counts["latin"] = _ascii_letters(sample)
    if sample.isascii():
        return counts
    try:  # Latin-1 only (accented Western European text): bytes operations, no regex scan
        data = sample.encode("latin-1")
    except UnicodeEncodeError:
        pass
    else:
        counts["latin"] += len(data) - len(data.translate(None, _LATIN1_LETTERS))
        return counts
    counts["latin"] += _run_length(_LATIN_EXTRA, sample)
    for name, pattern in _CJK_SCRIPTS.items():
        counts[name] = _run_length(pattern, sample)
    if _ANY_OTHER_SCRIPT.search(sample):
        for name, pattern in _OTHER_SCRIPTS.items():
            counts[name] = _run_length(pattern, sample)
    return counts


_WORD_LANGS_LISTS: dict[str, list[str]] = {}
for _lang, _words in _STOPWORDS.items():
    for _w in _words:
        _WORD_LANGS_LISTS.setdefault(_w, []).append(_lang)
_WORD_LANGS: dict[str, tuple[str, ...]] = {w: tuple(v) for w, v in _WORD_LANGS_LISTS.items()}


# ASCII text: every character _WORD does not take as a space, so split() gives its runs.
_ASCII_NOT_WORD = {c: " " for c in range(128) if not (97 <= c <= 122 or c == 39)}


def _stopword_scores(sample: str) -> dict[str, int] | None:
    low = sample.lower()
    if low.isascii():  # _WORD's matches are the runs of 2+ of the split pieces (no regex scan)
        words = low.translate(_ASCII_NOT_WORD).split()
    else:
        words = _WORD.findall(low)
    # Only the stop words reach Python code: the lookup and the counting run in C.
    counted = Counter(filter(None, map(_WORD_LANGS.get, words)))
    if not counted and not any(len(w) > 1 for w in words):  # stop words have 2+ letters
        return None
    scores = dict.fromkeys(_STOPWORDS, 0)
    for langs, n in counted.items():
        for lang in langs:
            scores[lang] += n
    return scores


def _latin_language(sample: str, counts: dict[str, int]) -> str | None:
    if len(sample) > _LATIN_FIRST_CHARS:
        # Most mail says which language it is in its first lines: a clear lead there decides.
        scores = _stopword_scores(sample[:_LATIN_FIRST_CHARS])
        if scores is not None:
            first, second = sorted(scores.values(), reverse=True)[:2]
            if first >= 4 and first >= 2 * second:
                return max(scores, key=scores.__getitem__)
    scores = _stopword_scores(sample[:_LATIN_SAMPLE_CHARS])
    if scores is None:
        return None
    best = max(scores, key=scores.__getitem__)
    if scores[best] >= 2 and scores[best] >= 1.5 * max(
        (s for lang, s in scores.items() if lang != best), default=0
    ):
        return best
    ascii_share = counts["ascii"] / max(1, counts["latin"])
    return "en" if ascii_share > 0.98 and scores["en"] >= max(scores.values()) else None


def guess_language(text: str) -> str | None:
    """A language code from the script of the text ("zh", "ja", "ko", "ru", "en", ...) or None."""
    if not text:
        return None
    sample = text[:_SAMPLE_CHARS]
    counts = _script_counts(sample)
    cjk = counts["han"] + counts["kana"] + counts["hangul"]
    # One CJK character carries about as much as a 3-4 letter Latin word.
    if cjk >= 2 and cjk * 4 >= counts["latin"]:
        if counts["hangul"] > counts["han"] + counts["kana"]:
            return "ko"
        if counts["kana"] and counts["kana"] * 20 >= counts["han"]:
            return "ja"
        return "zh" if counts["han"] else None
    others = {"cyrillic": "ru", "greek": "el", "arabic": "ar", "thai": "th", "hebrew": "he"}
    script, n = max(((s, counts[s]) for s in others), key=lambda t: t[1])
    if n and n >= counts["latin"]:
        return others[script]
    if counts["latin"] < 2:
        return None
    return _latin_language(sample, counts)
