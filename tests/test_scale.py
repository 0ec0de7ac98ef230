"""Many customers: loading customers.yaml and linking cost no worse than linearly in the
number of customers (issue 19.9; figures: bench/customers_scale.py, README)."""

from __future__ import annotations

import time
from pathlib import Path

from conftest import ME, MaildirBox, make_mail

from mailkeeper.app import App


def _customers(n: int) -> str:
    return "customers:\n" + "".join(
        f"  - name: Customer {i}\n    domains: [c{i}.example.com]\n    tier: B\n" for i in range(n)
    )


def test_discovery_with_30000_customers_is_not_quadratic(tmp_path: Path) -> None:
    """Discovery named each customer's domains by walking the whole domain map once per
    customer: with 30,000 customers ~25 s of a sync (900 million steps). Linear, the
    whole sync takes a few seconds; the bound leaves room for a busy machine."""
    box = MaildirBox(tmp_path / "Maildir")
    for i in range(20):  # companies not in customers.yaml, mail both ways: discovered
        box.deliver("INBOX", make_mail(f"p{i}@oak{i}-trading.de", ME, f"RFQ {i}"))
        box.deliver("Sent", make_mail(ME, f"p{i}@oak{i}-trading.de", f"Re: RFQ {i}"))
    box.deliver("INBOX", make_mail("p@c7.example.com", ME, "known"))
    cfg = box.config(tmp_path / "cfg", _customers(30_000))
    with App.from_config(cfg) as app:
        start = time.perf_counter()
        app.sync()
        took = time.perf_counter() - start
        names = {c["name"] for c in app.customers()}
    assert any("Oak0" in n for n in names), sorted(names)[-5:]
    assert took < 12, f"sync with 30,000 customers took {took:.1f} s"
