"""Charset repair: turn bytes with a declared (or missing, or wrong) charset into text.

Real mail lies about its charset: gb2312 labels on GBK text, iso-8859-1 labels on UTF-8,
``X-UNKNOWN`` or no label at all on 8-bit bytes. `decode_text` always returns text and says,
in a short note, when it had to guess. RFC 2047 encoded words and raw 8-bit header bytes are
decoded here too (`decode_header_value`), with the same repair.
"""

from __future__ import annotations

import binascii
import codecs
import logging
import re
from functools import lru_cache

logger = logging.getLogger(__name__)

# Labels whose Python codec is too narrow for what senders really put under them.
_ALIASES: dict[str, str] = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "cp936": "gb18030",
    "ms936": "gb18030",
    "windows-936": "gb18030",
    "euc-cn": "gb18030",
    "gb_2312-80": "gb18030",
    "gb_2312": "gb18030",
    "csgb2312": "gb18030",
    "chinese": "gb18030",
    "x-euc-cn": "gb18030",
    "big5": "big5hkscs",
    "x-big5": "big5hkscs",
    "big-5": "big5hkscs",
    "cn-big5": "big5hkscs",
    "csbig5": "big5hkscs",
    "big5-hkscs": "big5hkscs",
    "cp950": "big5hkscs",
    "ks_c_5601-1987": "cp949",
    "ks_c_5601": "cp949",
    "ks_c_5601-1989": "cp949",
    "ksc5601": "cp949",
    "euc-kr": "cp949",
    "x-windows-949": "cp949",
    "windows-949": "cp949",
    "shift_jis": "cp932",
    "shift-jis": "cp932",
    "x-sjis": "cp932",
    "sjis": "cp932",
    "ms_kanji": "cp932",
    "windows-31j": "cp932",
    "iso-8859-1": "cp1252",
    "iso8859-1": "cp1252",
    "iso_8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "l1": "cp1252",
    "us-ascii": "cp1252",
    "ascii": "cp1252",
    "ansi_x3.4-1968": "cp1252",
    "iso-8859-8-i": "iso8859-8",
    "windows-874": "cp874",
    "tis-620": "cp874",
    "iso-8859-11": "cp874",
    "x-mac-roman": "mac-roman",
    "macintosh": "mac-roman",
    "unicode-1-1-utf-7": "utf-7",
    "utf8": "utf-8",
    "uft-8": "utf-8",
    "utf-8-sig": "utf-8",
}

# Labels that mean "Latin text": UTF-8 that comes under them is taken as UTF-8.
_LATIN_CODECS = frozenset({"cp1252", "iso8859-15", "latin-1"})
# Codecs whose bytes are 7-bit or not byte-oriented: no ASCII shortcut for them.
_NO_ASCII_SHORTCUT = ("utf-7", "iso2022", "hz", "utf-16", "utf-32")
# Python codecs that are not charsets a mail could mean.
_NOT_CHARSETS = frozenset(
    {"undefined", "unicode-escape", "raw-unicode-escape", "idna", "punycode", "mbcs", "oem"}
)
# Second choices when the first codec of a label fails.
_SECOND_CHOICE: dict[str, tuple[str, ...]] = {
    "big5hkscs": ("cp950",),
    # Japanese mailers often put EUC-JP or Shift_JIS bytes under an iso-2022-jp label.
    "iso2022_jp": ("iso2022_jp_ext", "iso2022_jp_2", "iso2022_jp_2004", "euc_jp", "cp932"),
    "cp932": ("shift_jis_2004", "euc_jp"),
    "euc_jp": ("euc_jis_2004", "cp932"),
    "cp1252": ("latin-1",),
}
# A label mis-declaring UTF-8 must show at least this many non-ASCII characters before we
# overrule it (short GB/Big5 strings can be valid UTF-8 by chance; long ones practically never).
_UTF8_OVERRULE_MIN_CHARS = 3

_HIGH_BYTES = bytes(range(128, 256))
_UTF8_LEAD_BYTES = bytes(range(0xC2, 0xF5))
_SNIFF_CHARS = 4000  # the looks_* tests judge a prefix; enough to tell, bounded in cost
# Runs of CJK / kana characters (counting run lengths is much faster than one match per char).
_CJK_RUNS = re.compile("[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]+")
_KANA_RUNS = re.compile("[\u3040-\u30ff]+")
_NON_ASCII_RUNS = re.compile("[^\x00-\x7f]+")
_NOT_BIG5_COMMON_LEAD = bytes(b for b in range(256) if not 0xA4 <= b <= 0xC6)


