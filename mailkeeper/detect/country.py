"""A customer's country: customers.yaml `country:`, else the country-code top-level domain of
its own domains and people (.de, .com.au, .cn), else a guess from its mail.

Pure. The guess takes the national freemail services its people write from (web.de,
yahoo.com.au, qq.com) and, weakest, the language of their mail: German mail may come from
Austria, English from anywhere, so language alone only decides when nothing else does.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from mailkeeper.domains import country_of, domain_of

# national freemail services whose domain has no country code
_NATIONAL_FREEMAIL = {
    "qq.com": "CN", "163.com": "CN", "126.com": "CN", "sina.com": "CN", "sohu.com": "CN",
    "aliyun.com": "CN", "yeah.net": "CN", "139.com": "CN", "naver.com": "KR",
    "daum.net": "KR", "rediffmail.com": "IN", "gmx.net": "DE", "t-online.de": "DE",
}  # fmt: skip
# a language spoken mainly in one country (a weak hint: the last resort)
_LANGUAGE_HINT = {
    "zh": "CN", "ja": "JP", "ko": "KR", "de": "DE", "fr": "FR", "it": "IT", "pl": "PL",
    "nl": "NL", "sv": "SE", "da": "DK", "fi": "FI", "tr": "TR", "vi": "VN", "th": "TH",
    "cs": "CZ", "hu": "HU", "el": "GR", "he": "IL", "id": "ID", "uk": "UA",
}  # fmt: skip


def customer_country(
    configured: str | None,
    domains: Iterable[str],
    addresses: Iterable[str],
    language: str | None,
    is_freemail: Callable[[str], bool],
) -> tuple[str | None, str | None]:
    """(country, where it came from: configured | domain | guessed), or (None, None)."""
    if configured:
        return configured, "configured"
    addresses = list(addresses)
    own = [d for d in domains] + [
        d for d in (domain_of(a) for a in addresses) if d and not is_freemail(d)
    ]
    votes = Counter(c for c in map(country_of, own) if c)
    if votes:
        return votes.most_common(1)[0][0], "domain"
    free = [d for d in (domain_of(a) for a in addresses) if d and is_freemail(d)]
    votes = Counter(c for c in (_NATIONAL_FREEMAIL.get(d) or country_of(d) for d in free) if c)
    if votes:
        return votes.most_common(1)[0][0], "guessed"
    hint = _LANGUAGE_HINT.get((language or "").split("-")[0])
    return (hint, "guessed") if hint else (None, None)


def countries(store: Any, rules: Any) -> dict[int, tuple[str | None, str | None]]:
    """customer id -> (country, source) for every customer in the store."""
    book = store.customers.address_book()
    out = {}
    for cid, name, _status in store.customers.by_status():
        rule = rules.customer(name)
        domains, addresses = book.get(cid, ([], []))
        language = (rule.language if rule is not None and rule.language_given else None) or (
            store.activity.customer_language(cid)
        )
        out[cid] = customer_country(
            rule.country if rule is not None else None, domains, addresses, language,
            rules.is_freemail,
        )  # fmt: skip
    return out
