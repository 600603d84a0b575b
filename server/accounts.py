"""Mail accounts: test the connection, then save the public settings and the secret apart.

The store keeps host, port, security, auth and provider (never a secret); the secret goes
to server.credentials (OS keyring or a Fernet-encrypted 0600 file). An account is saved
only after a successful login, so a wrong password leaves nothing behind.
"""
from __future__ import annotations

import re
from pathlib import Path

from . import config, credentials, imap
from .errors import AccountError, NotFound
from .presets import preset_for, preset_for_host

PUBLIC_FIELDS = ("id", "email", "host", "port", "security", "auth", "provider", "last_error",
                 "last_synced")
EMAIL_RE = re.compile(r"^[^@\s<>]{1,200}@[^@\s<>]{1,253}$")
MAX_SECRET_CHARS = 10_000  # an OAuth access token is ~2 KB; more is a paste accident
CHECK_READ_TIMEOUT = 20.0  # seconds for each answer while testing a new account: a user is waiting
# IMAP's LOGIN sends the password as a quoted string, which cannot hold CR, LF or NUL: with a
# line break in it the rest would reach the server as a command of its own (a STORE or an
# EXPUNGE on a mailbox that must only ever be read). An OAuth token is printable ASCII.
PASSWORD_FORBIDDEN = re.compile(r"[\r\n\x00]")
TOKEN_FORBIDDEN = re.compile(r"[^\x21-\x7e]")


def data_dir_of(store) -> Path:
    path = getattr(store, "path", None)
    return Path(path).parent if path else config.data_dir()


def public(account: dict) -> dict:
    """The account as the API and CLI show it: never a secret."""
    return {key: account.get(key) for key in PUBLIC_FIELDS}


def check_connection(*, email: str, secret: str, auth: str = "password", host=None, port=None,
                     security=None, ca_file=None,
                     read_timeout: float = CHECK_READ_TIMEOUT) -> imap.ServerSettings:
    """Connect and log in once; AccountError (one sentence) when anything fails."""
    email = (email or "").strip()
    if not EMAIL_RE.match(email):
        raise AccountError("That does not look like an email address.")
    if auth not in ("password", "oauth"):
        raise AccountError("The sign-in method must be password or oauth.")
    if not secret or len(secret) > MAX_SECRET_CHARS:
        raise AccountError("A password (or an app password) is needed." if auth == "password"
                           else "An OAuth access token is needed.")
    if auth == "password" and PASSWORD_FORBIDDEN.search(secret):
        raise AccountError("A password cannot contain line breaks or NUL characters; type it again.")
    if auth == "oauth" and TOKEN_FORBIDDEN.search(secret):
        raise AccountError("An OAuth access token has no spaces or control characters; copy it again.")
    settings = imap.resolve_settings(email, host, port, security)
    client = imap.open_session(settings, email, secret, auth=auth, email=email, ca_file=ca_file,
                               read_timeout=read_timeout)
    try:
        client.logout()
    except Exception:
        pass
    return settings


def add_account(store, *, email: str, secret: str, auth: str = "password", host=None, port=None,
                security=None, ca_file=None, read_timeout: float = CHECK_READ_TIMEOUT) -> dict:
    """Test the connection, then save the account and its secret; return the public dict."""
    email = (email or "").strip()
    for existing in store.list_accounts():
        if existing["email"].lower() == email.lower():
            raise AccountError(f"{email} is already connected; remove it first to change its settings.")
    settings = check_connection(email=email, secret=secret, auth=auth, host=host, port=port,
                               security=security, ca_file=ca_file, read_timeout=read_timeout)
    preset = preset_for(email)
    if preset is None or preset.host != settings.host:
        preset = None if imap.is_loopback(settings.host) else preset_for_host(settings.host)
    account_id = store.add_account(email=email, host=settings.host, port=settings.port,
                                   security=settings.security, auth=auth,
                                   provider=preset.provider if preset else None)
    try:
        credentials.save_secret(account_id, secret, data_dir=data_dir_of(store))
    except BaseException:
        store.remove_account(account_id)
        raise
    return public(store.get_account(account_id))


def list_accounts(store) -> list[dict]:
    return [public(a) for a in store.list_accounts()]


def find_account(store, ref) -> dict:
    """An account by id or email; NotFound otherwise."""
    ref = str(ref).strip()
    for account in store.list_accounts():
        if str(account["id"]) == ref or account["email"].lower() == ref.lower():
            return account
    raise NotFound(f"No account {ref} is connected.")


def remove_account(store, account_id: int) -> bool:
    """Forget the account, its sync state and its secret; its messages stay."""
    gone = store.remove_account(int(account_id))
    credentials.delete_secret(int(account_id), data_dir=data_dir_of(store))
    return gone


def open_account(store, account: dict, *, ca_file=None, read_timeout: float = imap.READ_TIMEOUT):
    """A logged-in IMAPClient for a saved account; AccountError with a sentence otherwise."""
    secret = credentials.load_secret(account["id"], data_dir=data_dir_of(store))
    settings = imap.ServerSettings(account["host"], int(account["port"]), account["security"])
    return imap.open_session(settings, account["email"], secret, auth=account.get("auth") or "password",
                             email=account["email"], ca_file=ca_file, read_timeout=read_timeout)


__all__ = ["add_account", "list_accounts", "remove_account", "find_account", "open_account",
           "check_connection", "public"]
