"""Soak run of `mailkeeper daemon` (issue 13.3; a benchmark, not a test).

A private Dovecot (needs root, as the other benchmarks) and a daemon process watching one
account. After a warm-up, one message is delivered every second for --minutes (every
--issue-every'th is a customer complaint that gets an issue_ack draft), then a burst of
--burst messages at once, then an idle tail. Measured from outside the daemon:

- delivery -> database: from the moment the file is in the Maildir until its row is in the
  database (the database is polled every 0.1 s), median and p99;
- delivery -> draft: until the complaint's draft is recorded;
- CPU (% of one core) and RSS of the daemon's whole process tree, every 5 s;
- the burst: until all its messages are stored;
- a server restart in the middle of the steady phase (issue 19: the Inbox watcher must notice
  the dropped connection and reconnect): the latency targets hold for the messages delivered
  outside the restart itself (from its start until the server answers again); those delivered
  during it are reported apart.

Targets (issue 13): delivery to database median < 2 s and p99 < 10 s; memory flat (peak RSS of
the last minute within 10% of the first minute after warm-up); idle CPU < 1%.

    python bench/soak.py --minutes 10 --burst 1000 --out bench/RESULTS-daemon.md
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import psutil

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
import dovecot  # noqa: E402  (tests/dovecot.py)

USER, PASSWORD = "soak", "secret"
ME = "amy@lumen-furniture.com"
CUSTOMERS = """\
customers:
  - name: Birch & Co
    domains: [birch.co.uk]
    tier: A
    language: en
"""
COMPLAINT = "Two chairs arrived broken. Could you send replacements this week?"
NORMAL = "Thanks for the update on the production schedule. " * 20


def mail(i: int, complaint: bool) -> bytes:
    import email.utils

    subject = f"{'Complaint' if complaint else 'Update'} {i}"
    body = COMPLAINT if complaint else NORMAL
    return (
        f"From: Buyer {i % 7} <buyer{i % 7}@birch.co.uk>\r\nTo: {ME}\r\nSubject: {subject}\r\n"
        f"Date: {email.utils.formatdate(localtime=False)}\r\n"
        f"Message-ID: <soak{i}.{uuid.uuid4().hex[:8]}@birch.co.uk>\r\n"
        f"Content-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    ).encode()


def put(server: dovecot.Dovecot, raw: bytes) -> None:
    """As a mail server delivers: into tmp/, then renamed into cur/."""
    d = server.folder_dir("INBOX", USER)
    name = f"{time.time():.6f}.{uuid.uuid4().hex}.soak"
    tmp = d / "tmp" / name
    tmp.write_bytes(raw)
    os.chown(tmp, dovecot.MAIL_UID, dovecot.MAIL_GID)
    os.rename(tmp, d / "cur" / f"{name}:2,")


def write_config(dest: Path, port: int) -> Path:
    from mailkeeper.config.defaults import init_config_dir

    init_config_dir(dest, force=True)
    (dest / "rules" / "customers.yaml").write_text(CUSTOMERS)
    cfg = dest / "mailkeeper.yaml"
    cfg.write_text(
        f"""\
me: {{name: Amy Chen, addresses: [{ME}], company_domains: [lumen-furniture.com]}}
timezone: Asia/Shanghai
accounts:
  work:
    host: 127.0.0.1
    port: {port}
    tls: none
    username: {USER}
    password: {PASSWORD}
drafts: {{per_run: 1000, per_day: 1000}}
"""
    )
    cfg.chmod(0o600)
    return cfg


class Watch(threading.Thread):
    """Polls the database: when each subject first appears in messages and in drafts."""

    def __init__(self, db: Path) -> None:
        super().__init__(daemon=True)
        self.db = db
        self.seen: dict[str, float] = {}
        self.drafted: dict[str, float] = {}
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            now = time.time()
            try:
                conn = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, timeout=1)
                try:
                    for (s,) in conn.execute("SELECT subject FROM messages"):
                        self.seen.setdefault(s, now)
                    for (s,) in conn.execute("SELECT subject FROM drafts"):
                        self.drafted.setdefault(s.removeprefix("Re: "), now)
                finally:
                    conn.close()
            except sqlite3.Error:
                pass
            self.stop.wait(0.1)


class Sampler(threading.Thread):
    """CPU (% of one core) and RSS (MB) of the daemon's process tree every `every` seconds."""

    def __init__(self, pid: int, every: float = 5.0) -> None:
        super().__init__(daemon=True)
        self.proc = psutil.Process(pid)
        self.every = every
        self.samples: list[dict[str, float]] = []
        self.stop = threading.Event()
        self.t0 = time.time()

    def _tree(self) -> list[psutil.Process]:
        try:
            return [self.proc, *self.proc.children(recursive=True)]
        except psutil.Error:
            return []

    def run(self) -> None:
        last_cpu, last_t = None, None
        while not self.stop.is_set():
            cpu, rss = 0.0, 0
            for p in self._tree():
                try:
                    t = p.cpu_times()
                    cpu += t.user + t.system + t.children_user + t.children_system
                    rss += p.memory_info().rss
                except psutil.Error:
                    pass
            now = time.time()
            if last_cpu is not None and last_t is not None:
                self.samples.append({"t": round(now - self.t0, 1),
                                     "cpu_pct": round(100 * (cpu - last_cpu) / (now - last_t), 2),
                                     "rss_mb": round(rss / 1e6, 1)})  # fmt: skip
            last_cpu, last_t = cpu, now
            self.stop.wait(self.every)


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


