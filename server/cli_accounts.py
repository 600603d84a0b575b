"""`standing account add|list|remove|test` and `standing sync [--once]`."""
from __future__ import annotations

import sys
import threading

import click

from .errors import AccountError


def _store():
    from .store import Store
    return Store.open()


def _read_secret(password_stdin: bool, oauth_stdin: bool) -> tuple[str, str]:
    if password_stdin and oauth_stdin:
        raise click.UsageError("Use only one of --password-stdin and --oauth-token-stdin.")
    if password_stdin or oauth_stdin:
        secret = sys.stdin.readline().rstrip("\r\n")
        return secret, "oauth" if oauth_stdin else "password"
    secret = click.prompt("Password (an app password for most providers)", hide_input=True,
                          err=True)
    return secret, "password"


@click.group("account")
def account_group():
    """Connect mailboxes (read-only) and manage them."""


@account_group.command("add")
@click.argument("email")
@click.option("--host", help="IMAP server (filled in from the provider for common addresses).")
@click.option("--port", type=int, help="IMAP port (993 for TLS, 143 for STARTTLS).")
@click.option("--security", type=click.Choice(["tls", "starttls", "plain"]),
              help="tls, starttls, or plain (plain only for a server on this machine).")
@click.option("--password-stdin", is_flag=True, help="Read the (app) password from stdin.")
@click.option("--oauth-token-stdin", is_flag=True, help="Read an XOAUTH2 access token from stdin.")
def add_command(email, host, port, security, password_stdin, oauth_token_stdin):
    """Test the connection to EMAIL's mailbox, then save it."""
    from . import accounts
    from .presets import preset_for
    preset = preset_for(email)
    if preset and not host and not (password_stdin or oauth_token_stdin):
        click.echo(f"{preset.provider}: {preset.host}:{preset.port} ({preset.security}).", err=True)
        if preset.help_url:
            click.echo(f"App password help: {preset.help_url}", err=True)
    secret, auth = _read_secret(password_stdin, oauth_token_stdin)
    with _store() as store:
        account = accounts.add_account(store, email=email, secret=secret, auth=auth, host=host,
                                       port=port, security=security)
    click.echo(f"Connected {account['email']} ({account['host']}:{account['port']}, "
               f"{account['security']}) as account {account['id']}.")


@account_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def list_command(as_json):
    """List connected accounts."""
    import json
    from . import accounts
    with _store() as store:
        rows = accounts.list_accounts(store)
        # the user's other addresses: set by a scan, or learned from the Sent folder by a sync
        others = sorted(store.user_addresses() - {row["email"].lower() for row in rows})
    if as_json:
        click.echo(json.dumps({"accounts": rows, "other_addresses": others}, indent=2))
        return
    if not rows:
        click.echo("No account is connected. Add one with: standing account add EMAIL")
    for row in rows:
        state = f"error: {row['last_error']}" if row["last_error"] else (
            f"synced {row['last_synced']}" if row["last_synced"] else "not synced yet")
        click.echo(f"{row['id']}  {row['email']}  {row['host']}:{row['port']} {row['security']}  {state}")
    if others:
        click.echo("Your mail is also read as sent from: " + ", ".join(others))


@account_group.command("remove")
@click.argument("ref")
def remove_command(ref):
    """Forget an account (by id or email) and its saved password; its mail stays."""
    from . import accounts
    with _store() as store:
        account = accounts.find_account(store, ref)
        accounts.remove_account(store, account["id"])
    click.echo(f"Removed {account['email']}.")


@account_group.command("test")
@click.argument("ref")
def test_command(ref):
    """Log in to a saved account and log out again."""
    from . import accounts
    with _store() as store:
        account = accounts.find_account(store, ref)
        client = accounts.open_account(store, account)
    try:
        client.logout()
    except Exception:
        pass
    click.echo(f"{account['email']}: the connection works.")


class _Progress:
    """A progress bar on a terminal, plain lines otherwise (logs, pipes)."""

    def __init__(self):
        self.tty = sys.stdout.isatty()
        self.bar = None
        self.last_line = None

    def __call__(self, phase, done, total):
        if self.tty:
            if self.bar is None and total:
                self.bar = click.progressbar(length=total, label="Reading mail", file=sys.stdout)
                self.bar.__enter__()
            if self.bar is not None:
                self.bar.length = max(total, 1)
                self.bar.update(done - self.bar.pos)
            return
        line = f"{phase}: {done}/{total}"
        if line != self.last_line:
            click.echo(line)
            self.last_line = line

    def close(self):
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None


@click.command("sync")
@click.option("--once", is_flag=True, help="Sync once and exit (default: keep watching with IDLE).")
@click.option("--window-days", type=int, default=None, help="How far back the first sync reads (days).")
def sync_command(once, window_days):
    """Sync every connected mailbox (read-only), then keep watching for new mail."""
    from . import sync
    options = {} if window_days is None else {"window_days": window_days}
    progress = _Progress()
    with _store() as store:
        if not store.list_accounts():
            raise AccountError("No account is connected; add one with: standing account add EMAIL")
        try:
            result = sync.sync_all(store, progress=progress, **options)
        finally:
            progress.close()
        status = store.sync_status()
        path = store.path
    click.echo(f"Read {result.seen} messages, stored {result.stored} new"
               + (f", {result.errors} could not be read" if result.errors else "") + ".")
    if status.get("state") == "error":
        raise AccountError(status.get("error") or "The sync failed.")
    if once:
        return
    click.echo("Watching for new mail (Ctrl+C to stop).")
    service = sync.SyncService(path, **options)
    service.first_sync_done.set()
    service.start()
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        service.stop()