@lru_cache(maxsize=512)
def codec_for(label: str | None) -> str | None:
    """The Python codec name for a MIME charset label; None when absent or unknown."""
    if not label:
        return None
    name = label.strip().strip("\"';").strip().lower()
    if not name or len(name) > 40 or not name.isascii() or not name.isprintable():
        return None
    name = _ALIASES.get(name, name)
    try:
        info = codecs.lookup(name)
    except (LookupError, ValueError, UnicodeError):
        return None
    if not getattr(info, "_is_text_encoding", True) or info.name in _NOT_CHARSETS:
        return None
    return info.name


def _is_ascii_safe(codec: str | None) -> bool:
    return codec is None or not codec.startswith(_NO_ASCII_SHORTCUT)


def _non_ascii(text: str) -> int:
    """How many characters of `text` are above U+007F."""
    return len(text) - len(text.encode("ascii", "ignore"))


def _cjk_count(text: str) -> int:
    return sum(map(len, _CJK_RUNS.findall(text)))


def looks_chinese(text: str) -> bool:
    """True when most non-ASCII characters are common (GB2312) Han characters or CJK punctuation.

    Latin-1 bytes decoded as GB18030 give rare ideographs; real Chinese text is mostly GB2312.
    """
    text = text[:_SNIFF_CHARS]
    non_ascii = _non_ascii(text)
    if non_ascii == 0:
        return False
    if _cjk_count(text) < 0.8 * non_ascii:
        return False
    outside = text.encode("gb2312", "replace").count(b"?") - text.count("?")
    return outside <= 0.2 * non_ascii


def looks_big5(text: str) -> bool:
    """True when most non-ASCII characters are frequent Big5 characters (lead bytes A4-C6)."""
    text = text[:_SNIFF_CHARS]
    non_ascii = _non_ascii(text)
    if not non_ascii or _cjk_count(text) < 0.8 * non_ascii:
        return False
    # Every character Big5 can encode above U+007F takes two bytes: the lead bytes are the even
    # ones of the encoded non-ASCII characters (those Big5 cannot encode are skipped).
    wide = "".join(_NON_ASCII_RUNS.findall(text)).encode("big5", "ignore")
    common = len(wide[0::2].translate(None, _NOT_BIG5_COMMON_LEAD))
    return common >= 0.6 * non_ascii


def looks_japanese(text: str) -> bool:
    """True when the non-ASCII text is Japanese: kana and CJK only, with a fair share of kana."""
    text = text[:_SNIFF_CHARS]
    non_ascii = _non_ascii(text)
    if non_ascii == 0:
        return False
    kana = sum(map(len, _KANA_RUNS.findall(text)))
    return kana >= 0.2 * non_ascii and (kana + _cjk_count(text) >= 0.9 * non_ascii)


def _try(data: bytes, codec: str) -> str | None:
    try:
        return data.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return None


def _utf8_if_clearly(data: bytes, min_chars: int) -> str | None:
    """The UTF-8 reading of `data` if it is valid and has at least `min_chars` non-ASCII chars."""
    if len(data) - len(data.translate(None, _UTF8_LEAD_BYTES)) < min_chars:
        return None
    return _try(data, "utf-8")


def guess_decode(data: bytes) -> tuple[str, str]:
    """Decode 8-bit bytes of unknown charset: UTF-8, GB18030 or Big5 if it reads as Chinese,
    else Windows-1252. Returns (text, codec used)."""
    text = _try(data, "utf-8")
    if text is not None:
        return text, "utf-8"
    text = _try(data, "gb18030")
    if text is not None and looks_chinese(text):
        return text, "gb18030"
    for codec, fits in (
        ("euc_jp", looks_japanese),
        ("big5hkscs", looks_big5),
        ("cp932", looks_japanese),
    ):
        text = _try(data, codec)
        if text is not None and fits(text):
            return text, codec
    text = _try(data, "cp1252")
    if text is not None:
        return text, "cp1252"
    return data.decode("latin-1"), "latin-1"


# An IMAP server cannot send NUL bytes in a literal: Dovecot sends 0x80 for each. In UTF-8 a
# lone 0x80 is never valid, so when only those spoil it they are dropped (text) or read as
# spaces (headers), as the Maildir path drops or replaces the NULs themselves.
NUL_AS_0X80 = "stray 0x80 bytes (NUL bytes, as an IMAP server sends them) removed"

