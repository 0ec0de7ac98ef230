"""The command line: parse arguments, call the app, print a table or --json. Nothing else."""

from __future__ import annotations

import functools
import json
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from mailkeeper import __version__
from mailkeeper.errors import MailkeeperError, UserError

logger = logging.getLogger("mailkeeper")


# ----------------------------------------------------------------------------- helpers
def _setup_logging(verbose: int) -> None:
    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    logging.basicConfig(
        level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    if verbose < 2:
        logging.getLogger("imapclient").setLevel(logging.WARNING)


def _fail(message: str, problems: list[str], code: int = 1) -> None:
    click.echo(f"Error: {message}", err=True)
    for p in problems:
        click.echo(f"  - {p}", err=True)
    sys.exit(code)


def handle_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """User mistakes become advice and exit 1; anything unexpected one line, never a traceback."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        ctx = click.get_current_context()
        verbose = (ctx.obj or {}).get("verbose", 0)
        try:
            try:
                return fn(*args, **kwargs)
            except Exception as e:  # a page found damaged in the middle of a command
                from mailkeeper.store.db import damaged, is_damage

                if not is_damage(e):
                    raise
                raise damaged((ctx.obj or {}).get("database"), e) from e
        except UserError as e:
            _fail(e.args[0] if e.args else str(type(e).__name__), e.problems)
        except MailkeeperError as e:
            problems = list(getattr(e, "problems", []))  # a refused connection says where
            _fail(str(e), problems or ([] if verbose else ["run with -v for details"]))
        except KeyboardInterrupt:
            _fail("interrupted; the next sync resumes where this one stopped", [], 130)
        except BrokenPipeError:
            _quiet_broken_pipe()
        except Exception as e:  # noqa: BLE001 - the one place that catches everything
            if verbose:
                logger.exception("unexpected error")
            _fail(f"{type(e).__name__}: {e}", [] if verbose else ["run with -v for details"])

    return wrapper


def _quiet_broken_pipe() -> None:
    """The reader went away (`mailkeeper customers | head`): stop quietly, like cat does.
    stdout is pointed at /dev/null so that flushing it at exit does not raise again."""
    import os

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    # 0, not 128 + SIGPIPE: the reader had what it wanted (`| head`), nothing went wrong, and
    # a script under `set -o pipefail` must not fail for it.
    sys.exit(0)


def _console() -> Any:
    """rich's Console, ending quietly when the reader goes away: rich's own handler exits 1
    with nothing on stderr, which a script cannot tell from a failure."""
    from rich.console import Console

    class _Quiet(Console):
        def on_broken_pipe(self) -> None:
            _quiet_broken_pipe()

    # Piped or captured output keeps whole lines instead of folding at 80 columns.
    return _Quiet(width=None if sys.stdout.isatty() else 160)


class _Group(click.Group):
    """Global options are accepted after the command too: `mailkeeper customers --config X`
    is `mailkeeper --config X customers` (unless the command has an option of that name)."""

    GLOBAL = {"--config": True, "-v": False, "-vv": False, "-vvv": False, "--verbose": False}

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        args = list(args)
        i, n = None, 0
        while n < len(args):  # the command: the first word that is not a global option's value
            if args[n] in self.commands:
                i = n
                break
            n += 2 if args[n] == "--config" else 1
        if i is None:
            return super().parse_args(ctx, args)
        command = self.commands[args[i]]
        own = {o for p in command.params for o in getattr(p, "opts", [])}
        head, tail, rest = args[: i + 1], [], args[i + 1 :]
        j = 0
        while j < len(rest):
            a = rest[j]
            if a == "--":
                tail += rest[j:]
                break
            name = a.split("=", 1)[0]
            if name in self.GLOBAL and name not in own:
                takes_value = self.GLOBAL[name] and "=" not in a
                moved = rest[j : j + 1 + takes_value]
                head = head[:i] + moved + head[i:]
                i += len(moved)
                j += len(moved)
                continue
            tail.append(a)
            j += 1
        return super().parse_args(ctx, head + tail)


def _app(ctx: click.Context) -> Any:
    from mailkeeper.app import App

    app = App.from_config(ctx.obj.get("config"))
    ctx.obj["database"] = app.settings.database  # named if the file turns out damaged
    ctx.call_on_close(app.close)
    return app


def _json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


def _listing(
    rows: list[dict[str, Any]],
    as_json: bool,
    table: Callable[[list[dict[str, Any]], Any], None],
    tz: Any,
) -> None:
    """A listing command's output: --json prints the rows as one JSON array (times in UTC),
    else `table` prints them for the rep (times in the rep's zone `tz`)."""
    if as_json:
        _json(rows)
    else:
        table(rows, tz)


def _table(columns: list[str], rows: list[list[Any]], title: str | None = None) -> None:
    from rich.table import Table

    table = Table(title=title, show_edge=False, header_style="bold")
    for c in columns:
        table.add_column(c, no_wrap=c != "subject")
    for r in rows:
        table.add_row(*["" if v is None else str(v) for v in r])
    _console().print(table)


def _local(iso: str | None, tz: Any = None, fmt: str = "%Y-%m-%d") -> str:
    """A stored UTC time as the rep's local date (mailkeeper.yaml timezone) for tables;
    --json keeps UTC."""
    if not iso:
        return ""
    if tz is None:
        return iso[:10]
    from datetime import datetime

    try:
        when = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        return iso[:10]
    return when.astimezone(tz).strftime(fmt)


def _day(iso: str | None, tz: Any = None) -> str:
    return _local(iso, tz)


class _Timestamp(click.ParamType):
    """--as-of and --until: an ISO date or time; a date alone is midnight UTC, a time without
    a zone is UTC."""

    name = "TIMESTAMP"

    def convert(self, value: Any, param: Any, ctx: Any) -> Any:
        from datetime import UTC, datetime

        if isinstance(value, datetime):
            return value
        try:
            dt = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            self.fail(f"'{value}' is not a date or time like 2026-11-30 or 2026-11-30T09:00Z")
        return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


AS_OF = click.option(
    "--as-of", type=_Timestamp(), help="Judge as of this time (default: now), to replay a day."
)
TIMESTAMP = _Timestamp()


# ----------------------------------------------------------------------------- commands
@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config",
    type=click.Path(path_type=Path),
    envvar="MAILKEEPER_CONFIG",
    help="mailkeeper.yaml to use (default: $MAILKEEPER_CONFIG, then the XDG config dir).",
)
@click.option("-v", "--verbose", count=True, help="More logging: -v info, -vv debug.")
@click.version_option(__version__, prog_name="mailkeeper")
@click.pass_context
def cli(ctx: click.Context, config: Path | None, verbose: int) -> None:
    """mailkeeper: keeps long-standing customers from drifting away.

    It watches your mailbox (read-only), links every message to a customer and
    keeps the history in a local SQLite database.

    Example: mailkeeper init && mailkeeper check && mailkeeper sync
    """
    _setup_logging(verbose)
    ctx.obj = {"config": config, "verbose": verbose}


@cli.command()
@click.option(
    "--dir",
    "directory",
    type=click.Path(path_type=Path),
    help="Where to write the config folder (default: the XDG config dir).",
)
@click.option("--force", is_flag=True, help="Overwrite files that already exist.")
@handle_errors
def init(directory: Path | None, force: bool) -> None:
    """Write mailkeeper.yaml plus editable copies of the default rules and templates.

    Example: mailkeeper init --dir ~/mailkeeper
    """
    from mailkeeper.config.defaults import default_config_dir, init_config_dir

    dest = directory or default_config_dir()
    written = init_config_dir(dest, force=force)
    for p in written:
        click.echo(f"wrote {p}")
    if not written:
        click.echo(f"{dest} already has every file (use --force to overwrite)")
    click.echo(f"Next: edit {dest / 'mailkeeper.yaml'} (your account), then `mailkeeper check`.")


@cli.command()
@click.option(
    "--dir",
    "directory",
    type=click.Path(path_type=Path),
    help="Where to build the demo (default: /tmp/mailkeeper-demo-USER, replaced by each run).",
)
@click.option(
    "--as-of",
    "as_of",
    type=_Timestamp(),
    help="Build the story around this day (default: today), e.g. 2026-11-01.",
)
@handle_errors
def demo(directory: Path | None, as_of: Any) -> None:
    """Build a small demo mailbox (an export furniture rep and her customers, dated around
    today), sync it, and show what mailkeeper finds and the drafts it writes. Touches nothing
    of yours: it all lives in --dir.

    Example: mailkeeper demo --dir /tmp/mailkeeper-demo
    """
    from datetime import timedelta

    from mailkeeper.app import App
    from mailkeeper.demo.build import build_demo, default_demo_dir, demo_now, record_shipping

    dest = directory or default_demo_dir()
    now = demo_now(as_of)
    cfg = build_demo(dest, now)
    with App.from_config(cfg) as app:
        for r in app.sync():
            click.echo(f"synced {r.new_messages} messages of the demo mailbox in {dest}")
        tz = app.settings.tz
        _customers_table(app.customers(), tz)
        # an order in production, recorded as a rep would with `mailkeeper order ...`
        app.order_add("华美家居 Huamei Home", "HM-2610", now - timedelta(days=9))
        app.order_event("HM-2610", "deposit received", now - timedelta(days=1), "定金已到账")
        record_shipping(app, now)  # Birch & Co's orders of last year (rules/orders.yaml)
        click.echo("\nOrders (`mailkeeper orders`):")
        _orders_table(app.orders("open", now), tz)
        click.echo("\nNeglected accounts (`mailkeeper neglected`):")
        _print_neglected(app.neglected(now), tz, show_all=False)
        click.echo("\nCustomer mail waiting for an answer (`mailkeeper issues --all`):")
        _issues_table(app.issues("all", now), tz)
        click.echo("\nYour promises (`mailkeeper promises --all`):")
        _promises_table(app.promises("all", now), tz)
        site = app.report(dest / "site", now)
        card = app.report_card("Birch & Co", now.year - 1, now)
        click.echo('\nThe yearly report card (`mailkeeper report-card "Birch & Co"`):')
        _print_card(card, dry_run=False)
        report = app.draft(as_of=now)
        click.echo(f"\nDrafts written into {dest / 'Maildir' / '.Drafts' / 'cur'}:")
        _print_draft_report(report, dry_run=False)
        click.echo("\nWhat customers said they will need (`mailkeeper needs`):")
        _needs_table(app.needs())
    click.echo(f"\nThe account-health site (`mailkeeper report`): {site['index']}")
    click.echo(f"\nTry: mailkeeper --config {cfg} explain 1")
    click.echo(f'     mailkeeper --config {cfg} customer "Birch & Co"')


@cli.command()
@click.option("--offline", is_flag=True, help="Skip the network: no login, no folder list.")
@click.pass_context
@handle_errors
def check(ctx: click.Context, offline: bool) -> None:
    """Find what a sync would trip over: mailkeeper.yaml and the rules, each account's
    secret, login and folders, the database path, the templates. Every problem with file
    and line.

    Example: mailkeeper --config ~/mailkeeper/mailkeeper.yaml check --offline
    """
    from mailkeeper.app import App

    result = App.check(ctx.obj["config"], offline=offline)
    for w in result.warnings:
        click.echo(f"warning: {w}", err=True)
    if result.problems:
        _fail(f"{len(result.problems)} problem(s) found", result.problems)
    for line in result.passed:
        click.echo(line)
    click.echo(f"{result.path}: ok")


@cli.command()
@click.option("--account", help="Sync only this account.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.pass_context
@handle_errors
def sync(ctx: click.Context, account: str | None, as_json: bool) -> None:
    """Copy new mail of Inbox, Sent and extra folders into the database, then link it.

    Read-only: never marks mail read, never moves, deletes or sends anything.

    Example: mailkeeper sync --account work
    """
    app = _app(ctx)
    reports: list[Any] = []
    try:
        with _progress(enabled=not as_json and sys.stderr.isatty()) as progress:
            app.sync(account, progress=progress, reports=reports)
    except Exception:
        if as_json:  # the usual array, the failing account's `error` filled; then advice
            _json([r.as_dict() for r in reports])
        raise
    if as_json:
        _json([r.as_dict() for r in reports])
        return
    for r in reports:
        folders = ", ".join(f"{f.name} +{f.new}" for f in r.folders)
        found = r.link.discovered if r.link else []
        extra = f"; discovered: {_summary(found)}" if found else ""
        click.echo(
            f"{r.account}: {r.new_messages} new message(s) ({folders}) "
            f"in {r.timings.get('total', 0):.1f}s{extra}"
        )
        for note in r.link.notes if r.link else []:
            click.echo(f"  {note}")


def _summary(names: list[str], show: int = 5) -> str:
    """A list of names, summarised when long: the first few and how many more."""
    if len(names) <= show + 1:
        return ", ".join(names)
    return (
        f"{len(names)} customers: {', '.join(names[:show])} and {len(names) - show} more "
        "(see `mailkeeper customers`)"
    )


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.pass_context
@handle_errors
def relink(ctx: click.Context, as_json: bool) -> None:
    """Link every stored message to customers again (after editing customers.yaml).

    Example: mailkeeper relink
    """
    import time

    app = _app(ctx)
    t = time.perf_counter()
    stats = app.relink()
    data = {
        "messages": stats.messages,
        "linked": stats.linked,
        "links": stats.links,
        "by_method": stats.by_method,
        "discovered": stats.discovered,
        "seconds": round(time.perf_counter() - t, 4),
    }
    if as_json:
        _json(data)
    else:
        click.echo(
            f"{stats.messages} messages, {stats.linked} linked "
            f"({', '.join(f'{k} {v}' for k, v in sorted(stats.by_method.items()))})"
        )


@cli.command()
@click.option(
    "--sort",
    type=click.Choice(["tier", "silence"]),
    default="tier",
    show_default=True,
    help="tier: configured first, by tier and name; silence: longest since the last mail first.",
)
@AS_OF
@click.option("--json", "as_json", is_flag=True, help="Print one JSON array.")
@click.pass_context
@handle_errors
def customers(ctx: click.Context, sort: str, as_of: Any, as_json: bool) -> None:
    """Every customer with tier, status, message count, last inbound and outbound mail.

    Example: mailkeeper customers --sort silence
    """
    app = _app(ctx)
    rows = app.customers(sort=sort, as_of=as_of)
    _relink_note(app)
    _listing(rows, as_json, _customers_table, app.settings.tz)


def _relink_note(app: Any) -> None:
    if app.relink_pending:
        click.echo(
            "note: the rules changed and a relink is pending (another mailkeeper, such as the "
            "daemon, is writing, or the database is read-only): shown as linked before",
            err=True,
        )


def _customers_table(rows: list[dict[str, Any]], tz: Any = None) -> None:
    _table(
        ["name", "tier", "status", "messages", "last inbound", "last outbound"],
        [
            [
                r["name"],
                r["tier"],
                r["status"],
                r["messages"],
                _day(r["last_inbound"], tz),
                _day(r["last_outbound"], tz),
            ]
            for r in rows
        ],
    )


@cli.command()
@click.argument("name")
@click.option(
    "--limit",
    default=30,
    show_default=True,
    type=click.IntRange(min=0),
    help="Timeline entries to show (0: all).",
)
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@click.pass_context
@handle_errors
def customer(ctx: click.Context, name: str, limit: int, as_json: bool) -> None:
    """One customer: its domains, contacts and the timeline of its mail. NAME may be the
    name or a unique part of it (a word, the start), an alias, a domain or an address.

    Example: mailkeeper customer Huamei
    """
    app = _app(ctx)
    c = app.customer(name, limit or None)
    _relink_note(app)
    if as_json:
        _json(c)
        return
    tz = app.settings.tz
    own = app.party.own
    click.echo(
        f"{c['name']}  tier {c['tier'] or '-'}  {c['status']}  {c['messages']} messages  "
        f"domains: {', '.join(c['domains']) or '-'}"
    )
    _table(
        ["contact", "name", "messages", "last seen"],
        [[x["email"], x["name"], x["messages"], _day(x["last_seen"], tz)] for x in c["contacts"]],
        title="Contacts",
    )
    _table(
        ["date", "", "from / to", "subject", "link"],
        [
            [
                _day(t["date"], tz),
                "→" if t["direction"] == "outbound" else "←",
                _recipient(t["to"], own) if t["direction"] == "outbound" else t["from"],
                t["subject"][:70],
                t["link"],
            ]
            for t in c["timeline"]
        ],
        title="Timeline",
    )

    if c.get("needs"):
        _needs_table(c["needs"])


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print one JSON array.")
@click.pass_context
@handle_errors
def needs(ctx: click.Context, as_json: bool) -> None:
    """What customers said they will need, and when: found in their mail by `scan`, each
    recalled as a `need` finding some weeks before its time (touches.yaml need_lead_weeks).

    Example: mailkeeper needs --json
    """
    app = _app(ctx)
    _listing(app.needs(), as_json, lambda rows, tz: _needs_table(rows), app.settings.tz)


def _needs_table(rows: list[dict[str, Any]]) -> None:
    _table(
        ["id", "customer", "from", "to", "state", "they wrote"],
        [
            [
                r["id"],
                r["customer"],
                r["window_start"],
                r["window_end"],
                r["state"],
                r["sentence"][:80],
            ]
            for r in rows
        ],  # fmt: skip
        title="Needs",
    )


def _recipient(to: list[str], own: Any) -> str:
    """Who outbound mail went to: the first recipient who is not the rep, and how many more."""
    others = [a for a in to if a not in own] or to
    if not others:
        return ""
    return others[0] + (f" +{len(others) - 1}" if len(others) > 1 else "")


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@click.pass_context
@handle_errors
def status(ctx: click.Context, as_json: bool) -> None:
    """Accounts, folders (UIDVALIDITY, last UID, messages), last sync, database size.

    Example: mailkeeper status --json
    """
    app = _app(ctx)
    s = app.status()
    if as_json:
        _json(s)
        return
    tz = app.settings.tz
    last = _local(s["last_sync_at"], tz, "%Y-%m-%d %H:%M") or "never"
    click.echo(
        f"database: {s['database']} ({s['database_bytes'] / 1e6:.1f} MB), "
        f"{s['messages']} messages, last sync {last}"
    )
    checked = _local(s["database_checked_at"], tz, "%Y-%m-%d %H:%M")
    click.echo(
        f"database checked whole (quick_check): {checked}"
        if checked
        else "database checked whole (quick_check): never (run `mailkeeper check`)"
    )
    d = s["daemon"]
    if d["running"]:
        since = _local(d["since"], tz, "%Y-%m-%d %H:%M")
        click.echo(f"daemon: running (pid {d['pid']}) since {since}")
    else:
        click.echo("daemon: not running (start it with `mailkeeper daemon`)")
    if s["last_error"]:
        when = _local(s["last_error_at"], tz, "%Y-%m-%d %H:%M")
        click.echo(f"last error ({when}): {s['last_error']}")
    click.echo(f"open findings: {s['open_findings']}, drafts waiting: {s['pending_drafts']}")
    for a in s["accounts"]:
        for w in a["warnings"]:
            click.echo(f"warning: {a['name']}: {w}")
    for w in s.get("warnings", []):
        click.echo(f"warning: {w}")
    for a in s["accounts"]:
        _table(
            ["folder", "role", "uidvalidity", "last uid", "messages", "synced"],
            [
                [
                    f["name"],
                    f["role"],
                    f["uidvalidity"],
                    f["last_uid"],
                    f["messages"],
                    _local(f["last_sync_at"], tz, "%Y-%m-%d %H:%M"),
                ]
                for f in a["folders"]
            ],
            title=f"{a['name']} ({a['username']}@{a['host']})",
        )


@cli.command()
@click.option(
    "--limit",
    default=0,
    type=click.IntRange(min=0),
    help="Show at most this many (newest first; 0: all).",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON array.")
@click.pass_context
@handle_errors
def unlinked(ctx: click.Context, limit: int, as_json: bool) -> None:
    """Messages linked to no customer, newest first, and why: internal, bulk, auto,
    ignored, freemail (an address not listed), one_way (an unknown domain with mail one way
    only). To see that nothing important fell through.

    Example: mailkeeper unlinked --limit 50
    """
    app = _app(ctx)
    _listing(app.unlinked(limit or None), as_json, _unlinked_table, app.settings.tz)


def _unlinked_table(rows: list[dict[str, Any]], tz: Any) -> None:
    _table(
        ["date", "from", "subject", "reason"],
        [[_day(r["date"], tz), r["from"], r["subject"][:60], r["reason"]] for r in rows],
    )
    counts: dict[str, int] = {}
    for r in rows:
        counts[r["reason"]] = counts.get(r["reason"], 0) + 1
    if counts:
        click.echo(", ".join(f"{k}: {v}" for k, v in sorted(counts.items(), key=lambda x: -x[1])))


class _progress:
    """A rich progress bar on a terminal; nothing otherwise."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.bar: Any = None
        self.tasks: dict[str, Any] = {}

    def __enter__(self) -> Callable[[str, int, int], None] | None:
        if not self.enabled:
            return None
        from rich.progress import Progress

        self.bar = Progress(transient=True)
        self.bar.start()
        return self.update

    def update(self, label: str, done: int, total: int) -> None:
        if total < 200:
            return
        if label not in self.tasks:
            self.tasks[label] = self.bar.add_task(label, total=total)
        self.bar.update(self.tasks[label], completed=done)

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()


# ---- detection


@cli.command()
@AS_OF
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.pass_context
@handle_errors
def scan(ctx: click.Context, as_of: Any, as_json: bool) -> None:
    """Judge new mail and bring the findings up to date (neglect, issues, promises).

    Example: mailkeeper scan --as-of 2026-11-30T18:00Z
    """
    r = _app(ctx).scan(as_of)
    if as_json:
        _json(r.as_dict())
        return
    states = ", ".join(f"{n} {s}" for s, n in sorted(r.by_state.items()))
    click.echo(
        f"{r.findings} findings ({states}); {r.opened} new, {r.changed} changed, "
        f"{r.closed} closed; {r.judged} messages judged in {r.seconds:.1f}s"
    )


@cli.command()
@AS_OF
@click.option("--all", "show_all", is_flag=True, help="Also dormant customers.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON array.")
@click.pass_context
@handle_errors
def neglected(ctx: click.Context, as_of: Any, show_all: bool, as_json: bool) -> None:
    """Customers you have not written to for longer than their tier allows, most overdue first
    (weighted by tier); snoozed ones after them; discovered ones marked. Dormant customers
    (no mail either way for longer than the tier's dormant_after_days) are counted in one
    line and listed with --all.

    Example: mailkeeper neglected --as-of 2026-11-30
    """
    app = _app(ctx)
    rows = app.neglected(as_of)
    if as_json:
        _json(rows if show_all else _awake(rows))
        return
    _print_neglected(rows, app.settings.tz, show_all)


def _awake(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in rows if r["state"] != "dormant"]


def _print_neglected(rows: list[dict[str, Any]], tz: Any, show_all: bool) -> None:
    """The table, dormant customers counted in one line unless --all lists them: on a mailbox
    with years of history they were 253 of 257 rows."""
    shown = rows if show_all else _awake(rows)
    _neglected_table(shown, tz)
    if hidden := len(rows) - len(shown):
        click.echo(f"{hidden} dormant customer(s) not shown: mailkeeper neglected --all")


def _neglected_table(rows: list[dict[str, Any]], tz: Any) -> None:
    _table(
        ["id", "customer", "tier", "state", "you wrote", "they wrote", "days", "overdue"],
        [
            [
                r["id"],
                r["customer"] + (" (discovered)" if r["status"] == "discovered" else ""),
                r["tier"],
                r["state"],
                _day(r["last_outbound"], tz),
                _day(r["last_inbound"], tz),
                r["days_since_contact"],
                r["overdue_days"],
            ]  # fmt: skip
            for r in rows
        ],
    )


def _which(closed: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """--open (default) | --overdue | --all, --as-of and --json of a findings listing."""

    def decorate(f: Callable[..., Any]) -> Callable[..., Any]:
        for option in reversed(
            [
                click.option(
                    "--open",
                    "which",
                    flag_value="open",
                    default=True,
                    help="Open and overdue (default).",
                ),  # fmt: skip
                click.option("--overdue", "which", flag_value="overdue", help="Only overdue."),
                click.option("--all", "which", flag_value="all", help=f"Also {closed} ones."),
                AS_OF,
                click.option("--json", "as_json", is_flag=True, help="Print one JSON array."),
            ]
        ):
            f = option(f)
        return f

    return decorate


@cli.command()
@_which("acknowledged and resolved")
@click.pass_context
@handle_errors
def issues(ctx: click.Context, which: str, as_of: Any, as_json: bool) -> None:
    """Customer mail that needs your answer: complaints, questions, requests.

    Example: mailkeeper issues --overdue
    """
    app = _app(ctx)
    _listing(app.issues(which, as_of), as_json, _issues_table, app.settings.tz)


def _issues_table(rows: list[dict[str, Any]], tz: Any) -> None:
    _table(
        ["id", "customer", "category", "state", "received", "due", "subject"],
        [
            [
                r["id"],
                r["customer"],
                r["category"],
                r["state"],
                _day(r["received_at"], tz),
                _day(r["due_at"], tz),
                r["subject"],
            ]
            for r in rows
        ],  # fmt: skip
    )


@cli.command()
@_which("kept and resolved")
@click.pass_context
@handle_errors
def promises(ctx: click.Context, which: str, as_of: Any, as_json: bool) -> None:
    """Promises you made in your mail ("I will send the quotation by Friday") and their due time.

    Example: mailkeeper promises --all
    """
    app = _app(ctx)
    _listing(app.promises(which, as_of), as_json, _promises_table, app.settings.tz)


def _promises_table(rows: list[dict[str, Any]], tz: Any) -> None:
    _table(
        ["id", "customer", "state", "due", "what you promised"],
        [[r["id"], r["customer"], r["state"], _day(r["due_at"], tz), r["text"]] for r in rows],
    )


@cli.command()
@click.argument("finding_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@click.pass_context
@handle_errors
def explain(ctx: click.Context, finding_id: int, as_json: bool) -> None:
    """Why a finding is what it is: the rule, the messages, the phrase, the arithmetic.

    Example: mailkeeper explain 12
    """
    e = _app(ctx).explain(finding_id)
    if as_json:
        _json(e)
        return
    click.echo(f"#{e['id']} {e['kind']} · {e['customer']} · {e['state']}")
    for step in e["steps"]:
        click.echo(f"  - {step}")
    for h in e["history"]:
        click.echo(f"  {h['at']}  {h['state']}" + (f"  ({h['note']})" if h["note"] else ""))


@cli.command()
@click.argument("name")
@click.option("--until", type=TIMESTAMP, required=True, help="Silence it until this date.")
@click.pass_context
@handle_errors
def snooze(ctx: click.Context, name: str, until: Any) -> None:
    """Do not list a customer as neglected until a date (kept in the database).

    Example: mailkeeper snooze "Birch & Co" --until 2027-01-15
    """
    r = _app(ctx).snooze(name, until)
    click.echo(f"{r['customer']}: snoozed until {r['until']}")


@cli.command()
@click.argument("finding_id", type=int)
@click.option("--note", help="Why (kept in the finding's history).")
@click.pass_context
@handle_errors
def resolve(ctx: click.Context, finding_id: int, note: str | None) -> None:
    """Mark an issue or promise as dealt with (it stays resolved in later scans).

    Example: mailkeeper resolve 12 --note "answered by phone"
    """
    r = _app(ctx).resolve(finding_id, note)
    click.echo(f"#{r['id']}: {r['state']}")


# ---- orders
class _Day(click.ParamType):
    """A date (the start of that day in your `timezone:`) or a time (UTC unless it has a zone)."""

    name = "DATE"

    def convert(self, value: Any, param: Any, ctx: Any) -> Any:
        from datetime import date

        if isinstance(value, date):
            return value
        text = str(value).strip()
        if len(text) == 10:
            try:
                return date.fromisoformat(text)
            except ValueError:
                self.fail(f"'{value}' is not a date like 2026-11-30")
        return TIMESTAMP.convert(value, param, ctx)


DAY = _Day()


@cli.group()
def order() -> None:
    """Declare orders and record their milestones and problems (see `mailkeeper orders`).

    Example: mailkeeper order add "Birch & Co" LF-2291 --confirmed 2026-11-27
    """


@order.command("add")
@click.argument("customer")
@click.argument("ref")
@click.option("--confirmed", type=DAY, required=True, help="When it was confirmed (deposit, PI).")
@click.option("--plan", help="A milestone plan in rules/orders.yaml (default: default_plan).")
@click.option("--ship-by", type=DAY, help="When it must ship (replaces the plan's last date).")
@click.option("--quantity", type=click.IntRange(min=1), help="Pieces ordered (the report card).")
@click.option("--amount", help="What the order is worth, e.g. 9500.50 (needs --currency).")
@click.option("--currency", help="The amount's currency code, e.g. USD.")
@click.pass_context
@handle_errors
def order_add(ctx: click.Context, customer: str, ref: str, confirmed: Any, plan: str | None,
              ship_by: Any, quantity: int | None, amount: str | None,
              currency: str | None) -> None:  # fmt: skip
    """Declare an order of CUSTOMER with reference REF. rules/orders.yaml wins over this.

    Example: mailkeeper order add "Birch & Co" LF-2291 --confirmed 2026-11-27 --quantity 120
    --amount 9500 --currency USD
    """
    app = _app(ctx)
    r = app.order_add(customer, ref, confirmed, plan, ship_by, quantity, amount, currency)
    if not r["added"] and r.get("declared_in"):
        click.echo(f"{r['ref']} is declared in {r['declared_in']}; the file wins: change it "
                   "there (nothing changed here)")  # fmt: skip
        return
    how = "added" if r["added"] else "updated"
    click.echo(f"{r['ref']}: {how} for {r['customer']} (confirmed "
               f"{_day(r['confirmed_at'], app.settings.tz)}, plan {r['plan']})")  # fmt: skip


@order.command("event")
@click.argument("ref")
@click.argument("milestone")
@click.option("--date", "at", type=DAY, help="When it was reached (default: now).")
@click.option("--note", help="What to tell the customer about it.")
@click.pass_context
@handle_errors
def order_event(ctx: click.Context, ref: str, milestone: str, at: Any, note: str | None) -> None:
    """Record that order REF reached MILESTONE (a name of its plan, e.g. deposit_received).

    Example: mailkeeper order event LF-2291 production_started --date 2026-12-21
    """
    app = _app(ctx)
    r = app.order_event(ref, milestone, at, note)
    click.echo(f"{r['ref']}: {r['milestone']} on {_day(r['at'], app.settings.tz)}")


@order.command("problem")
@click.argument("ref")
@click.option("--note", required=True, help="What went wrong, and the plan.")
@click.option("--date", "at", type=DAY, help="When it happened (default: now).")
@click.pass_context
@handle_errors
def order_problem(ctx: click.Context, ref: str, note: str, at: Any) -> None:
    """Record a problem with order REF: a finding until you tell the customer.

    Example: mailkeeper order problem LF-2291 --note "Power cut at the factory: 3 days lost"
    """
    app = _app(ctx)
    r = app.order_problem(ref, note, at)
    click.echo(f"{r['ref']}: problem recorded on {_day(r['at'], app.settings.tz)}")


@cli.command()
@click.option("--all", "which", flag_value="all", help="Also closed orders.")
@AS_OF
@click.option("--json", "as_json", is_flag=True, help="Print one JSON array.")
@click.pass_context
@handle_errors
def orders(ctx: click.Context, which: str | None, as_of: Any, as_json: bool) -> None:
    """Open orders: last and next milestone, when it is due, how late; problems first.

    Example: mailkeeper orders --as-of 2027-01-06
    """
    app = _app(ctx)
    _listing(app.orders(which or "open", as_of), as_json, _orders_table, app.settings.tz)


def _orders_table(rows: list[dict[str, Any]], tz: Any) -> None:
    _table(
        ["ref", "customer", "state", "confirmed", "last milestone", "next", "due", "late"],
        [[r["ref"], r["customer"], r["state"], _day(r["confirmed_at"], tz),
          f"{r['last_milestone'] or ''} {_day(r['last_milestone_at'], tz)}".strip(),
          r["next_milestone"], _day(r["next_due_at"], tz), r["days_late"]] for r in rows],
    )  # fmt: skip


@cli.command()
@click.option(
    "--out",
    "out",
    type=click.Path(path_type=Path, file_okay=False),
    help="Folder to write the site into (default: report.out, else the data dir).",
)
@AS_OF
@click.pass_context
@handle_errors
def report(ctx: click.Context, out: Path | None, as_of: Any) -> None:
    """Write the account-health site: index.html (every customer, worst first, with health,
    last contact, open findings, orders, mail per month) and one page per customer. Opens
    from file:// with no network; the figures are those of the --json listings.

    Example: mailkeeper report --out ~/accounts --as-of 2026-11-30
    """
    r = _app(ctx).report(out, as_of)
    click.echo(f"wrote {r['pages']} customer pages ({r['bytes'] / 1e6:.1f} MB); open {r['index']}")


@cli.command("report-card")
@click.argument("customer")
@click.option("--year", type=click.IntRange(1970, 9999), help="Calendar year (default: last year).")
@click.option("--dry-run", is_flag=True, help="Print the draft's text; add nothing.")
@AS_OF
@click.option("--json", "as_json", is_flag=True, help="Print the figures as one JSON object.")
@click.pass_context
@handle_errors
def report_card(ctx: click.Context, customer: str, year: int | None, dry_run: bool, as_of: Any,
                as_json: bool) -> None:  # fmt: skip
    """Draft CUSTOMER's yearly report card to their main contact, in their language: orders
    confirmed in the year, on-time delivery, problems told at once, questions answered, and
    what else you can do for them next year. Figures without data are left out.

    Example: mailkeeper report-card "Birch & Co" --year 2026 --dry-run
    """
    r = _app(ctx).report_card(customer, year, as_of, dry_run)
    if as_json:
        _json(r)
        return
    _print_card(r, dry_run)


def _print_card(r: dict[str, Any], dry_run: bool) -> None:
    o, t, p, i = r["orders"], r["on_time"], r["problems"], r["issues"]
    click.echo(f"{r['customer']}, {r['period']}:")
    if o:
        worth = "".join(f", {a['currency']} {a['text']}" for a in o["amounts"])
        pieces = f", {o['quantity_text']} pieces" if o["quantity_text"] else ""
        click.echo(f"  orders confirmed: {o['count']}{pieces}{worth}")
    if t:
        click.echo(f"  shipped on time: {t['on_time']} of {t['shipped']} ({t['percent']} %)")
    if p:
        told = p["median_hours_to_tell"]
        when = f", told within {told} h (median)" if told is not None else ""
        click.echo(f"  problems: {p['recorded']}, {p['told']} told{when}")
    if i:
        h = i["median_first_answer_hours"]
        when = f", first answer within {h} working h (median)" if h is not None else ""
        click.echo(f"  questions and complaints: {i['count']}{when}, {i['open']} open")
    d = r["draft"]
    if d is None:
        click.echo(r.get("note") or "no draft")
    elif dry_run:
        click.echo("\n".join(f"{k}: {v}" for k, v in d["headers"].items()) + "\n\n" + d["text"])
    else:
        click.echo(f"added report_card to {d['to']}: {d['subject']}")


@cli.command()
@click.option("--dry-run", is_flag=True, help="Show what would be added; add nothing.")
@AS_OF
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.pass_context
@handle_errors
def draft(ctx: click.Context, dry_run: bool, as_of: Any, as_json: bool) -> None:
    """Write drafts for the open findings into your Drafts folder, most urgent first: check-ins
    for neglected customers, answers to open issues, follow-ups of promises. Never sends.

    Example: mailkeeper draft --dry-run
    """
    r = _app(ctx).draft(dry_run, as_of)
    if as_json:
        _json(r)
    else:
        _print_draft_report(r, dry_run, verbose=(ctx.obj or {}).get("verbose", 0) > 0)
    if r["broken"]:
        # the other kinds were drafted; a broken template is still a failure to fix
        kinds = ", ".join(sorted(r["broken"]))
        _fail(f"no {kinds} draft: the template has a problem (see above)",
              ["fix it, then run `mailkeeper check` and `mailkeeper draft` again"])  # fmt: skip


def _print_draft_report(r: dict[str, Any], dry_run: bool, verbose: bool = False) -> None:
    verb = "would add" if dry_run else "added"
    for d in r["added"]:
        click.echo(f"{verb} {d['kind']} to {d['to']}: {d['subject']}")
        if dry_run:  # decoded, so the rep can proofread it (the MIME form is in --json)
            lines = [f"{k}: {v}" for k, v in d["headers"].items() if k != "X-Mailkeeper-Key"]
            text = "\n".join([*lines, "", d["body"].rstrip("\n")])
            click.echo("    " + text.replace("\n", "\n    ") + "\n")
    if not r["added"]:
        click.echo(f"{verb} no draft")
    if not dry_run and (r["sent"] or r["dismissed"] or r["obsolete"] or r["still_there"]):
        click.echo(
            f"earlier drafts: {r['sent']} sent, {r['dismissed']} dismissed, "
            f"{r['obsolete']} obsolete, {r['still_there']} still waiting for you"
        )
    others = len(r["waiting"]) - r["limited"]
    if r["limited"] or others:
        parts = []
        if r["limited"]:
            parts.append(f"{r['limited']} wait for the next run (the daily or per-run limit)")
        if others:
            parts.append(f"{others} need no draft now")
        more = "" if verbose else " (details: -v or --json)"
        click.echo(f"findings without a draft: {'; '.join(parts)}{more}")
    if verbose:
        for w in r["waiting"]:
            click.echo(f"  {w}")
    for p in r["problems"]:
        click.echo(f"problem: {p}", err=True)


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print one JSON array.")
@click.pass_context
@handle_errors
def drafts(ctx: click.Context, as_json: bool) -> None:
    """The drafts mailkeeper added and what became of them (pending, sent, dismissed,
    obsolete).

    Example: mailkeeper drafts --json
    """
    app = _app(ctx)
    # app.drafts puts account and folder last, as --json has always shown them
    _listing(app.drafts(), as_json, _drafts_table, app.settings.tz)


def _drafts_table(rows: list[dict[str, Any]], tz: Any) -> None:
    _table(
        ["id", "kind", "customer", "to", "state", "made", "to fill in", "subject"],
        [
            [
                r["id"],
                r["kind"],
                r["customer"],
                r["to"],
                r["state"],
                _day(r["created_at"], tz),
                len(r["placeholders"]) or "",
                r["subject"],
            ]
            for r in rows
        ],  # fmt: skip
    )


@cli.command()
@click.option(
    "--log-format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Log lines on stderr: text, or one JSON object per line for log collectors.",
)
@click.option(
    "--install-unit",
    is_flag=True,
    help="Write a systemd user unit (Linux) or a launchd agent (macOS) that runs the daemon, "
    "then exit.",
)
@click.pass_context
@handle_errors
def daemon(ctx: click.Context, log_format: str, install_unit: bool) -> None:
    """Run in the foreground and keep everything fresh: watch the Inbox (IMAP IDLE), sync Sent
    and the other folders every few minutes, scan and draft when mail comes, and the daily
    pass at daemon.daily_at. SIGTERM/Ctrl-C stops it; SIGHUP reloads the configuration.

    Example: mailkeeper daemon --install-unit && systemctl --user enable --now mailkeeper
    """
    from mailkeeper.config import settings as config_mod
    from mailkeeper.daemon import Daemon, configure_logging
    from mailkeeper.daemon import install_unit as write_unit

    path = config_mod.find_config_path(ctx.obj["config"])
    if install_unit:
        settings = config_mod.load_settings(path)  # never a unit for one that cannot start
        from mailkeeper.daemon import unit_warnings

        for written, how in write_unit(path, settings=settings):
            click.echo(f"wrote {written}")
            click.echo(
                how if written.suffix == ".env" else f"start it now and at every login: {how}"
            )
        for w in unit_warnings(settings, path):
            click.echo(f"warning: {w}", err=True)
        return
    d = Daemon(path, install_signals=True)
    configure_logging(d.app.settings.tz, log_format, ctx.obj["verbose"])
    sys.exit(d.run())


# ----------------------------------------------------------------------------- team (issue 23)
@cli.group()
def team() -> None:
    """Team mode: publish this rep's record to the team record on PostgreSQL, and read it
    (the whole team's customers and history). Needs a team: section in mailkeeper.yaml, except
    admin-sql.

    Example: mailkeeper team push && mailkeeper team customers
    """


def _now(as_of: Any) -> Any:
    from datetime import UTC, datetime

    return as_of or datetime.now(UTC)


@team.command("admin-sql")
@click.option("--rep", "reps", multiple=True, required=True, help="A rep's role (repeat).")
@click.option("--manager", required=True, help="The manager's role.")
@click.option("--upgrade-from", type=int, help="Print the upgrade from this schema version.")
@handle_errors
def team_admin_sql(reps: tuple[str, ...], manager: str, upgrade_from: int | None) -> None:
    """Print the SQL a PostgreSQL administrator runs once inside an existing, empty database:
    the schema, one login role per rep and one for the manager (no passwords), grants and
    row-level security. Needs no configuration.

    Example: mailkeeper team admin-sql --rep amy --rep bob --manager lee > team.sql
    """
    from mailkeeper.team.admin import admin_sql

    click.echo(admin_sql(list(reps), manager, upgrade_from), nl=False)


@team.command("push")
@click.option("--batch", type=click.IntRange(1, 100_000), help="Changes per transaction.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.pass_context
@handle_errors
def team_push(ctx: click.Context, batch: int | None, as_json: bool) -> None:
    """Publish what changed since the last push (the daemon does it after each pass).

    Example: mailkeeper team push
    """
    r = _app(ctx).team_push(batch)
    if as_json:
        _json(r)
    else:
        click.echo(f"published {r['published']} changes as {r['rep']}; {r['pending']} left")


@team.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.pass_context
@handle_errors
def team_status(ctx: click.Context, as_json: bool) -> None:
    """The reps, their last push and lag, what the record holds, and naming conflicts.

    Example: mailkeeper team status --json
    """
    r = _app(ctx).team("status", now=_now(None))
    if as_json:
        return _json(r)
    _table(["rep", "last push", "lag s", "pending", "links"],
           [[x["rep"], x["last_push_at"], x["lag_seconds"], x["pending"], x["links"]]
            for x in r["reps"]], title=f"team record ({r['role']})")  # fmt: skip
    click.echo(", ".join(f"{k}: {v}" for k, v in r["counts"].items()))
    for c in r["conflicts"]:
        click.echo(
            f"conflict: {c['domain']} is {' / '.join(c['customers'])} ({', '.join(c['reps'])})"
        )


@team.command("customers")
@AS_OF
@click.option("--json", "as_json", is_flag=True, help="Print one JSON array.")
@click.pass_context
@handle_errors
def team_customers(ctx: click.Context, as_of: Any, as_json: bool) -> None:
    """Every customer of the team: owner, tier, last contact by anyone, health.

    Example: mailkeeper team customers --json
    """
    app = _app(ctx)
    _listing(app.team("customers", now=_now(as_of)), as_json, _team_customers_table,
             app.settings.tz)  # fmt: skip


def _team_customers_table(rows: list[dict[str, Any]], tz: Any) -> None:
    _table(["customer", "owner", "tier", "last in", "last out", "health"],
           [[r["name"], r["owner"], r["tier"], _day(r["last_inbound"], tz),
             _day(r["last_outbound"], tz), r["health"]] for r in rows])  # fmt: skip


@team.command("customer")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@click.pass_context
@handle_errors
def team_customer(ctx: click.Context, name: str, as_json: bool) -> None:
    """One customer's whole history across the team, newest first, with the reps holding each.

    Example: mailkeeper team customer "Birch & Co" --json
    """
    app = _app(ctx)
    r = app.team("customer", name=name)
    if as_json:
        return _json(r)
    click.echo(f"{r['name']} (owner: {r['owner']}; contacts: {', '.join(r['contacts'])})")
    _table(["date", "dir", "reps", "subject"],
           [[_day(m["date"], app.settings.tz), m["direction"], ", ".join(m["reps"]),
             m["subject"]] for m in r["messages"]])  # fmt: skip


@team.command("neglected")
@AS_OF
@click.option("--json", "as_json", is_flag=True, help="Print one JSON array.")
@click.pass_context
@handle_errors
def team_neglected(ctx: click.Context, as_of: Any, as_json: bool) -> None:
    """Customers nobody in the team has written to within their tier's interval.

    Example: mailkeeper team neglected --json
    """
    app = _app(ctx)
    _listing(app.team("neglected", now=_now(as_of)), as_json, _team_neglected_table,
             app.settings.tz)  # fmt: skip


def _team_neglected_table(rows: list[dict[str, Any]], tz: Any) -> None:
    _table(["customer", "owner", "tier", "last contact", "days", "overdue"],
           [[r["customer"], r["owner"], r["tier"], _day(r["last_contact"], tz),
             r["days_since_contact"], r["overdue_days"]] for r in rows])  # fmt: skip


@team.command("handover")
@click.argument("from_rep", metavar="FROM")
@click.option("--to", "to_rep", required=True, help="The rep who takes the customers over.")
@click.option("--customer", help="Only this customer (default: all FROM owns).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.pass_context
@handle_errors
def team_handover(ctx: click.Context, from_rep: str, to_rep: str, customer: str | None,
                  as_json: bool) -> None:  # fmt: skip
    """Move customers from one rep to another (the manager's role only). The whole history
    stays; the new owner's contact is counted from today.

    Example: mailkeeper team handover amy --to bob --customer "Birch & Co"
    """
    r = _app(ctx).team("handover", from_rep=from_rep, to_rep=to_rep, customer_name=customer,
                       now=_now(None))  # fmt: skip
    if as_json:
        return _json(r)
    click.echo(f"handed over from {r['from']} to {r['to']}: {', '.join(r['customers'])}")


def main() -> None:
    try:
        cli()
    except BrokenPipeError:  # raised outside a command, e.g. by click's own output
        _quiet_broken_pipe()


if __name__ == "__main__":
    main()
