"""How the time of `sync` and `customers` grows with the number of customers in
customers.yaml (issue 19.9: loading and matching rules must cost no worse than linearly).

    python bench/customers_scale.py [--customers 5000 50000] [--messages 2000]

For each size: a fresh config whose customers.yaml lists N customers (each a domain and a
freemail address), a local Maildir of --messages messages from addresses spread over those
customers, then, as separate processes as the rep runs them: `mailkeeper check --offline`,
the first `mailkeeper sync`, and `mailkeeper customers --json`. Prints one line per size with
the wall times and the per-customer cost; the README quotes the figures for 5,000 and 50,000.
"""

from __future__ import annotations

import argparse
import email.utils
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ME = "amy@lumen-furniture.com"


def customers_yaml(n: int) -> str:
    lines = ["customers:"]
    for i in range(n):
        lines += [
            f"  - name: Customer {i}",
            f"    domains: [c{i}.example.com]",
            f"    addresses: [buyer{i}@gmail.com]",
            f"    tier: {'ABC'[i % 3]}",
        ]
    return "\n".join(lines) + "\n"


def maildir(root: Path, n_customers: int, messages: int) -> None:
    """INBOX: mail from customers (by domain and by freemail address) and from companies not
    in customers.yaml; Sent: the rep's answers to both, so discovery has work to do."""
    sent = root / ".Sent"
    for folder in (root, sent):
        for sub in ("cur", "new", "tmp"):
            (folder / sub).mkdir(parents=True, exist_ok=True)
    (sent / "maildirfolder").touch()
    for i in range(messages):
        c = (i * 7919) % n_customers
        if i % 4 == 3:
            sender = f"p{i}@new{i % 200}.example.org"  # a company to discover
        else:
            sender = f"p{i}@c{c}.example.com" if i % 2 else f"buyer{c}@gmail.com"
        date = email.utils.formatdate(1_790_000_000 + i * 60)
        raw = (
            f"From: Person {i} <{sender}>\r\nTo: {ME}\r\nSubject: order {i}\r\n"
            f"Date: {date}\r\nMessage-ID: <m{i}@bench.example>\r\n\r\nHello {i}\r\n"
        )
        (root / "cur" / f"{1_790_000_000 + i}.M{i}.bench:2,S").write_text(raw)
        answer = (
            f"From: {ME}\r\nTo: {sender}\r\nSubject: Re: order {i}\r\n"
            f"Date: {date}\r\nMessage-ID: <r{i}@bench.example>\r\n"
            f"In-Reply-To: <m{i}@bench.example>\r\n\r\nThanks\r\n"
        )
        (sent / "cur" / f"{1_790_000_000 + i}.R{i}.bench:2,S").write_text(answer)


def config(folder: Path, mail: Path, n: int) -> Path:
    subprocess.run(
        [sys.executable, "-m", "mailkeeper", "init", "--dir", str(folder)],
        check=True,
        capture_output=True,
        env=_env(),
    )
    (folder / "rules" / "customers.yaml").write_text(customers_yaml(n))
    cfg = folder / "mailkeeper.yaml"
    cfg.write_text(
        textwrap.dedent(
            f"""\
            me:
              name: Amy Chen
              addresses: [{ME}]
              company_domains: [lumen-furniture.com]
            timezone: Asia/Shanghai
            database: ./mailkeeper.db
            rules: ./rules
            templates: ./templates
            accounts:
              work:
                maildir: {mail}
            """
        )
    )
    cfg.chmod(0o600)
    return cfg


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def timed(cfg: Path, *args: str) -> float:
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "mailkeeper", "--config", str(cfg), *args],
        check=True,
        capture_output=True,
        env=_env(),
    )
    return time.perf_counter() - start


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--customers", type=int, nargs="+", default=[5000, 50000])
    ap.add_argument("--messages", type=int, default=2000)
    args = ap.parse_args()
    print(f"{'customers':>10} {'check':>8} {'sync':>8} {'customers':>10}  sync per 1,000 customers")
    with tempfile.TemporaryDirectory(prefix="mk-scale-") as tmp:
        for n in args.customers:
            root = Path(tmp) / str(n)
            maildir(root / "Maildir", n, args.messages)
            cfg = config(root / "cfg", root / "Maildir", n)
            check = timed(cfg, "check", "--offline")
            sync = timed(cfg, "sync")
            listing = timed(cfg, "customers", "--json")
            print(
                f"{n:>10,} {check:>7.1f}s {sync:>7.1f}s {listing:>9.1f}s  {sync / n * 1000:.2f} s"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