# Every ASCII byte as a space, the others kept: split() then gives the runs of high bytes.
_ASCII_AS_SPACE = bytes(32 if b < 128 else b for b in range(256))


def _plausible_latin(data: bytes) -> bool:
    """True when the non-ASCII characters of `data` (Latin-1 bytes of the text) read like
    European words: letters only, in runs of at most three (ção, ß, ö). CJK text read as
    Latin-1 gives long runs and symbols (¡×²¬). (Byte operations: a regex over the text for
    its non-ASCII runs cost ~15 ns per character, 100+ µs on an HTML body.)"""
    for run in data.translate(_ASCII_AS_SPACE).split():
        if len(run) > 3 or not run.decode("latin-1").isalpha():
            return False
    return True


def repair_double_encoding(text: str) -> str | None:
    """Undo one decoding too many: text whose characters are all Latin-1 but whose Latin-1 bytes
    are really UTF-8 or a CJK charset (a gateway decoded Big5 as Latin-1 and re-sent it as
    UTF-8). Returns the repaired text or None when it does not apply."""
    if text.isascii():
        return None
    try:
        data = text.encode("latin-1")  # fails fast on the first character above U+00FF
    except UnicodeEncodeError:
        return None
    if len(data) - len(data.translate(None, _HIGH_BYTES)) < 2:
        return None
    fixed = _try(data, "utf-8")
    if fixed is not None:
        return fixed
    if _plausible_latin(data):
        return None  # "Cotação", "Möbel": real accented words, not CJK read as Latin-1
    for codec, fits in (
        ("gb18030", looks_chinese),
        ("big5hkscs", looks_big5),
        ("euc_jp", looks_japanese),
    ):
        fixed = _try(data, codec)
        if fixed is not None and fits(fixed):
            return fixed
    return None


def decode_text(data: bytes, label: str | None) -> tuple[str, str | None]:
    """Decode bytes labelled `label`: (text, note), the note None when nothing was guessed."""
    text, note = _decode_text(data, label)
    fixed = repair_double_encoding(text)
    if fixed is not None:
        return fixed, "double-encoded text repaired"
    return text, note


def _decode_text(data: bytes, label: str | None) -> tuple[str, str | None]:
    if not data:
        return "", None
    codec = codec_for(label)
    if data.isascii() and _is_ascii_safe(codec):
        note = f"unknown charset {label!r}" if label and codec is None else None
        return data.decode("ascii"), note
    if codec is None or _says_ascii(label):
        # us-ascii is what an unlabelled text part means (RFC 2045), and what an IMAP server
        # reports for one (Dovecot's BODYSTRUCTURE): 8-bit text under it is read as unlabelled,
        # with the same note, whichever adapter read the part.
        text, used = guess_decode(data)
        what = f"unknown charset {label!r}" if codec is None and label else NO_CHARSET
        return text, f"{what}: decoded as {used}"
    return _decode_declared(data, codec, label or "")


NO_CHARSET = "no charset (or us-ascii) on 8-bit text"
_ASCII_LABELS = frozenset({"us-ascii", "ascii", "ansi_x3.4-1968", "us", "iso646-us"})


def _says_ascii(label: str | None) -> bool:
    return label is not None and label.strip().strip("\"';").strip().lower() in _ASCII_LABELS


def _decode_declared(data: bytes, codec: str, label: str) -> tuple[str, str | None]:
    if codec != "utf-8" and _is_ascii_safe(codec):
        min_chars = 1 if codec in _LATIN_CODECS else _UTF8_OVERRULE_MIN_CHARS
        text = _utf8_if_clearly(data, min_chars)
        if text is not None:
            return text, f"charset {label!r} declared, text is utf-8"
    for candidate in (codec, *_SECOND_CHOICE.get(codec, ())):
        text = _try(data, candidate)
        if text is not None:
            note = None if candidate == codec else f"charset {label!r}: decoded as {candidate}"
            return text, note
    if codec == "utf-8" and b"\x80" in data:
        text = _try(data.replace(b"\x80", b""), "utf-8")
        if text is not None:
            return text, f"charset {label!r}: {NUL_AS_0X80}"
    if codec.startswith(("utf-16", "utf-32")):
        return data.decode(codec, "replace"), f"charset {label!r}: undecodable bytes replaced"
    text, used = guess_decode(data)
    if used in ("cp1252", "latin-1") and codec != "utf-8":
        # Nothing fits better: keep the declared charset, mark the bad bytes.
        return data.decode(codec, "replace"), f"charset {label!r}: undecodable bytes replaced"
    return text, f"charset {label!r} does not fit: decoded as {used}"


