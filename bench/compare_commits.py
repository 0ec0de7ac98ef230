"""The first sync of two (or more) commits' code on one generated mailbox, interleaved.

    python bench/compare_commits.py [--old 039315c] [--new HEAD] [--new f859d57 ...]
        [--size 10000] [--repeat 3] [--profile default] [--maildir] [--out bench/RESULTS-compare.md]

Issue 7 asks that the first sync be no slower after the reorganisation, "measured old commit
against new in one run": absolute times on this machine drift between hours (and other jobs
share it), so the commits are timed in turns (old, new, old, new, ...) against the same
Dovecot and the same generated mailbox, and compared by the ratio of their medians.

Each commit is checked out with `git worktree add --detach` into a temporary folder (removed
at the end) and run as `python -m mailkeeper --config ... sync --json` with PYTHONPATH pointing
at that worktree (checked: `mailkeeper.__file__` must be inside it), with its own rules and
templates, on a fresh database every run. The mailbox is generated once (bench/generate.py, as
bench/run.py does) into a private Dovecot on 127.0.0.1; needs root, like bench/run.py.

With --maildir each commit syncs a `maildir:` account on the Dovecot's own Maildir (UIDs from
its dovecot-uidlist) instead of IMAP: the local-Maildir path, with the same mailbox.

Every run of the script adds its figures to bench/RESULTS-compare.json and rewrites the
Markdown from all the runs recorded there (--fresh starts both over).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import generate
import measure
from measure import Spread
from run import (
    BENCH,
    CONFIG,
    MAILDIR_CONFIG,
    PASSWORD,
    REPO,
    USER,
    find_timings,
    log,
    machine,
    prepare,
)

sys.path.insert(0, str(REPO / "tests"))
import dovecot  # noqa: E402  (tests/dovecot.py, as bench/run.py uses it)

STEPS = ("fetch", "parse_cpu", "store", "link", "total")


@dataclass
class Side:
    """One commit's code, checked out and configured."""

    label: str  # as given on the command line
    commit: str  # full hash
    subject: str
    tree: Path  # the worktree
    dir: Path  # config, rules, templates, database
    wall: list[float] = field(default_factory=list)
    timings: list[dict[str, float]] = field(default_factory=list)
    tree_rss_kb: list[int] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)  # user + system s of the tree (sampled)
    messages: list[int] = field(default_factory=list)
    load: list[float] = field(default_factory=list)  # 1-minute load average before each run
    error: str | None = None

    def env(self, root: Path) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("MAILKEEPER_")}
        env.pop("PYTHONPATH", None)
        xdg = root / "xdg"
        env.update(
            PYTHONPATH=str(self.tree),
            MK_BENCH_PASSWORD=PASSWORD,
            XDG_CONFIG_HOME=str(xdg / "config"),
            XDG_DATA_HOME=str(xdg / "data"),
            XDG_STATE_HOME=str(xdg / "state"),
            XDG_CACHE_HOME=str(xdg / "cache"),
        )
        return env

    def summary(self, size: int) -> dict[str, Any]:
        wall = Spread.of(self.wall)
        return {
            "label": self.label,
            "commit": self.commit,
            "subject": self.subject,
            "wall": self.wall,
            "timings": self.timings,
            "tree_rss_kb": self.tree_rss_kb,
            "cpu": self.cpu,
            "messages": self.messages,
            "load": self.load,
            "error": self.error,
            "median": wall.median if wall else None,
            "rate": size / wall.median if wall and wall.median > 0 else None,
        }


# --------------------------------------------------------------------------- git


def git(*args: str) -> str:
    out = subprocess.run(["git", "-C", str(REPO), *args], capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"git {' '.join(args)}: {out.stderr.strip()}")
    return out.stdout.strip()


def add_worktree(label: str, where: Path) -> Side:
    commit = git("rev-parse", "--verify", f"{label}^{{commit}}")
    tree = where / f"tree-{commit[:10]}"
    git("worktree", "add", "--detach", str(tree), commit)
    subject = git("log", "-1", "--format=%s", commit)
    return Side(label, commit, subject, tree, where / f"mk-{commit[:10]}")


