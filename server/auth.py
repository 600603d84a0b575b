"""Pairing codes and bearer tokens for the local API.

The rules (DESIGN.md "Server"):

- A pairing code is CODE_LENGTH characters from an alphabet without look-alikes (no 0/O,
  1/I/L), lives CODE_TTL, works once, and only its sha256 is stored, in the same SQLite
  store as everything else, so `standing pair` in another process can mint one for a
  running server.
- Guesses: every guess counts against every code that is live at that moment, before the
  comparison (so parallel guesses cannot overshoot). A code that has seen
  MAX_WRONG_ATTEMPTS guesses in its lifetime is void, so after the fifth wrong guess all
  live codes are dead and the sixth attempt fails even when it is the right code.
  `standing pair` starts a fresh window with a new code.
- A token is secrets.token_urlsafe(32) (256 bits), shown once, stored as its sha256 and
  compared with hmac.compare_digest. An extension Origin seen at pairing is pinned to the
  token: the same token sent from another Origin is refused. No Origin at all (curl, the
  CLI) is fine when the token is right.

Error messages never say which part of a guess was wrong, and never echo a secret.
"""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import datetime, timedelta, timezone

from .errors import Forbidden, StandingError, Unauthorized

CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: read aloud or typed from a terminal
CODE_LENGTH = 8  # 31**8 ~ 8.5e11 codes against 5 guesses: chance of a lucky guess ~ 6e-12
CODE_TTL = timedelta(minutes=10)  # long enough to open the extension's options page, short enough to expire unused
MAX_WRONG_ATTEMPTS = 5  # wrong codes per code lifetime; then every live code is void
TOKEN_BYTES = 32  # 256-bit tokens
TOUCH_EVERY = timedelta(minutes=1)  # last_used is written at most this often (one write per request would slow reads)
EXTENSION_SCHEMES = ("chrome-extension://", "moz-extension://", "safari-web-extension://")
MAX_ORIGIN_LENGTH = 200  # an extension origin is scheme + a 32-char id or a UUID
# The whole Origin: one of those schemes and an id (Chromium: 32 letters a-p; Firefox and Safari:
# a UUID). Nothing else: no path, port, comma (two Origin headers joined) or empty id.
EXTENSION_ORIGIN = re.compile(r"(?:chrome|moz|safari-web)-extension://[A-Za-z0-9-]{1,64}")


class TooManyAttempts(StandingError):
    status = 429


WRONG_CODE = "That pairing code is wrong, used or expired; run `standing pair` for a new one."
LOCKED_OUT = ("Too many wrong pairing codes: every pending code is now void; "
              "run `standing pair` for a new one.")
NO_TOKEN = "This call needs `Authorization: Bearer <token>`; pair the extension first."
BAD_TOKEN = "That token is not valid (revoked or never issued); pair again."
WRONG_ORIGIN = "This token was paired with another extension."


def hash_secret(secret: str) -> str:
    """sha256 hex of a code or token; only this is stored."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def normalise_code(code: str) -> str:
    """What the user typed -> the canonical code: case and separators do not matter."""
    return "".join(ch for ch in str(code).upper() if ch not in " -_\t")


def is_extension_origin(origin: str) -> bool:
    return len(origin) <= MAX_ORIGIN_LENGTH and EXTENSION_ORIGIN.fullmatch(origin) is not None


def new_pairing_code(store, *, now: datetime | None = None) -> str:
    """Create a code, store its hash with its expiry, and return the code (shown once)."""
    code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    expires = (now or utcnow()) + CODE_TTL
    store.add_pairing_code(hash_secret(code), expires.isoformat())
    return code


def _expired(row: dict, now: datetime) -> bool:
    try:
        expires = datetime.fromisoformat(str(row["expires_at"]))
    except (KeyError, ValueError):
        return True
    if expires.tzinfo is None:
        expires = expires.replace(tzinfo=timezone.utc)
    return expires <= now


def redeem_pairing_code(store, code: str, *, origin: str | None = None,
                        now: datetime | None = None) -> str:
    """Exchange a live code for a new token, pinning `origin` when it is an extension's.

    Raises Unauthorized for a wrong, used or expired code and TooManyAttempts when this
    wrong guess used up the last attempt of the live codes.
    """
    now = now or utcnow()
    wanted = hash_secret(normalise_code(code))
    live = [row for row in store.pairing_codes(now=now, max_attempts=MAX_WRONG_ATTEMPTS)
            if not row.get("used") and not _expired(row, now)
            and int(row.get("attempts") or 0) < MAX_WRONG_ATTEMPTS]
    # Count the attempt against every live code BEFORE comparing (the database's counter, so
    # concurrent requests and other processes share it): a burst of parallel guesses that all
    # read the list before any of them was counted can still try at most MAX_WRONG_ATTEMPTS
    # codes. A count read back after a racing increment can only be higher, so this fails closed.
    allowed, locked = [], False
    for row in live:
        attempts = store.record_pairing_attempt(row["id"])
        if attempts is None:
            attempts = int(row.get("attempts") or 0) + 1
        if attempts <= MAX_WRONG_ATTEMPTS:
            allowed.append((row, attempts))
        else:
            store.consume_pairing_code(row["id"])
            locked = True
    for row, _ in allowed:
        if hmac.compare_digest(str(row["code_hash"]), wanted):
            # consume first: of two racing requests with the same code only one wins
            if not store.consume_pairing_code(row["id"]):
                break
            token = secrets.token_urlsafe(TOKEN_BYTES)
            pinned = origin if origin and is_extension_origin(origin) else None
            store.add_token(hash_secret(token), pinned)
            return token
    for row, attempts in allowed:
        if attempts >= MAX_WRONG_ATTEMPTS:  # that was its last guess, and a wrong one
            store.consume_pairing_code(row["id"])
            locked = True
    if locked:
        raise TooManyAttempts(LOCKED_OUT)
    raise Unauthorized(WRONG_CODE)


def bearer_token(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, else None."""
    if not authorization:
        return None
    scheme, _, value = authorization.strip().partition(" ")
    value = value.strip()
    if scheme.lower() != "bearer" or not value or len(value) > 200:
        return None
    return value


def check_token(store, authorization: str | None, origin: str | None,
                *, now: datetime | None = None) -> dict:
    """The token row for a request, or Unauthorized / Forbidden.

    The lookup is by the token's sha256 (an index, no timing signal on the token itself);
    the found hash is compared again with hmac.compare_digest.
    """
    token = bearer_token(authorization)
    if token is None:
        raise Unauthorized(NO_TOKEN)
    wanted = hash_secret(token)
    row = store.token_by_hash(wanted)
    if not row or row.get("revoked") or not hmac.compare_digest(str(row.get("token_hash", "")), wanted):
        raise Unauthorized(BAD_TOKEN)
    pinned = row.get("origin")
    if origin and pinned and not hmac.compare_digest(origin, pinned):
        raise Forbidden(WRONG_ORIGIN)
    now = now or utcnow()
    last = row.get("last_used")
    try:
        stale = not last or now - _aware(datetime.fromisoformat(str(last))) >= TOUCH_EVERY
    except ValueError:
        stale = True
    if stale:
        store.touch_token(row["id"])
    return row


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def revoke_all(store) -> int:
    """Revoke every token; returns how many were live."""
    return int(store.revoke_tokens() or 0)
