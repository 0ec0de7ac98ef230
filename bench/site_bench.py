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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--config", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--as-of", default=None, help="ISO date or time (default: now)")
    args = ap.parse_args()
    as_of = datetime.fromisoformat(args.as_of).replace(tzinfo=UTC) if args.as_of else None
    with App.from_config(args.config) as app:
        app.scan(as_of)  # the scan is the daily pass's, not the site's: timed apart
        t0, c0 = time.perf_counter(), resource.getrusage(resource.RUSAGE_SELF).ru_utime
        r = app.report(args.out, as_of)
        wall = time.perf_counter() - t0
        cpu = resource.getrusage(resource.RUSAGE_SELF).ru_utime - c0
        customers = len(app.customers())
        messages = app.store.mail.message_count()
    print(json.dumps({"customers": customers, "messages": messages, "pages": r["pages"],
                      "seconds": round(wall, 2), "cpu_seconds": round(cpu, 2),
                      "megabytes": round(r["bytes"] / 1e6, 1)}))  # fmt: skip


if __name__ == "__main__":
    main()