def phase_cpu(samples: list[dict[str, float]], start: float, end: float) -> float:
    inside = [s["cpu_pct"] for s in samples if start < s["t"] <= end]
    return round(statistics.mean(inside), 2) if inside else float("nan")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--minutes", type=float, default=10.0, help="one message a second this long")
    ap.add_argument("--burst", type=int, default=1000, help="then this many at once")
    ap.add_argument("--issue-every", type=int, default=10, help="every n-th is a complaint")
    ap.add_argument("--warmup", type=float, default=30.0, help="idle seconds before and after")
    ap.add_argument("--out", type=Path, help="write the report here (and .json beside it)")
    ap.add_argument("--no-restart", action="store_true", help="no server restart mid-run")
    args = ap.parse_args()

    root = Path(tempfile.mkdtemp(prefix="mailkeeper-soak-"))
    root.chmod(0o755)
    server = dovecot.Dovecot(root / "dovecot", users={USER: PASSWORD}, tls=False).start()
    proc = None
    try:
        for i in range(50):  # some history, so the first sync has something to do
            put(server, mail(-1 - i, False))
        cfg = write_config(root / "cfg", server.port)
        db = root / "cfg" / "mailkeeper.db"
        log = open(root / "daemon.log", "w")  # noqa: SIM115
        proc = subprocess.Popen(
            [sys.executable, "-m", "mailkeeper", "--config", str(cfg), "daemon",
             "--log-format", "json"], stderr=log, stdout=log,
        )  # fmt: skip
        watch, sampler = Watch(db), Sampler(proc.pid)
        watch.start()
        sampler.start()
        t0 = sampler.t0
        print(f"daemon pid {proc.pid}; warm-up {args.warmup:.0f}s", flush=True)
        time.sleep(args.warmup)
        warm_end = time.time() - t0
        delivered: dict[str, float] = {}
        n = int(args.minutes * 60)
        start = time.time()
        window: list[float] = []  # the restart: start, end (server answering again)

        def restart() -> None:
            print("restarting the server", flush=True)
            window.append(time.time())
            server.restart()
            window.append(time.time())

        restarter = None
        if not args.no_restart:
            restarter = threading.Timer(n / 2, restart)
            restarter.start()
        for i in range(n):
            target = start + i
            time.sleep(max(0.0, target - time.time()))
            complaint = i % args.issue_every == 0
            raw = mail(i, complaint)
            put(server, raw)
            delivered[f"{'Complaint' if complaint else 'Update'} {i}"] = time.time()
            if i % 60 == 59:
                print(f"  {i + 1}/{n} delivered, {len(watch.seen)} stored", flush=True)
        if restarter is not None:
            restarter.join()
        steady_end = time.time() - t0
        time.sleep(5)
        print(f"burst of {args.burst}", flush=True)
        burst_start = time.time()
        burst = {}
        for j in range(args.burst):
            raw = mail(100_000 + j, False)
            put(server, raw)
            burst[f"Update {100_000 + j}"] = time.time()
        deadline = time.time() + 300
        while time.time() < deadline and not all(s in watch.seen for s in burst):
            time.sleep(0.2)
        burst_done = max((watch.seen.get(s, float("nan")) for s in burst), default=0) - burst_start
        burst_end = time.time() - t0
        time.sleep(args.warmup)
        idle_end = time.time() - t0
        # a deadline for drafts: the steady phase's complaints
        deadline = time.time() + 30
        complaints = [s for s in delivered if s.startswith("Complaint")]
        while time.time() < deadline and not all(s in watch.drafted for s in complaints):
            time.sleep(0.2)
        watch.stop.set()
        sampler.stop.set()
        during = (lambda t: window[0] <= t <= window[1]) if len(window) == 2 else (lambda t: False)
        to_db = [watch.seen[s] - t for s, t in delivered.items() if s in watch.seen
                 and not during(t)]  # fmt: skip
        in_restart = [watch.seen.get(s, float("nan")) - t for s, t in delivered.items()
                      if during(t)]  # fmt: skip
        to_draft = [watch.drafted[s] - delivered[s] for s in complaints if s in watch.drafted]
        burst_db = [watch.seen[s] - t for s, t in burst.items() if s in watch.seen]
        samples = sampler.samples
        first_min = [s["rss_mb"] for s in samples if warm_end < s["t"] <= warm_end + 60]
        last_min = [s["rss_mb"] for s in samples if steady_end - 60 < s["t"] <= steady_end]
        result: dict[str, Any] = {
            "machine": f"{platform.node()} {platform.machine()} {os.cpu_count()} cores, "
            f"Python {platform.python_version()}",
            "minutes": args.minutes,
            "delivered": len(delivered),
            "stored": len(to_db) + len([x for x in in_restart if x == x]),
            "restart_s": round(window[1] - window[0], 2) if len(window) == 2 else None,
            "restart_delivered": len(in_restart),
            "restart_to_db_max_s": round(max(in_restart), 2) if in_restart else None,
            "to_db_median_s": round(statistics.median(to_db), 2) if to_db else None,
            "to_db_p99_s": round(pct(to_db, 99), 2),
            "to_db_max_s": round(max(to_db), 2) if to_db else None,
            "complaints": len(complaints),
            "drafted": len(to_draft),
            "to_draft_median_s": round(statistics.median(to_draft), 2) if to_draft else None,
            "to_draft_p99_s": round(pct(to_draft, 99), 2),
            "burst": args.burst,
            "burst_stored": len(burst_db),
            "burst_all_stored_s": round(burst_done, 2),
            "burst_to_db_median_s": round(statistics.median(burst_db), 2) if burst_db else None,
            "cpu_idle_warmup_pct": phase_cpu(samples, 10, warm_end),
            "cpu_steady_pct": phase_cpu(samples, warm_end, steady_end),
            "cpu_idle_after_pct": phase_cpu(samples, burst_end + 5, idle_end),
            "rss_first_minute_peak_mb": max(first_min) if first_min else None,
            "rss_last_minute_peak_mb": max(last_min) if last_min else None,
            "rss_peak_mb": max((s["rss_mb"] for s in samples), default=None),
            "samples": samples,
        }
        if first_min and last_min and max(first_min) > 0:
            result["rss_growth_pct"] = round(100 * (max(last_min) / max(first_min) - 1), 1)
        summary = {k: v for k, v in result.items() if k != "samples"}
        print(json.dumps(summary, indent=2))
        if args.out:
            args.out.with_suffix(".json").write_text(json.dumps(result, indent=2) + "\n")
            args.out.write_text(report(result))
            print(f"wrote {args.out}")
    finally:
        if proc is not None and proc.poll() is not None:
            print(f"the daemon ended early ({proc.returncode}):", file=sys.stderr)
            print((root / "daemon.log").read_text()[-3000:], file=sys.stderr)
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


