"""Team mode benchmark (issue 23): many reps pushing at once into one PostgreSQL.

    python bench/team_bench.py --reps 20 --messages 20000

One rep's mailbox is generated (bench/generate.py) into a Maildir and synced once by the
real pipeline; each rep gets a copy of that local database made their own (their subjects
and customer names carry the rep's number, so no two reps share a message or customer and
the team record holds reps x messages distinct messages; one key account is every rep's).
A private PostgreSQL on this machine (tests/postgres.py: initdb in a temp dir, fsync on) gets
the SQL of `mailkeeper team admin-sql`; then every rep's `mailkeeper team push` starts at once, as
separate processes. Printed (and written to bench/out/team_bench.json):
  - messages published per second (all reps together) and the time until the record holds
    everything (from the start of the pushes to the last one's end);
  - PostgreSQL's size per 100k messages (pg_database_size, after the pushes);
  - a rep's first sync of the mailbox with team mode off and on (outbox triggers firing);
  - `team customer NAME` latency for the customer with the most messages: the view over an
    open connection (what the command spends once connected), median and worst of 20, and a
    whole `mailkeeper team customer NAME --json` process (Python's start-up included).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO))

from postgres import Postgres  # noqa: E402

PASSWORD = "bench-pw"


def sh(*args: str, **kw: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, check=True, capture_output=True, text=True, **kw)  # type: ignore[call-overload]


def rep_config(d: Path, maildir: Path, customers: Path, team: str) -> Path:
    d.mkdir(parents=True, exist_ok=True)
    (d / "rules").mkdir(exist_ok=True)
    shutil.copy(customers, d / "rules" / "customers.yaml")
    (d / "templates").mkdir(exist_ok=True)
    cfg = d / "mailkeeper.yaml"
    cfg.write_text(
        "me:\n  name: Amy Chen\n  addresses: [amy@lumen-furniture.com]\n"
        "  company_domains: [lumen-furniture.com]\n"
        f"database: ./mailkeeper.db\naccounts:\n  work:\n    maildir: {maildir}\n" + team
    )
    cfg.chmod(0o600)
    return cfg


def team_section(pg: Postgres, db: str, rep: str) -> str:
    return (f"team:\n  rep: {rep}\n  host: 127.0.0.1\n  port: {pg.port}\n  database: {db}\n"
            f"  password_env: MK_TEAM_PW\n  sslmode: disable\n")  # fmt: skip


def make_own(db: Path, n: int) -> None:
    """Rep n's copy: its own subjects (so its own team messages) and customer names, except
    the customer with the most mail, which every rep shares (a key account the whole team
    writes to: its team history holds every rep's messages)."""
    c = sqlite3.connect(db)
    c.execute("UPDATE messages SET subject = coalesce(subject, '') || ' [r' || ? || ']'", (n,))
    c.execute(
        "UPDATE customers SET name = name || ' #' || ? WHERE id != (SELECT customer_id "
        "FROM links GROUP BY customer_id ORDER BY count(*) DESC LIMIT 1)", (n,))  # fmt: skip
    c.commit()
    c.close()


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def compare_syncs(work: Path, maildir: Path, customers: Path, env: dict[str, str],
                  rounds: int) -> dict[str, list[float]]:  # fmt: skip
    """A first sync of the same mailbox into a new database, team mode off and on (the outbox
    switched on before the sync, as after a first push into an empty database), interleaved,
    the order flipped each round (whichever runs first pays for the last one's deleted files)."""
    from mailkeeper.store import Store

    times: dict[str, list[float]] = {"off": [], "on": []}
    for i in range(rounds):
        for mode in ("off", "on") if i % 2 == 0 else ("on", "off"):
            d = work / f"sync-{mode}"
            shutil.rmtree(d, ignore_errors=True)
            cfg = rep_config(d, maildir, customers, "")
            with Store(d / "mailkeeper.db") as s:  # both made (and migrated) before the clock
                if mode == "on":
                    s.outbox.enable()
            t, cpu = time.monotonic(), _children_cpu()
            sh(sys.executable, "-m", "mailkeeper", "--config", str(cfg), "sync", env=env)
            times[mode].append(round(time.monotonic() - t, 1))
            # CPU seconds of the sync and its parse workers: less shaken by other load
            times.setdefault(f"{mode}_cpu", []).append(round(_children_cpu() - cpu, 1))
            if mode == "on":
                with Store(d / "mailkeeper.db") as s:
                    times.setdefault("queued", []).append(s.outbox.pending())
            shutil.rmtree(d, ignore_errors=True)
        print(f"first sync, team mode off / on: {times['off'][-1]} / {times['on'][-1]} s, "
              f"CPU {times['off_cpu'][-1]} / {times['on_cpu'][-1]} s", flush=True)  # fmt: skip
    return times


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reps", type=int, default=20)
    ap.add_argument("--messages", type=int, default=20_000, help="per rep")
    ap.add_argument("--keep", type=Path, help="work in this folder and keep it")
    ap.add_argument("--sync-rounds", type=int, default=2, help="first syncs, team mode off/on")
    ap.add_argument("--sync-only", action="store_true", help="only the first syncs off/on")
    args = ap.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="mailkeeper-team-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    os.chmod(work, 0o755)
    env = {**os.environ, "PYTHONPATH": str(REPO), "MK_TEAM_PW": PASSWORD}
    py = sys.executable
    t0 = time.monotonic()
    maildir, customers = work / "Maildir", work / "customers.yaml"
    if not maildir.exists():
        sh(py, str(REPO / "bench" / "generate.py"), "--count", str(args.messages),
           "--maildir", str(maildir), "--customers", str(customers))  # fmt: skip
    template = rep_config(work / "template", maildir, customers, "")
    if not (template.parent / "mailkeeper.db").exists():
        sh(py, "-m", "mailkeeper", "--config", str(template), "sync", env=env)
    print(f"mailbox generated and synced in {time.monotonic() - t0:.0f} s", flush=True)
    sync_seconds = compare_syncs(work, maildir, customers, env, args.sync_rounds)
    if args.sync_only:
        print(json.dumps(sync_seconds, indent=2))
        return

    reps = [f"rep{i:02d}" for i in range(1, args.reps + 1)]
    with Postgres(work / "pg", durable=True) as pg:
        pg.create_database("team")
        sql = work / "team.sql"
        roles = [a for r in reps for a in ("--rep", r)]
        out = sh(py, "-m", "mailkeeper", "team", "admin-sql", *roles, "--manager", "boss", env=env)
        sql.write_text(out.stdout)
        pg.psql("team", file=sql)
        for role in (*reps, "boss"):
            pg.set_password(role, PASSWORD)
        cfgs = []
        for i, rep in enumerate(reps, 1):
            d = work / rep
            shutil.rmtree(d, ignore_errors=True)
            cfg = rep_config(d, maildir, customers, team_section(pg, "team", rep))
            shutil.copy(template.parent / "mailkeeper.db", d / "mailkeeper.db")
            make_own(d / "mailkeeper.db", i)
            cfgs.append(cfg)
        print(f"{len(reps)} reps ready; pushing at once", flush=True)
        start = time.monotonic()
        procs = [subprocess.Popen([py, "-m", "mailkeeper", "--config", str(c), "team", "push",
                                   "--json"], env=env, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for c in cfgs]  # fmt: skip
        ends = []
        for p in procs:
            out_, err = p.communicate()
            ends.append(time.monotonic() - start)
            if p.returncode != 0:
                raise SystemExit(f"push failed: {err}")
        total = max(ends)
        import psycopg

        with psycopg.connect(pg.superuser_dsn("team")) as c:
            messages = c.execute("SELECT count(*) FROM team.messages").fetchone()[0]
            links = c.execute("SELECT count(*) FROM team.links").fetchone()[0]
            size = c.execute("SELECT pg_database_size('team')").fetchone()[0]
            name, most = c.execute("SELECT customer, count(*) FROM team.links GROUP BY 1 "
                                   "ORDER BY 2 DESC LIMIT 1").fetchone()  # fmt: skip

        from mailkeeper.store.team import Params, connect
        from mailkeeper.team import views

        with connect(Params("127.0.0.1", pg.port, "team", reps[0], PASSWORD, "disable",
                            None)) as team:  # fmt: skip
            views.customer(team, name)  # warm
            times = []
            for _ in range(20):
                t = time.perf_counter()
                views.customer(team, name)
                times.append((time.perf_counter() - t) * 1000)
            # the history query alone, as the server runs it (no transfer, no Python)
            from mailkeeper.store.team.reader import _HISTORY

            server_ms = []
            for _ in range(10):
                plan = team.conn.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + _HISTORY, (name,))
                server_ms.append(plan.fetchone()[0][0]["Execution Time"])
        t = time.perf_counter()
        sh(py, "-m", "mailkeeper", "--config", str(cfgs[0]), "team", "customer", name, "--json",
           env=env)  # fmt: skip
        process_ms = (time.perf_counter() - t) * 1000
    result = {
        "reps": len(reps),
        "messages_per_rep": args.messages,
        "team_messages": messages,
        "team_links": links,
        "seconds_until_complete": round(total, 1),
        "messages_per_second": round(messages / total),
        "pg_mb_per_100k_messages": round(size / 1e6 / (messages / 100_000), 1),
        "customer": name,
        "customer_messages": most,
        "team_customer_ms_median": round(statistics.median(times), 1),
        "team_customer_ms_max": round(max(times), 1),
        "team_customer_process_ms": round(process_ms),
        "team_customer_query_server_ms_median": round(statistics.median(server_ms), 1),
        "first_sync_seconds_team_off": sync_seconds["off"],
        "first_sync_seconds_team_on": sync_seconds["on"],
        "first_sync_cpu_seconds_team_off": sync_seconds.get("off_cpu"),
        "first_sync_cpu_seconds_team_on": sync_seconds.get("on_cpu"),
        "outbox_rows_queued_by_that_sync": sync_seconds.get("queued"),
        "cores": os.cpu_count(),
    }
    print(json.dumps(result, indent=2))
    (REPO / "bench" / "out").mkdir(exist_ok=True)
    (REPO / "bench" / "out" / "team_bench.json").write_text(json.dumps(result, indent=2))
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