def remove_worktree(side: Side) -> None:
    subprocess.run(
        ["git", "-C", str(REPO), "worktree", "remove", "--force", str(side.tree)],
        capture_output=True,
    )


# --------------------------------------------------------------------------- runs


def configure(side: Side, port: int, world: Any, maildir: Path | None = None) -> None:
    """Config, rules and templates from the side's own tree; customers.yaml from the world.
    With `maildir`, the account reads that Maildir (Dovecot's own, with its dovecot-uidlist)
    instead of speaking IMAP."""
    rules, templates = side.dir / "rules", side.dir / "templates"
    rules.mkdir(parents=True, exist_ok=True)
    for src in (side.tree / "rules").glob("*.yaml"):
        if src.name != "customers.yaml":
            shutil.copy(src, rules / src.name)
    if (side.tree / "templates").is_dir():
        shutil.copytree(side.tree / "templates", templates, dirs_exist_ok=True)
    from world import write_customers_yaml

    write_customers_yaml(world, rules / "customers.yaml", 0)
    config = (
        MAILDIR_CONFIG.format(maildir=maildir) if maildir else CONFIG.format(port=port, user=USER)
    )
    (side.dir / "mailkeeper.yaml").write_text(config)


def check_import(side: Side, root: Path) -> None:
    """The side's code, not the installed package, must be what `python -m mailkeeper` runs."""
    out = subprocess.run(
        [sys.executable, "-c", "import mailkeeper; print(mailkeeper.__file__)"],
        capture_output=True,
        text=True,
        env=side.env(root),
        cwd=side.dir,
    )
    where = Path(out.stdout.strip() or "?").resolve()
    if side.tree.resolve() not in where.parents:
        raise SystemExit(f"{side.label}: python imports mailkeeper from {where}, not its worktree")


def first_sync(side: Side, root: Path, size: int, timeout: float) -> None:
    for p in side.dir.glob("mailkeeper.db*"):
        p.unlink()
    shutil.rmtree(side.dir / "maildir-state", ignore_errors=True)  # a Maildir account's UID maps
    side.load.append(os.getloadavg()[0])
    config = str(side.dir / "mailkeeper.yaml")
    argv = [sys.executable, "-m", "mailkeeper", "--config", config, "sync", "--json"]
    sampler = measure.CpuSampler(marker=config)
    sampler.start()
    try:
        run = measure.run(argv, timeout=timeout, env=side.env(root), cwd=side.dir)
    finally:
        sampler.stop.set()
        sampler.join()
    side.cpu.append(sampler.total())
    if not run.ok:
        side.error = run.reason()
        return
    try:
        out = json.loads(run.stdout)
    except ValueError:
        side.error = "sync --json printed no JSON"
        return
    reports = out if isinstance(out, list) else [out]
    got = sum(int(r.get("new_messages", 0)) for r in reports if isinstance(r, dict))
    side.wall.append(run.wall)
    side.timings.append(find_timings(out) or {})
    if run.tree_rss_kb:
        side.tree_rss_kb.append(run.tree_rss_kb)
    side.messages.append(got)
    if got != size:
        side.error = f"stored {got} new messages, expected {size}"


def cpu_busy_share(seconds: float = 1.0) -> float:
    """Share of all cores busy over `seconds` (/proc/stat), before a round: the other jobs."""

    def sample() -> tuple[int, int]:
        with open("/proc/stat") as fh:
            vals = [int(v) for v in fh.readline().split()[1:]]
        idle = vals[3] + (vals[4] if len(vals) > 4 else 0)
        return sum(vals), idle

    t0, i0 = sample()
    time.sleep(seconds)
    t1, i1 = sample()
    return 1 - (i1 - i0) / (t1 - t0) if t1 > t0 else 0.0


