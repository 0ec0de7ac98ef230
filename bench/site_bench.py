"""Time `mailkeeper report` on an existing mailkeeper.yaml and its synced database (e.g. one
bench/run.py built from bench/generate.py's mailbox): seconds, CPU seconds, bytes written.

    python bench/site_bench.py --config /tmp/bench/mailkeeper.yaml --out /tmp/site
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from datetime import UTC, datetime
from pathlib import Path

from mailkeeper.app import App


def _cpu() -> float:
    """User + system CPU seconds of this process and its finished children (the page workers)."""
    me, kids = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--config", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--as-of", default=None, help="ISO date or time (default: now)")
    ap.add_argument("--workers", type=int, default=None, help="page processes (default: cores)")
    args = ap.parse_args()
    as_of = datetime.fromisoformat(args.as_of).replace(tzinfo=UTC) if args.as_of else None
    with App.from_config(args.config) as app:
        app.scan(as_of)  # the scan is the daily pass's, not the site's: timed apart
        t0, c0 = time.perf_counter(), _cpu()
        r = app.report(args.out, as_of, workers=args.workers)
        wall = time.perf_counter() - t0
        cpu = _cpu() - c0
        customers = len(app.customers())
        messages = app.store.mail.message_count()
    print(json.dumps({"customers": customers, "messages": messages, "pages": r["pages"],
                      "seconds": round(wall, 2), "cpu_seconds": round(cpu, 2),
                      "megabytes": round(r["bytes"] / 1e6, 1)}))  # fmt: skip


if __name__ == "__main__":
    main()