# ---------------------------------------------------------------------------------------------
# Header values: RFC 2047 encoded words and raw 8-bit bytes.

_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=")
_BLANK_BETWEEN_WORDS = re.compile(r"\?=[ \t\r\n]+(?==\?)")
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]+")
_FOLD = re.compile(r"\r?\n(?=[ \t])|\r(?=[ \t])")
_Q_UNDERSCORE = re.compile(rb"_")


def _word_bytes(kind: str, payload: str) -> bytes:
    raw = payload.encode("utf-8", "surrogateescape")
    if kind in "qQ":
        return binascii.a2b_qp(_Q_UNDERSCORE.sub(b" ", raw))
    return decode_base64(raw)


def decode_base64(raw: bytes) -> bytes:
    """Base64 that tolerates missing padding, junk characters and a truncated last group."""
    try:
        return binascii.a2b_base64(raw)
    except binascii.Error:
        pass
    clean = re.sub(rb"[^A-Za-z0-9+/]", b"", raw)
    clean = clean[: len(clean) - len(clean) % 4] if len(clean) % 4 == 1 else clean
    try:
        return binascii.a2b_base64(clean + b"=" * (-len(clean) % 4))
    except binascii.Error:
        return b""


def _raw_header_text(value: str, hint: str | None, notes: list[str] | None) -> str:
    """A header piece that may carry raw 8-bit bytes (as surrogate escapes from compat32)."""
    if value.isascii():
        return value
    try:
        data = value.encode("ascii", "surrogateescape")
    except UnicodeEncodeError:  # already real text (str input from a caller)
        return value
    text = _try(data, "utf-8")
    if text is not None:
        return repair_double_encoding(text) or text
    if b"\x80" in data:
        text = _try(data.replace(b"\x80", b" "), "utf-8")
        if text is not None:
            if notes is not None:
                notes.append(f"raw 8-bit header: {NUL_AS_0X80}")
            return text
    codec = codec_for(hint)
    used = codec or ""
    text = _try(data, codec) if codec and codec not in _LATIN_CODECS else None
    if text is None:
        text, used = guess_decode(data)
    if notes is not None:
        notes.append(f"raw 8-bit header decoded as {used}")
    return text


def decode_header_value(
    value: str | None, hint: str | None = None, notes: list[str] | None = None
) -> str:
    """Unfold and decode a raw header value (RFC 2047 words, raw 8-bit bytes); never raises.

    Adjacent encoded words in the same charset are joined before decoding, so a multibyte
    character split across two words survives. Control characters become spaces.
    """
    if not value:
        return ""
    value = _FOLD.sub("", value)
    if "=?" not in value:
        return _no_control(_raw_header_text(value, hint, notes), notes)
    value = _BLANK_BETWEEN_WORDS.sub("?=", value)
    out: list[str] = []
    pending: list[bytes] = []
    pending_label: str | None = None
    pos = 0

    def flush() -> None:
        nonlocal pending, pending_label
        if pending:
            text, note = decode_text(b"".join(pending), pending_label)
            out.append(text)
            if note and notes is not None:
                notes.append(f"header: {note}")
        pending, pending_label = [], None

    for m in _ENCODED_WORD.finditer(value):
        if m.start() > pos:
            flush()
            out.append(_raw_header_text(value[pos : m.start()], hint, notes))
        label = m.group(1).split("*", 1)[0]
        if pending and label.lower() != (pending_label or "").lower():
            flush()
        pending_label = label
        pending.append(_word_bytes(m.group(2), m.group(3)))
        pos = m.end()
    flush()
    out.append(_raw_header_text(value[pos:], hint, notes))
    return _no_control(("".join(out)), notes)


CONTROL_NOTE = "control characters in a header (read as spaces)"


def _no_control(text: str, notes: list[str] | None) -> str:
    """Control characters (NUL, CR, LF ...) as spaces; noted when `notes` is given."""
    if notes is None:
        return _CONTROL.sub(" ", text).strip()
    text, n = _CONTROL.subn(" ", text)
    if n:
        notes.append(CONTROL_NOTE)
    return text.strip()
