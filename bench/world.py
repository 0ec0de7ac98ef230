"""The generated world of an export sales rep: her company, customers, contacts, colleagues.

Everything derives from one seed, so the same seed always gives the same world, and a
later batch of "new" messages (another seed offset) lands in the same world.
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass, field
from pathlib import Path

ME_NAME = "Amy Chen"
ME_ADDR = "amy@lumen-furniture.com"
MY_DOMAIN = "lumen-furniture.com"
MY_COMPANY = "Lumen Furniture Co., Ltd."

# GBK-only characters (absent from GB2312), common in given names: a message labelled
# gb2312 that contains one of them breaks naive decoders.
GBK_ONLY = "喆堃祎玥珺昇镕琍翀淼"


@dataclass(frozen=True)
class Country:
    code: str
    tld: str
    legal: tuple[str, ...]
    tz_minutes: int
    language: str  # "en" or "zh"
    names: str  # key into NAMES


COUNTRIES: tuple[Country, ...] = (
    Country("GB", "co.uk", ("Ltd", "Limited"), 0, "en", "en"),
    Country("AU", "com.au", ("Pty Ltd",), 600, "en", "en"),
    Country("DE", "de", ("GmbH", "GmbH & Co. KG"), 60, "en", "de"),
    Country("BR", "com.br", ("Ltda", "S.A."), -180, "en", "pt"),
    Country("US", "com", ("Inc.", "LLC"), -300, "en", "en"),
    Country("CA", "ca", ("Inc.", "Ltd"), -300, "en", "en"),
    Country("FR", "fr", ("SARL", "SAS"), 60, "en", "fr"),
    Country("IT", "it", ("S.r.l.", "S.p.A."), 60, "en", "it"),
    Country("ES", "es", ("S.L.",), 60, "en", "es"),
    Country("NL", "nl", ("B.V.",), 60, "en", "nl"),
    Country("SE", "se", ("AB",), 60, "en", "nl"),
    Country("PL", "pl", ("Sp. z o.o.",), 60, "en", "de"),
    Country("AE", "ae", ("LLC", "FZE"), 240, "en", "ar"),
    Country("SA", "com.sa", ("Co.",), 180, "en", "ar"),
    Country("ZA", "co.za", ("(Pty) Ltd",), 120, "en", "en"),
    Country("IN", "co.in", ("Pvt Ltd",), 330, "en", "in"),
    Country("NZ", "co.nz", ("Ltd",), 720, "en", "en"),
    Country("MX", "com.mx", ("S.A. de C.V.",), -360, "en", "es"),
    Country("CL", "cl", ("SpA",), -240, "en", "es"),
    Country("SG", "com.sg", ("Pte Ltd",), 480, "zh", "zh"),
    Country("MY", "com.my", ("Sdn Bhd",), 480, "zh", "zh"),
    Country("HK", "com.hk", ("Limited",), 480, "zh", "zh"),
    Country("TW", "com.tw", ("Co., Ltd.",), 480, "zh", "zh"),
    Country("JP", "co.jp", ("K.K.",), 540, "en", "jp"),
    Country("KR", "co.kr", ("Co., Ltd.",), 540, "en", "kr"),
)
COUNTRY_WEIGHTS = (14, 10, 8, 6, 14, 4, 4, 4, 4, 4, 2, 3, 5, 3, 3, 4, 2, 3, 2, 4, 3, 4, 3, 2, 2)

NAMES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "en": (
        (
            "Tom",
            "Sarah",
            "James",
            "Emma",
            "Oliver",
            "Lucy",
            "Daniel",
            "Kate",
            "Mark",
            "Helen",
            "Peter",
            "Rachel",
            "Steve",
            "Laura",
            "Chris",
            "Megan",
            "Paul",
            "Jessica",
            "Ryan",
            "Zoe",
        ),
        (
            "Birch",
            "Smith",
            "Walker",
            "Hughes",
            "Turner",
            "Clarke",
            "Bennett",
            "Fletcher",
            "Morgan",
            "Reid",
            "Hayes",
            "Foster",
            "Gray",
            "Palmer",
            "Lawson",
            "Doyle",
        ),
    ),
    "de": (
        ("Jonas", "Anna", "Lukas", "Katrin", "Felix", "Sabine", "Matthias", "Julia", "Tobias"),
        ("Müller", "Schneider", "Fischer", "Weber", "Becker", "Hoffmann", "Krüger", "Wagner"),
    ),
    "pt": (
        ("João", "Mariana", "Rafael", "Beatriz", "Lucas", "Fernanda", "Thiago", "Camila"),
        ("Silva", "Santos", "Oliveira", "Souza", "Lima", "Gonçalves", "Araújo", "Ribeiro"),
    ),
    "fr": (
        ("Julien", "Camille", "Nicolas", "Chloé", "Antoine", "Léa", "Mathieu", "Élodie"),
        ("Martin", "Dubois", "Lefèvre", "Moreau", "Laurent", "Girard", "Rousseau"),
    ),
    "it": (
        ("Marco", "Giulia", "Luca", "Francesca", "Matteo", "Chiara", "Davide"),
        ("Rossi", "Bianchi", "Romano", "Colombo", "Ricci", "Marino", "Greco"),
    ),
    "es": (
        ("Carlos", "Lucía", "Javier", "Sofía", "Diego", "Valentina", "Andrés", "Paula"),
        ("García", "Martínez", "López", "Sánchez", "Pérez", "Gómez", "Fernández"),
    ),
    "nl": (
        ("Daan", "Sanne", "Lars", "Eva", "Sven", "Ingrid", "Pieter", "Maaike"),
        ("de Vries", "Jansen", "Bakker", "Visser", "Lindqvist", "Berg", "Andersson"),
    ),
    "ar": (
        ("Ahmed", "Omar", "Fatima", "Khalid", "Layla", "Yousef", "Mona"),
        ("Al Mansouri", "Haddad", "Nasser", "Khoury", "Al Farsi", "Saleh"),
    ),
    "in": (
        ("Rahul", "Priya", "Amit", "Neha", "Vikram", "Anjali", "Sanjay"),
        ("Sharma", "Patel", "Gupta", "Mehta", "Reddy", "Iyer", "Kapoor"),
    ),
    "jp": (
        ("Kenji", "Yuki", "Hiroshi", "Aiko", "Takeshi", "Naomi"),
        ("Tanaka", "Sato", "Suzuki", "Watanabe", "Ito", "Nakamura"),
    ),
    "kr": (
        ("Minjun", "Jiwoo", "Seojun", "Hana", "Dongho", "Sujin"),
        ("Kim", "Lee", "Park", "Choi", "Jung", "Kang"),
    ),
    "zh": (
        (
            "伟",
            "芳",
            "敏",
            "静",
            "磊",
            "婷",
            "强",
            "丽",
            "军",
            "洋",
            "杰",
            "娟",
            "喆",
            "堃",
            "祎",
            "玥",
            "珺",
            "昇",
        ),
        ("王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "林", "郭"),
    ),
}
PINYIN = {
    "伟": "wei",
    "芳": "fang",
    "敏": "min",
    "静": "jing",
    "磊": "lei",
    "婷": "ting",
    "强": "qiang",
    "丽": "li",
    "军": "jun",
    "洋": "yang",
    "杰": "jie",
    "娟": "juan",
    "喆": "zhe",
    "堃": "kun",
    "祎": "yi",
    "玥": "yue",
    "珺": "jun",
    "昇": "sheng",
    "王": "wang",
    "李": "li",
    "张": "zhang",
    "刘": "liu",
    "陈": "chen",
    "杨": "yang",
    "黄": "huang",
    "赵": "zhao",
    "吴": "wu",
    "周": "zhou",
    "徐": "xu",
    "孙": "sun",
    "林": "lin",
    "郭": "guo",
}

NAME_PREFIX = (
    "Birch",
    "Oakline",
    "Nordic",
    "Atlas",
    "Harbor",
    "Summit",
    "Willow",
    "Cedar",
    "Maple",
    "Aurora",
    "Crown",
    "Pioneer",
    "Meridian",
    "Coastal",
    "Evergreen",
    "Sterling",
    "Granite",
    "Bluebell",
    "Redwood",
    "Kingsway",
    "Orchid",
    "Lotus",
    "Falcon",
    "Vista",
    "Prime",
    "Urban",
    "Heritage",
    "Silverline",
    "Golden Gate",
    "Riverside",
    "Alpine",
    "Horizon",
    "Zenith",
    "Solace",
    "Brightwood",
    "Hearth",
    "Ironbark",
    "Northgate",
    "Tidewater",
    "Highland",
    "Crescent",
    "Juniper",
    "Ashford",
    "Beacon",
    "Cobalt",
)
NAME_SUFFIX = (
    "Interiors",
    "Home",
    "Furnishings",
    "Trading",
    "Living",
    "Contract Furniture",
    "Hospitality Supply",
    "Machinery",
    "Office Solutions",
    "Imports",
    "Design",
    "Woodworks",
    "Retail Group",
    "Distribution",
    "Outdoor Living",
    "Projects",
)
ZH_COMPANY = ("家居", "贸易", "家具", "实业", "国际贸易", "装饰", "酒店用品")
ZH_PREFIX = ("宏达", "新华", "金桥", "华美", "鸿运", "永盛", "嘉禾", "恒丰", "瑞祥", "富林")


@dataclass(frozen=True)
class Person:
    name: str  # display name, may be Chinese
    email: str
    language: str
    tz_minutes: int


@dataclass
class Company:
    index: int
    name: str
    domain: str
    country: str
    language: str
    tier: str
    tz_minutes: int
    contacts: list[Person] = field(default_factory=list)
    listed: bool = True  # in the first customers.yaml (the rest are "discovered")
    weight: float = 1.0  # how much mail the account generates


@dataclass
class World:
    seed: int
    companies: list[Company]
    freemail: list[tuple[Person, int | None]]  # (person, company index or None)
    colleagues: list[Person]
    newsletters: list[tuple[str, str, str]]  # (display name, address, list id)

    def company_weights(self) -> list[float]:
        return [c.weight for c in self.companies]


def _slug(text: str) -> str:
    text = text.lower().replace("&", "and")
    for a, b in (
        ("ä", "a"),
        ("ö", "o"),
        ("ü", "u"),
        ("é", "e"),
        ("è", "e"),
        ("ç", "c"),
        ("ã", "a"),
        ("í", "i"),
        ("ó", "o"),
        ("á", "a"),
    ):
        text = text.replace(a, b)
    return re.sub(r"[^a-z0-9]+", "", text)


def _ascii_name(name: str) -> str:
    if any(ch in PINYIN for ch in name):
        return "".join(PINYIN.get(ch, "") for ch in name[1:]) + "." + PINYIN.get(name[0], "x")
    return _slug(name.split()[0]) + "." + _slug(name.split()[-1])


def _person_name(rng: random.Random, names: str) -> str:
    first, last = NAMES[names]
    if names == "zh":
        given = rng.choice(first) + (rng.choice(first) if rng.random() < 0.4 else "")
        return rng.choice(last) + given
    return f"{rng.choice(first)} {rng.choice(last)}"


def _email_local(rng: random.Random, name: str) -> str:
    base = _ascii_name(name)
    first, _, last = base.partition(".")
    pattern = rng.random()
    if pattern < 0.45:
        return f"{first}.{last}"
    if pattern < 0.7:
        return first
    if pattern < 0.85:
        return f"{first[:1]}{last}"
    return rng.choice(("purchasing", "sales", "info", "import", "buyer", "procurement"))


def _company_name(rng: random.Random, country: Country, names: set[str]) -> tuple[str, str]:
    """(unique display name, domain stem)."""
    while True:
        if country.language == "zh" and rng.random() < 0.5:
            name = f"{rng.choice(ZH_PREFIX)}{rng.choice(ZH_COMPANY)}有限公司"
            stem = f"{rng.choice(NAME_PREFIX)}{rng.choice(('home', 'trading', 'deco', 'living'))}"
        else:
            legal = rng.choice(country.legal)
            name = f"{rng.choice(NAME_PREFIX)} {rng.choice(NAME_SUFFIX)} {legal}"
            stem = name.rsplit(" ", 1)[0] if rng.random() < 0.5 else name.split()[0]
        if name not in names:
            names.add(name)
            return name, stem


def _company(rng: random.Random, index: int, used: set[str], names: set[str]) -> Company:
    country = rng.choices(COUNTRIES, weights=COUNTRY_WEIGHTS)[0]
    name, stem = _company_name(rng, country, names)
    domain = f"{_slug(stem)}.{country.tld}"
    n = 2
    while domain in used:
        domain = f"{_slug(stem)}{n}.{country.tld}"
        n += 1
    used.add(domain)
    tier = rng.choices(("A", "B", "C"), weights=(15, 35, 50))[0]
    weight = {"A": 6.0, "B": 2.5, "C": 1.0}[tier] * rng.uniform(0.5, 1.5)
    company = Company(
        index,
        name,
        domain,
        country.code,
        country.language,
        tier,
        country.tz_minutes,
        listed=rng.random() >= 0.1,
        weight=weight,
    )
    locals_used: set[str] = set()
    for _ in range(rng.choices((1, 2, 3, 4, 5), weights=(25, 30, 25, 12, 8))[0]):
        pname = _person_name(rng, country.names)
        local = _email_local(rng, pname)
        if local in locals_used:
            local = f"{local}{len(locals_used)}"
        locals_used.add(local)
        lang = country.language if country.names == "zh" else "en"
        company.contacts.append(Person(pname, f"{local}@{domain}", lang, country.tz_minutes))
    return company


def _freemail(rng: random.Random, companies: list[Company]) -> list[tuple[Person, int | None]]:
    out: list[tuple[Person, int | None]] = []
    used: set[str] = set()
    names = {c.name for c in companies}
    for i in range(90):
        provider = rng.choices(("gmail.com", "qq.com", "163.com"), weights=(50, 30, 20))[0]
        zh = provider != "gmail.com"
        pname = _person_name(rng, "zh" if zh else rng.choice(("en", "es", "ar", "in")))
        while pname in names:  # a customer name is used once in customers.yaml
            pname = _person_name(rng, "zh" if zh else rng.choice(("en", "es", "ar", "in")))
        names.add(pname)
        if provider == "qq.com" and rng.random() < 0.5:
            local = str(rng.randint(10_000_000, 2_999_999_999))
        else:
            local = _ascii_name(pname).replace(".", rng.choice((".", "_", ""))) + (
                str(rng.randint(1, 99)) if rng.random() < 0.5 else ""
            )
        while local in used:
            local += str(i)
        used.add(local)
        tz = 480 if zh else rng.choice((0, -300, 60, 240, 330))
        owner = rng.randrange(len(companies)) if rng.random() < 0.3 else None
        out.append((Person(pname, f"{local}@{provider}", "zh" if zh else "en", tz), owner))
    return out


COLLEAGUES = (
    ("David Wang", "david.wang", "en"),
    ("Lily Zhao", "lily.zhao", "en"),
    ("Kevin Liu", "qc", "en"),
    ("孙桂英", "finance", "zh"),
    ("马建国", "jason.ma", "zh"),
    ("Sophie Lin", "sophie.lin", "en"),
    ("Shipping Dept", "shipping", "en"),
    ("王总", "ceo", "zh"),
)

NEWSLETTERS = (
    ("Canton Fair Digest", "news@mail.cantonfair-digest.com", "digest.cantonfair-digest.com"),
    (
        "Furniture Today Weekly",
        "newsletter@furnituretoday-weekly.com",
        "weekly.furnituretoday-weekly.com",
    ),
    ("Freightos Rate Alerts", "alerts@rates.freight-index.net", "rates.freight-index.net"),
    ("Alibaba.com", "service@notice.alibaba-b2b.com", "notice.alibaba-b2b.com"),
    ("LinkedIn", "messages-noreply@linkedin-mail.com", "digest.linkedin-mail.com"),
    ("中国家具协会", "info@cnfa-news.org.cn", "news.cnfa-news.org.cn"),
)


def build_world(seed: int, companies: int = 300) -> World:
    rng = random.Random(f"world-{seed}")
    used: set[str] = set()
    names: set[str] = set()
    comps = [_company(rng, i, used, names) for i in range(companies)]
    colleagues = [Person(n, f"{local}@{MY_DOMAIN}", lang, 480) for n, local, lang in COLLEAGUES]
    return World(seed, comps, _freemail(rng, comps), colleagues, list(NEWSLETTERS))


# ----------------------------------------------------------------------- customers.yaml


def _q(text: str) -> str:
    """A YAML double-quoted scalar (JSON strings are valid YAML)."""
    return json.dumps(text, ensure_ascii=False)


def customers_yaml(world: World, variant: int = 0) -> str:
    """rules/customers.yaml for the world. variant 1 is "after the rep edited it":
    the unlisted companies are added, a tenth of the tiers change, and the freemail
    contacts of companies move into those companies' entries."""
    rng = random.Random(f"customers-{world.seed}-{variant}")
    by_company: dict[int, list[str]] = {}
    loners: list[Person] = []
    for person, owner in world.freemail:
        if owner is None:
            loners.append(person)
        else:
            by_company.setdefault(owner, []).append(person.email)
    lines = ["# written by bench/generate.py: the generated world's customers", "customers:"]
    for c in world.companies:
        if not c.listed and variant == 0:
            continue
        tier = c.tier
        if variant and rng.random() < 0.1:
            tier = rng.choice([t for t in "ABC" if t != tier])
        lines += [f"  - name: {_q(c.name)}", f"    domains: [{c.domain}]"]
        if variant and c.index in by_company:
            lines.append(f"    addresses: [{', '.join(by_company[c.index])}]")
        lines += [f"    tier: {tier}", f"    language: {c.language}"]
    for person in loners:
        lines += [
            f"  - name: {_q(person.name)}",
            f"    addresses: [{person.email}]",
            "    tier: C",
            f"    language: {person.language}",
        ]
    lines += ["ignore:", "  domains:"]
    lines += [f"    - {addr.split('@')[1]}" for _, addr, _ in world.newsletters]
    return "\n".join(lines) + "\n"


def write_customers_yaml(world: World, path: Path, variant: int = 0) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(customers_yaml(world, variant), encoding="utf-8")
