"""Domain helpers: registrable ("organisation") domains from the bundled Public Suffix List.

Offline: publicsuffixlist ships its copy of the list; nothing is fetched at run time.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from publicsuffixlist import PublicSuffixList

_IP = re.compile(r"^\[?[0-9.:]+\]?$")


@lru_cache(maxsize=1)
def _psl() -> PublicSuffixList:
    # Without the punycoded copy of every rule the list loads 3x faster (10 ms): ACE labels
    # (xn--) are turned into Unicode before a look-up instead (see _unicode).
    return PublicSuffixList(accept_encoded_idn=False)


def _unicode(domain: str) -> str:
    if "xn--" not in domain:
        return domain
    try:
        return domain.encode("ascii").decode("idna")
    except UnicodeError:
        return domain


def _ace(domain: str) -> str:
    if domain.isascii():
        return domain
    try:
        return domain.encode("idna").decode("ascii")
    except UnicodeError:
        return domain


def is_public_suffix(domain: str) -> bool:
    """co.uk, com.au, github.io ...: a suffix under which anybody can register a name."""
    return bool(_psl().is_public(_unicode(domain.lower())))


@lru_cache(maxsize=65536)
def org_domain(domain: str | None) -> str | None:
    """birch.co.uk for mail.birch.co.uk; the domain itself when no rule fits; None for junk."""
    if not domain:
        return None
    d = domain.strip().strip(".").lower()
    if not d or ".." in d or _IP.match(d):
        return d or None
    if "xn--" in d:
        org = _psl().privatesuffix(_unicode(d))
        return _ace(org) if org else d
    return _psl().privatesuffix(d) or d


def domain_of(email: str) -> str | None:
    _, at, dom = email.rpartition("@")
    return dom.lower() if at and dom else None


def parents(domain: str) -> Iterable[str]:
    """mail.eu.birch.co.uk -> itself, eu.birch.co.uk, birch.co.uk (stops at the org domain)."""
    org = org_domain(domain) or domain
    labels = domain.split(".")
    for i in range(len(labels)):
        candidate = ".".join(labels[i:])
        yield candidate
        if candidate == org:
            return


def in_domains(domain: str | None, domains: frozenset[str] | set[str]) -> bool:
    """True when `domain` is one of `domains` or a subdomain of one."""
    if not domain or not domains:
        return False
    labels = domain.split(".")
    return any(".".join(labels[i:]) in domains for i in range(len(labels)))


# Words that company domains run together ("goldengateoutdoorliving"). A short list on
# purpose: a general English model (wordsegment: 12 MB, 0.5 s and 100 MB to load) split
# "goldengateoutdoorliving" as "goldengate outdoorliving" and non-English names into
# nonsense ("waldhausmoebel" -> "waldhaus mo ebel"); a name guessed wrong is worse than the
# domain itself.
_WORDS = frozenset(
    """
    a and the of co my our your new best big good great top prime first one royal crown king
    golden gold silver blue green red white black grey gray star sun sunrise sunset moon sky
    north south east west nordic euro asia pacific atlantic global world international intl
    city urban country coast lake river mountain valley bay harbor harbour ocean sea island
    home homes house living life lifestyle style styles design designs decor interior
    interiors furniture furnishings outdoor outdoors garden gardens patio leisure comfort
    wood woods oak pine teak bamboo timber stone steel metal glass textile textiles fabric
    fabrics linen cotton leather light lights lighting lamp lamps bed beds bath kitchen table
    tables chair chairs sofa sofas rug rugs carpet office hotel project projects contract
    studio studios works craft crafts art arts concept concepts space spaces room rooms
    trade trading traders import imports export exports supply supplies sourcing source
    group holding holdings industries industry industrial company corp systems solutions
    services logistics shipping freight partners brothers bros sons family store stores shop
    shops mart market markets retail wholesale direct online depot outlet gate gates bridge
    buy sale sales deal deals
    tree trees leaf park field fields hill hills rock rocks land lands
    """.split()
)
_MAX_WORD = max(len(w) for w in _WORDS)


def split_words(label: str) -> list[str] | None:
    """`label` as the words it runs together ("goldengateoutdoorliving" -> golden gate outdoor
    living), allowing one word not in the list, of at least 3 letters and no longer than the
    rest ("lumenfurniture" -> lumen furniture); None when it cannot be split that way."""
    n = len(label)
    # best[i]: (unknown words, their letters, words) of the best split of label[:i], and
    # where its last word starts
    best: list[tuple[int, int, int, int] | None] = [None] * (n + 1)
    best[0] = (0, 0, 0, 0)
    for i in range(1, n + 1):
        for j in range(max(0, i - max(_MAX_WORD, n)), i):
            prev = best[j]
            if prev is None:
                continue
            piece = label[j:i]
            known = piece in _WORDS and (len(piece) > 1 or piece == "a")
            if not known and len(piece) < 3:
                continue
            unknown = 0 if known else 1
            cand = (prev[0] + unknown, prev[1] + unknown * len(piece), prev[2] + 1, j)
            if best[i] is None or cand[:3] < best[i][:3]:  # type: ignore[index]
                best[i] = cand
    end = best[n]
    # More letters in the word not in the list than in those that are: a guess too far
    # ("parkersons" is not "park ersons").
    if end is None or end[0] > 1 or end[2] < 2 or end[1] * 2 > n:
        return None
    words: list[str] = []
    i = n
    while i > 0:
        j = best[i][3]  # type: ignore[index]
        words.append(label[j:i])
        i = j
    words.reverse()
    if any(len(w) == 1 for w in (words[0], words[-1])):
        return None  # "a" at an end is a guess too far ("sofaa", "asofa")
    return words


# A run-together label longer than this that cannot be split is named by its domain.
_LONGEST_ONE_WORD = 12


def name_from_domain(domain: str) -> str:
    """A readable company name guess: lumen-furniture.com -> Lumen Furniture,
    goldengateoutdoorliving.com -> Golden Gate Outdoor Living; a long label that cannot be
    split into words keeps the domain (xinhuajiajuyongpin.com), rather than one long
    capitalised word."""
    org = org_domain(domain) or domain
    label = org.split(".")[0]
    words: list[str] = []
    for part in re.split(r"[-_]+", label):
        if not part:
            continue
        if len(part) <= 8 or part in _WORDS or not part.isalpha():
            words.append(part)
            continue
        split = split_words(part)
        if split is None and len(part) > _LONGEST_ONE_WORD:
            return org
        words += split or [part]
    return (
        " ".join(
            w if i and w in _SMALL_WORDS else w[:1].upper() + w[1:] for i, w in enumerate(words)
        )
        or org
    )


_SMALL_WORDS = frozenset({"a", "and", "of", "the"})


# two-letter top-level domains sold to anyone as generic names: no country
_VANITY_CC = frozenset("io co me tv ai ly fm am cc ws to gg im sh so vc la nu tk ac".split())


def country_of(domain: str | None) -> str | None:
    """The country of a domain's country-code top-level domain, from its public suffix:
    birch.de -> DE, shop.birch.com.au -> AU, minghui.cn -> CN, birch.co.uk -> GB; None for
    .com, .org and the two-letter domains sold as generic names (.io, .co, .ai, ...)."""
    if not domain or _IP.match(domain):
        return None
    suffix = _psl().publicsuffix(_unicode(domain.strip(".").lower())) or ""
    tld = suffix.rpartition(".")[2]
    if len(tld) != 2 or not tld.isascii() or not tld.isalpha() or tld in _VANITY_CC:
        return None
    return {"uk": "GB", "el": "GR"}.get(tld, tld.upper())
