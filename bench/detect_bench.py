"""Detection and drafting at scale: scan a generated mailbox after its first sync, then draft
into a real Dovecot's Drafts folder (issues 11 and 12).

    python bench/detect_bench.py --size 100000 [--drafts 500] [--profile default]

Steps, in one run on one machine (figures written to bench/RESULTS-detect.md):
  1. the generated mailbox (bench/generate.py) into a private Dovecot; the first sync through
     the command line (`mailkeeper sync`), as in bench/run.py;
  2. the first full scan (`mailkeeper scan --as-of END+1d`, a whole process: imports, spaCy,
     judging every message of the look-back window) with its peak memory;
  3. 100 new messages (generate --new), `mailkeeper sync`, then `scan` again;
  4. a no-change scan in-process (what the daemon does), best of 5;
  5. drafting --drafts findings into the Dovecot Drafts folder in-process (render + APPEND),
     and the per-draft cost.
Targets (issue 11): first scan at most 15% of the first sync; after 100 new messages under
1 s; no-change under 0.3 s in-process; peak memory under 300 MB.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import generate  # noqa: E402
import measure  # noqa: E402
from run import PASSWORD, REPO, USER, Bench, Mailkeeper, dovecot, log, prepare  # noqa: E402
from world import build_world  # noqa: E402

sys.path.insert(0, str(REPO))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=100_000)
    ap.add_argument("--drafts", type=int, default=500)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--profile", default="default", choices=["default", "html"])
    ap.add_argument("--out", type=Path, default=BENCH / "RESULTS-detect.md")
    ap.add_argument("--workdir", type=Path, default=None)
    args = ap.parse_args()
    root = Path(args.workdir or tempfile.mkdtemp(prefix="mk-detect-"))
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    server = dovecot.Dovecot(root / "dovecot", users={USER: PASSWORD}, tls=False).start()
    try:
        return _bench(args, root, server)
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


def _bench(args: argparse.Namespace, root: Path, server: object) -> int:
    results: dict[str, object] = {"size": args.size, "profile": args.profile}
    ns = SimpleNamespace(seed=args.seed, profile=args.profile, repeat=1)
    mailbox = prepare(args.size, server, ns)  # type: ignore[arg-type]
    log(f"generated {args.size} messages ({mailbox['total_mb']} MB)")
    b = Bench(args.size, root, server, server.port, build_world(args.seed), ns)  # type: ignore[arg-type]
    mk = Mailkeeper(b, None)
    mk.write_config()
    with open(mk.config, "a") as fh:
        fh.write(f"drafts: {{per_run: {args.drafts}, per_day: {args.drafts}}}\n")
    as_of = (generate.END + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")

    def step(name: str, *command: str) -> measure.Run:
        run = mk.run(*command)
        if not run.ok:
            raise SystemExit(f"{name} failed: {run.reason()}")
        rss = run.max_rss_kb or 0
        results[name] = {"seconds": round(run.wall, 2), "peak_rss_mb": round(rss / 1024, 1)}
        log(f"{name}: {run.wall:.2f} s, peak {rss / 1024:.0f} MB")
        return run

    step("first_sync", "sync")
    first_scan = step("first_scan", "scan", "--as-of", as_of)
    results["first_scan_report"] = json.loads(first_scan.stdout)
    _deliver_new(args, server, offset=1)
    step("sync_100_new", "sync")
    later = (generate.END + timedelta(days=1, hours=14)).strftime("%Y-%m-%dT%H:%M:%SZ")
    scan_new = step("scan_100_new", "scan", "--as-of", later)
    results["scan_100_new"]["in_scan"] = round(json.loads(scan_new.stdout)["seconds"], 3)  # type: ignore[index]
    results.update(_in_process(mk, later, args, server))
    ratio = results["first_scan"]["seconds"] / results["first_sync"]["seconds"]  # type: ignore[index]
    results["first_scan_share_of_first_sync"] = round(ratio, 3)
    _write(args.out, results)
    return 0


def _deliver_new(args: argparse.Namespace, server: object, offset: int) -> None:
    """100 more messages of the same world into the server, after its last date."""
    maildir = server.maildir()  # type: ignore[attr-defined]
    world = build_world(args.seed)
    generate.generate_new(world, args.seed, args.size, 100, offset, maildir, profile=args.profile)
    server.index()  # type: ignore[attr-defined]


def _in_process(
    mk: Mailkeeper, as_of: str, args: argparse.Namespace, server: object
) -> dict[str, object]:
    """What the daemon does, in one process: spaCy loaded, the scan cache warm."""
    import os
    from datetime import datetime

    os.environ.update(mk.env)
    from mailkeeper.app import App
    from mailkeeper.drafts.compose import Drafter
    from mailkeeper.drafts.publish import Publisher, PublishReport

    now = datetime.fromisoformat(as_of.replace("Z", "+00:00"))
    out: dict[str, object] = {}
    with App.from_config(mk.config) as app:
        app.scan(now)
        times = []
        for _ in range(5):
            t = time.perf_counter()
            app.scan(now)
            times.append(time.perf_counter() - t)
        out["no_change_scan_in_process"] = {"seconds": round(min(times), 4)}
        log(f"no-change scan in-process: {min(times):.3f} s")
        _deliver_new(args, server, offset=2)
        app.sync()
        from mailkeeper.detect.scan import Scanner

        # the daemon imports spaCy and builds the matchers once, at its first judging scan
        judge = Scanner(app.store, app.settings, app.rules, app._scan_cache).judge()
        for lang in judge.rules:
            judge.judge("warm up", lang)
        later = now + timedelta(days=1)
        t = time.perf_counter()
        app.scan(later)
        t_new = time.perf_counter() - t
        out["scan_100_new_in_process"] = {"seconds": round(t_new, 3)}
        log(f"scan after 100 more new messages, in-process: {t_new:.3f} s")
        now = later
        drafts = args.drafts
        t = time.perf_counter()
        planned, waiting = Drafter(app.store, app.settings, app.rules).plan(now, drafts)
        t_plan = time.perf_counter() - t
        t = time.perf_counter()
        report = PublishReport()
        Publisher(app.store, app.settings).publish(planned, now, report)
        t_pub = time.perf_counter() - t
        n = len(report.added)
        out["drafts"] = {
            "count": n,
            "render_seconds": round(t_plan, 3),
            "append_seconds": round(t_pub, 3),
            "ms_per_draft": round(1000 * (t_plan + t_pub) / max(n, 1), 2),
            "problems": report.problems,
        }
        log(f"{n} drafts: render {t_plan:.2f} s, append {t_pub:.2f} s")
    return out


def _write(out: Path, results: dict[str, object]) -> None:
    out.with_suffix(".json").write_text(json.dumps(results, indent=2))
    r = results
    lines = [
        "# Detection and drafting at scale",
        "",
        f"`python bench/detect_bench.py --size {r['size']} --profile {r['profile']}` "
        f"({time.strftime('%Y-%m-%d')}, this machine: 2 cores).",
        "",
        "| step | seconds | peak RSS MB | target |",
        "|---|---|---|---|",
        f"| first sync (CLI) | {r['first_sync']['seconds']} | {r['first_sync']['peak_rss_mb']} | |",  # type: ignore[index]
        f"| first full scan (CLI, spaCy import included) | {r['first_scan']['seconds']} | "  # type: ignore[index]
        f"{r['first_scan']['peak_rss_mb']} | ≤ 15% of the first sync "  # type: ignore[index]
        f"({r['first_scan_share_of_first_sync']:.0%}); < 300 MB |",
        f"| sync of 100 new messages (CLI) | {r['sync_100_new']['seconds']} | "  # type: ignore[index]
        f"{r['sync_100_new']['peak_rss_mb']} | |",  # type: ignore[index]
        f"| scan after 100 new messages (CLI: start-up and the spaCy import included) | "
        f"{r['scan_100_new']['seconds']} | {r['scan_100_new']['peak_rss_mb']} | |",  # type: ignore[index]
        f"| ... of which the scan itself | {r['scan_100_new']['in_scan']} | | |",  # type: ignore[index]
        f"| scan after 100 new messages, in-process (as the daemon runs it) | "
        f"{r['scan_100_new_in_process']['seconds']} | | < 1 s |",  # type: ignore[index]
        f"| no-change scan, in-process | {r['no_change_scan_in_process']['seconds']} | | < 0.3 s |",  # type: ignore[index]
        f"| {r['drafts']['count']} drafts rendered + appended to Dovecot, in-process | "  # type: ignore[index]
        f"{r['drafts']['render_seconds'] + r['drafts']['append_seconds']:.2f} | | "  # type: ignore[index]
        f"{r['drafts']['ms_per_draft']} ms per draft |",  # type: ignore[index]
        "",
        f"First scan: {json.dumps(r['first_scan_report'])}",
        "",
    ]
    out.write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())