def compare(args: argparse.Namespace) -> dict[str, Any]:
    labels = [args.old, *(args.new or ["HEAD"])]
    root = Path(tempfile.mkdtemp(prefix="mk-compare-", dir=args.workdir))
    root.chmod(0o755)  # Dovecot's auth and mail processes run as other users
    sides: list[Side] = []
    server = None
    busy: list[float] = []
    try:
        for label in labels:
            sides.append(add_worktree(label, root))
            log(f"{label}: {sides[-1].commit[:10]} {sides[-1].subject[:70]}")
        server = dovecot.Dovecot(root / "dovecot", users={USER: PASSWORD}, tls=False).start()
        log(f"generating {args.size} messages into a fresh Dovecot under {root}")
        mailbox = prepare(args.size, server, args)
        from world import build_world

        world = build_world(args.seed)
        for side in sides:
            configure(side, server.port, world, server.maildir() if args.maildir else None)
            check_import(side, root)
        timeout = max(300.0, args.size / 100)
        for i in range(args.repeat):
            for side in sides:
                if side.error:
                    continue
                busy.append(cpu_busy_share())
                first_sync(side, root, args.size, timeout)
                last = f"{side.wall[-1]:.2f} s" if side.wall and not side.error else side.error
                log(f"round {i + 1}/{args.repeat}: {side.label} {last}")
    finally:
        if server is not None:
            server.stop()
        for side in sides:
            remove_worktree(side)
        git("worktree", "prune")
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    return {
        "started": args.started,
        "size": args.size,
        "repeat": args.repeat,
        "seed": args.seed,
        "profile": args.profile,
        "account": "maildir" if args.maildir else "imap",
        "mailbox": mailbox,
        "machine": machine(),
        "busy_before_runs": busy,
        "sides": [s.summary(args.size) for s in sides],
    }


# --------------------------------------------------------------------------- report


def _spread(values: list[float], scale: float = 1.0, digits: int = 2) -> str:
    s = Spread.of(values)
    return s.fmt(scale, digits) if s else "n/a"


