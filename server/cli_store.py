"""`standing scan`, `standing list`, `standing rebuild`: the standings from files or the user's database."""
from __future__ import annotations

import json
import sys
import tempfile
import textwrap
from datetime import datetime, timezone
from pathlib import Path

import click

from .errors import BadInput

FLAG_WORD = {"amber": "AMBER", "green": "GREEN", "grey": "GREY", "red": "RED"}
FLAG_COLOUR = {"amber": "yellow", "green": "green", "grey": "white", "red": "red"}
# Wrap the reason and evidence lines of the table here (a terminal's usual width).
TABLE_WIDTH = 100
# Public fields of an application in --json output (the API object plus message_ids).
JSON_FIELDS = ("id", "company", "role", "flag", "status", "reason", "evidence", "expected_by",
               "days_silent", "question", "last_contact", "trend", "rounds", "message_ids")


def parse_now(value: str | None) -> datetime | None:
    """--now ISO -> aware datetime (UTC when no zone is given); BadInput on garbage."""
    if value is None:
        return None
    try:
        when = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise BadInput(f"--now must be an ISO date or time, like 2026-11-20T12:00:00+00:00, not {value!r}.")
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def public(app: dict) -> dict:
    return {k: app.get(k) for k in JSON_FIELDS}


def print_table(apps: list[dict]) -> None:
    """One block per application: flag, status, company and role; then the reason and evidence."""
    if not apps:
        click.echo("No job applications found.")
        return
    colour = sys.stdout.isatty()
    for app in apps:
        flag = f"{FLAG_WORD[app['flag']]:<6}"
        if colour:
            flag = click.style(flag, fg=FLAG_COLOUR[app["flag"]], bold=True)
        title = " - ".join(x for x in (app.get("company") or "Unknown employer", app.get("role")) if x)
        click.echo(f"{flag} {app['status']:<13} {title}")
        for line in textwrap.wrap(app["reason"], TABLE_WIDTH - 21):
            click.echo(" " * 21 + line)
        ev = app.get("evidence")
        if ev and ev.get("text"):
            quote = " ".join(ev["text"].split())
            for line in textwrap.wrap(f"\u201c{quote}\u201d", TABLE_WIDTH - 21):
                click.echo(" " * 21 + line)
        if app.get("question"):
            for line in textwrap.wrap(f"Ask: {app['question']}", TABLE_WIDTH - 21):
                click.echo(" " * 21 + line)
        click.echo("")
    counts: dict[str, int] = {}
    for app in apps:
        counts[app["flag"]] = counts.get(app["flag"], 0) + 1
    click.echo(", ".join(f"{counts[f]} {f}" for f in ("amber", "green", "grey", "red") if f in counts))


def emit(apps: list[dict], as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps({"applications": [public(a) for a in apps]}, ensure_ascii=False, indent=2))
    else:
        print_table(apps)


class _Progress:
    """A one-line counter on stderr, only when stderr is a terminal."""

    def __init__(self):
        self.enabled = sys.stderr.isatty()

    def __call__(self, done: int) -> None:
        if self.enabled:
            click.echo(f"\rread {done} messages", nl=False, err=True)

    def close(self) -> None:
        if self.enabled:
            click.echo("", err=True)


@click.command("scan")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print {\"applications\": [...]} as JSON.")
@click.option("--now", "now_text", metavar="ISO", help="Judge silence and deadlines at this time.")
@click.option("--me", "me", multiple=True, metavar="ADDR",
              help="Your own address (repeatable); guessed from the mail when absent.")
def scan_command(path: Path, as_json: bool, now_text: str | None, me: tuple[str, ...]):
    """Print where you stand from an mbox, a Maildir, an .eml file or a folder of them.

    Uses a temporary database: your own data is never touched.
    """
    from .ingest import scan_path
    from .store import Store

    now = parse_now(now_text) or datetime.now(timezone.utc)
    progress = _Progress()
    with tempfile.TemporaryDirectory(prefix="standing-scan-") as tmp:
        store = Store.open(Path(tmp) / "scan.sqlite3")
        try:
            counts = scan_path(store, path, me=me, progress=progress)
            progress.close()
            apps = store.standings(now)
        finally:
            store.close()
    if counts["errors"] and not as_json:
        click.echo(f"({counts['errors']} of {counts['read']} messages could not be read and were skipped)",
                   err=True)
    emit(apps, as_json)


@click.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print {\"applications\": [...]} as JSON.")
@click.option("--now", "now_text", metavar="ISO", help="Judge silence and deadlines at this time.")
@click.option("--archived", is_flag=True, help="Include archived applications.")
def list_command(as_json: bool, now_text: str | None, archived: bool):
    """Print the stored standings of your mailbox, most urgent first."""
    from .store import Store

    with Store.open() as store:
        # The demo database carries its own "now", so its story reads the same any day.
        now = parse_now(now_text) or parse_now(store.get_meta("now")) or datetime.now(timezone.utc)
        apps = store.standings(now, include_archived=archived)
    emit(apps, as_json)


@click.command("rebuild")
def rebuild_command():
    """Re-read every stored message with the current rules, keep your corrections, regroup."""
    from .store import Store

    with Store.open() as store:
        counts = store.rebuild()
    click.echo(f"Re-read {counts['messages']} messages: {counts['changed']} changed, "
               f"{counts['errors']} could not be read; {counts['applications']} applications.")