def report(r: dict[str, Any]) -> str:
    def ok(cond: bool) -> str:
        return "met" if cond else "missed"

    growth = r.get("rss_growth_pct")
    lines = [
        "# mailkeeper daemon: soak run",
        "",
        f"`python bench/soak.py --minutes {r['minutes']:g} --burst {r['burst']}` "
        f"on {r['machine']};",
        "loopback Dovecot, one account, the daemon as its own process (`--log-format json`).",
        "",
        "| figure | value | target |",
        "|---|---:|---|",
        f"| messages delivered, one a second / stored | {r['delivered']} / {r['stored']} | all |",
        f"| server restart mid-run: took / delivered meanwhile / their latest stored after "
        f"| {r['restart_s']} s / {r['restart_delivered']} / {r['restart_to_db_max_s']} s | |",
        f"| delivery → database, median (outside the restart) | {r['to_db_median_s']} s "
        f"| < 2 s — "
        f"{ok((r['to_db_median_s'] or 99) < 2)} |",
        f"| delivery → database, p99 (max) | {r['to_db_p99_s']} s ({r['to_db_max_s']} s) "
        f"| < 10 s — {ok(r['to_db_p99_s'] < 10)} |",
        f"| complaints / drafted | {r['complaints']} / {r['drafted']} | all |",
        f"| delivery → draft, median / p99 | {r['to_draft_median_s']} s / "
        f"{r['to_draft_p99_s']} s | |",
        f"| burst of {r['burst']}: all stored after | {r['burst_all_stored_s']} s "
        f"(median {r['burst_to_db_median_s']} s) | |",
        f"| CPU idle (warm-up / after the burst), % of one core | {r['cpu_idle_warmup_pct']} / "
        f"{r['cpu_idle_after_pct']} | < 1% — "
        f"{ok(max(r['cpu_idle_warmup_pct'], r['cpu_idle_after_pct']) < 1)} |",
        f"| CPU while mail arrives every second | {r['cpu_steady_pct']} % | |",
        f"| peak RSS, first minute after warm-up / last minute | {r['rss_first_minute_peak_mb']} MB"
        f" / {r['rss_last_minute_peak_mb']} MB ({growth:+} %) | within 10% — "
        f"{ok(growth is not None and growth <= 10)} |"
        if growth is not None
        else "| peak RSS | n/a (run shorter than 2 minutes) | |",
        f"| peak RSS of the whole run (process tree) | {r['rss_peak_mb']} MB | |",
        "",
        "Every 5 s, the daemon's process tree (CPU % of one core, RSS MB):",
        "",
        "| t (s) | CPU % | RSS MB |",
        "|---:|---:|---:|",
        *[f"| {s['t']} | {s['cpu_pct']} | {s['rss_mb']} |" for s in r["samples"]],
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