def render_run(r: dict[str, Any]) -> list[str]:
    sides = r["sides"]
    old = sides[0]
    mb = r["mailbox"]
    busy = r.get("busy_before_runs") or []
    loads = [v for s in sides for v in s["load"]]
    over = ", read as a local Maildir" if r.get("account") == "maildir" else ""
    rows = [
        f"## {r['size']:,} messages, {r['profile']} mix{over} (started {r['started']})",
        "",
        f"Mailbox: seed {r['seed']}, {mb['total_mb']} MB, median {mb['median_kb']} KB, "
        f"{mb['attachments_pct']}% with an attachment. {r['repeat']} rounds, each running every "
        f"commit once in the order listed. Machine: {r['machine']['cpu']} × "
        f"{r['machine']['nproc']}; shared with other jobs during the run: 1-minute load average "
        f"{_spread(loads)} before the runs, cores busy in the second before each run "
        f"{_spread(busy, 100, 0)}%.",
        "",
        "| commit | first sync, s | msg/s | ÷ old (median rate) | ÷ old (fastest run) | "
        "CPU s (tree) | ÷ old (CPU) | peak RSS MB (tree) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for s in sides:
        if s["error"] and not s["wall"]:
            rows.append(
                f"| `{s['commit'][:7]}` {s['subject'][:60]} | failed: {s['error']} |" + " |" * 6
            )
            continue
        ratio = f"{s['rate'] / old['rate']:.2f}×" if s["rate"] and old["rate"] else "n/a"
        rate = f"{s['rate']:,.0f}" if s["rate"] else "n/a"
        note = f" ({s['error']})" if s["error"] else ""
        fastest = _ratio(min(old["wall"], default=0), min(s["wall"], default=0))
        cpu = _ratio(_median(old.get("cpu")), _median(s.get("cpu")))
        rows.append(
            f"| `{s['commit'][:7]}` ({s['label']}) {s['subject'][:60]}{note} | "
            f"{_spread(s['wall'])} | {rate} | {ratio} | {fastest} | {_spread(s.get('cpu') or [])}"
            f" | {cpu} | {_spread(s['tree_rss_kb'], 1 / 1024, 0)} |"
        )
    rows += [
        "",
        "Per step (median seconds from `sync --json` timings; parse_cpu is summed over the "
        "workers' batches, wall time inside the workers):",
        "",
        "| commit | " + " | ".join(STEPS) + " |",
        "|---|" + "---:|" * len(STEPS),
    ]
    for s in sides:
        cells = []
        for step in STEPS:
            vals = [t[step] for t in s["timings"] if step in t]
            cells.append(f"{statistics.median(vals):.2f}" if vals else "n/a")
        rows.append(f"| `{s['commit'][:7]}` | " + " | ".join(cells) + " |")
    rows += ["", "Every run in order (seconds):", ""]
    for s in sides:
        rows.append(f"- `{s['commit'][:7]}`: " + ", ".join(f"{w:.2f}" for w in s["wall"]))
    return [*rows, ""]


def _median(values: list[float] | None) -> float:
    return statistics.median(values) if values else 0.0


def _ratio(old: float, new: float) -> str:
    """old ÷ new of two times or CPU costs: above 1× = the new commit needs less."""
    return f"{old / new:.2f}×" if old and new else "n/a"


def render(runs: list[dict[str, Any]]) -> str:
    lines = [
        "# First sync, commit against commit (issue 7)",
        "",
        "Written by `bench/compare_commits.py` (see bench/README.md): each run generates one "
        "mailbox into a private Dovecot and times the first sync of each commit's code in turns "
        "(old, new, old, new, ...), each on a fresh database, so drift and other jobs on the "
        "machine hit every commit alike. Figures: median (min–max) of the rounds; the ratios "
        "are of the median rates, of the fastest runs, and of the median CPU seconds of the "
        "process tree (main process + parse workers, user + system, sampled every 50 ms with "
        "psutil); above 1× = faster / cheaper than the old commit. With other jobs on the "
        "machine the CPU ratio is the steadiest of the three.",
        "",
    ]
    for r in runs:
        lines += render_run(r)
    return "\n".join(lines)


# --------------------------------------------------------------------------- CLI


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--old", default="039315c", help="the baseline commit (default 039315c)")
    ap.add_argument(
        "--new", action="append", help="a commit to compare with it (repeatable; default HEAD)"
    )
    ap.add_argument("--size", type=int, default=10000, help="messages (default 10000)")
    ap.add_argument("--repeat", type=int, default=3, help="rounds (default 3)")
    ap.add_argument("--seed", type=int, default=1, help="generator seed (default 1)")
    ap.add_argument("--profile", choices=generate.PROFILES, default="default")
    ap.add_argument(
        "--maildir",
        action="store_true",
        help="sync a `maildir:` account on the Dovecot's Maildir instead of IMAP",
    )
    ap.add_argument("--out", type=Path, default=BENCH / "RESULTS-compare.md")
    ap.add_argument("--fresh", action="store_true", help="forget the runs recorded before")
    ap.add_argument("--workdir", type=Path, default=None, help="scratch parent (default /tmp)")
    ap.add_argument("--keep", action="store_true", help="keep the scratch folder")
    args = ap.parse_args(argv)
    if args.repeat < 1:
        ap.error("--repeat must be at least 1")
    args.started = datetime.now(UTC).isoformat(timespec="seconds")
    return args


def print_summary(r: dict[str, Any]) -> None:
    old = r["sides"][0]
    for s in r["sides"]:
        ratio = f"{s['rate'] / old['rate']:.2f}x old" if s["rate"] and old["rate"] else ""
        rate = f"{s['rate']:,.0f} msg/s" if s["rate"] else "n/a"
        print(
            f"{s['commit'][:10]} {s['label']:>10}: {_spread(s['wall'])} s  {rate}  {ratio}"
            + (f"  ERROR {s['error']}" if s["error"] else "")
        )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    reason = dovecot.dovecot_available()
    if reason:
        print(f"compare_commits: {reason}", file=sys.stderr)
        return 1
    result = compare(args)
    print_summary(result)
    store = args.out.with_suffix(".json")
    runs = [] if args.fresh or not store.exists() else json.loads(store.read_text())
    runs.append(result)
    store.write_text(json.dumps(runs, indent=1, ensure_ascii=False) + "\n")
    args.out.write_text(render(runs))
    log(f"wrote {args.out} and {store}")
    return 0 if all(not s["error"] for s in result["sides"]) else 1


if __name__ == "__main__":
    sys.exit(main())
