"""One first sync (fresh database) with its CPU split by process: the syncing process, the
parse workers (every descendant), as seen by sampling psutil every 50 ms.

    python bench/cpu_by_process.py CONFIG [--messages N]

CONFIG is a mailkeeper.yaml whose database (and Maildir UID maps, `maildir-state/`) lie in
its folder; both are deleted first. The account's password comes from $MK_BENCH_PASSWORD
(default "secret", as bench/run.py's private Dovecot has it). Used for bench/PROFILE.md's
"Maildir" section: `python bench/run.py --sizes 30000 --repeat 1 --keep` leaves a mailbox and
configs to point it at.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import measure

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("config", type=Path)
    ap.add_argument("--messages", type=int, help="for the per-message figures (default: synced)")
    args = ap.parse_args()
    folder = args.config.resolve().parent
    for p in folder.glob("mailkeeper.db*"):
        p.unlink()
    shutil.rmtree(folder / "maildir-state", ignore_errors=True)
    os.sync()  # the writeback of what ran before is not this run's
    env = dict(os.environ, PYTHONPATH=str(REPO))
    env.setdefault("MK_BENCH_PASSWORD", "secret")
    argv = [sys.executable, "-m", "mailkeeper", "--config", str(args.config), "sync", "--json"]
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, env=env, cwd=folder)
    sampler = measure.CpuSampler(pid=proc.pid)
    sampler.start()
    out = proc.communicate()[0]
    wall = time.perf_counter() - t0
    sampler.stop.set()
    sampler.join()
    report = json.loads(out)
    report = report[0] if isinstance(report, list) else report
    n = args.messages or sum(f.get("fetched", 0) for f in report.get("folders", [])) or 1
    main_cpu = sampler.main()
    workers = sampler.total() - main_cpu
    timings = {k: round(v, 2) for k, v in report.get("timings", {}).items()}
    print(
        f"wall {wall:.2f} s; CPU: syncing process {main_cpu:.2f} s "
        f"({main_cpu / n * 1e6:.0f} µs/msg), "
        f"workers {workers:.2f} s ({workers / n * 1e6:.0f} µs/msg); timings {json.dumps(timings)}"
    )


if __name__ == "__main__":
    main()
