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
            return fn(*args, **kwargs)
        except UserError as e:
            _fail(e.args[0] if e.args else str(type(e).__name__), e.problems)
        except MailkeeperError as e:
            _fail(str(e), [] if verbose else ["run with -v for details"])
        except KeyboardInterrupt:
            _fail("interrupted; the next sync resumes where this one stopped", [], 130)
        except Exception as e:  # noqa: BLE001 - the one place that catches everything
            if verbose:
                logger.exception("unexpected error")
            _fail(f"{type(e).__name__}: {e}", [] if verbose else ["run with -v for details"])

    return wrapper


def _app(ctx: click.Context) -> Any:
    from mailkeeper.app import App

    app = App.from_config(ctx.obj.get("config"))
    ctx.call_on_close(app.close)
    return app


def _json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


def _table(columns: list[str], rows: list[list[Any]], title: str | None = None) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, show_edge=False, header_style="bold")
    for c in columns:
        table.add_column(c, no_wrap=c != "subject")
    for r in rows:
        table.add_row(*["" if v is None else str(v) for v in r])
    # Piped or captured output keeps whole lines instead of folding at 80 columns.
    Console(width=None if sys.stdout.isatty() else 160).print(table)


def _day(iso: str | None) -> str:
    return (iso or "")[:10]


# ----------------------------------------------------------------------------- commands
@click.group(context_settings={"help_option_names": ["-h", "--help"]})
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
    from mailkeeper.defaults import default_config_dir, init_config_dir

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
    help="Where to build the demo (default: a new folder under /tmp).",
)
@handle_errors
def demo(directory: Path | None) -> None:
    """Build a small demo mailbox (an export furniture rep and her customers), sync it into a
    demo database and show the customers. Touches nothing of yours: it all lives in --dir.

    Example: mailkeeper demo --dir /tmp/mailkeeper-demo
    """
    import tempfile

    from mailkeeper.app import App
    from mailkeeper.demo import build_demo

    dest = directory or Path(tempfile.mkdtemp(prefix="mailkeeper-demo-"))
    cfg = build_demo(dest)
    with App.from_config(cfg) as app:
        for r in app.sync():
            click.echo(f"synced {r.new_messages} messages of the demo mailbox in {dest}")
        _customers_table(app.customers())
    click.echo(f'\nTry: mailkeeper --config {cfg} customer "Birch & Co"')


@cli.command()
@click.pass_context
@handle_errors
def check(ctx: click.Context) -> None:
    """Validate mailkeeper.yaml and the rules; print every problem with file and line.

    Example: mailkeeper --config ~/mailkeeper/mailkeeper.yaml check
    """
    from mailkeeper import config as cfg

    path = cfg.find_config_path(ctx.obj["config"])
    problems, warnings = cfg.check_with_warnings(path)
    for w in warnings:
        click.echo(f"warning: {w}", err=True)
    if problems:
        _fail(f"{len(problems)} problem(s) in the configuration", problems)
    click.echo(f"{path}: ok")


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
    with _progress(enabled=not as_json and sys.stderr.isatty()) as progress:
        reports = app.sync(account, progress=progress)
    if as_json:
        _json([r.as_dict() for r in reports])
        return
    for r in reports:
        folders = ", ".join(f"{f.name} +{f.new}" for f in r.folders)
        extra = (
            f"; discovered: {', '.join(r.link.discovered)}" if r.link and r.link.discovered else ""
        )
        click.echo(
            f"{r.account}: {r.new_messages} new message(s) ({folders}) "
            f"in {r.timings.get('total', 0):.1f}s{extra}"
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
@click.option("--json", "as_json", is_flag=True, help="Print one JSON array.")
@click.pass_context
@handle_errors
def customers(ctx: click.Context, as_json: bool) -> None:
    """Every customer with tier, status, message count, last inbound and outbound mail.

    Example: mailkeeper customers --json
    """
    rows = _app(ctx).customers()
    if as_json:
        _json(rows)
        return
    _customers_table(rows)


def _customers_table(rows: list[dict[str, Any]]) -> None:
    _table(
        ["name", "tier", "status", "messages", "last inbound", "last outbound"],
        [
            [
                r["name"],
                r["tier"],
                r["status"],
                r["messages"],
                _day(r["last_inbound"]),
                _day(r["last_outbound"]),
            ]
            for r in rows
        ],
    )


@cli.command()
@click.argument("name")
@click.option("--limit", default=30, show_default=True, help="Timeline entries to show (0: all).")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@click.pass_context
@handle_errors
def customer(ctx: click.Context, name: str, limit: int, as_json: bool) -> None:
    """One customer: its domains, contacts and the timeline of its mail.

    Example: mailkeeper customer "Birch & Co"
    """
    c = _app(ctx).customer(name, limit or None)
    if as_json:
        _json(c)
        return
    click.echo(
        f"{c['name']}  tier {c['tier'] or '-'}  {c['status']}  {c['messages']} messages  "
        f"domains: {', '.join(c['domains']) or '-'}"
    )
    _table(
        ["contact", "name", "messages", "last seen"],
        [[x["email"], x["name"], x["messages"], _day(x["last_seen"])] for x in c["contacts"]],
        title="Contacts",
    )
    _table(
        ["date", "", "from", "subject", "link"],
        [
            [
                _day(t["date"]),
                "→" if t["direction"] == "outbound" else "←",
                t["from"],
                t["subject"][:70],
                t["link"],
            ]
            for t in c["timeline"]
        ],
        title="Timeline",
    )


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@click.pass_context
@handle_errors
def status(ctx: click.Context, as_json: bool) -> None:
    """Accounts, folders (UIDVALIDITY, last UID, messages), last sync, database size.

    Example: mailkeeper status --json
    """
    s = _app(ctx).status()
    if as_json:
        _json(s)
        return
    click.echo(
        f"database: {s['database']} ({s['database_bytes'] / 1e6:.1f} MB), "
        f"{s['messages']} messages, last sync {s['last_sync_at'] or 'never'}"
    )
    if s["last_error"]:
        click.echo(f"last error: {s['last_error']}")
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
                    f["last_sync_at"],
                ]
                for f in a["folders"]
            ],
            title=f"{a['name']} ({a['username']}@{a['host']})",
        )


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


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
