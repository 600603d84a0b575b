"""The local JSON API under /api (DESIGN.md "Interfaces"; described by server/openapi.json).

Security, in the order every request meets it (see _guard):

1. Host must be exactly 127.0.0.1:<port> or localhost:<port> (DNS rebinding), else 403,
   health and pair included. Decided: no port, another port, another name (even one that
   resolves to 127.0.0.1), "localhost." and [::1]:<port> are refused (the server listens on
   127.0.0.1 only, so no browser names it [::1]); X-Forwarded-* headers are never read.
2. An Origin header is refused unless it is one whole extension origin (chrome-extension://,
   moz-extension://, safari-web-extension:// and an id): any web page (http/https), "null",
   another scheme or two joined Origins get 403, health and pair included. No Origin (curl,
   the CLI) is fine.
3. Every route but /api/health and /api/pair needs `Authorization: Bearer <token>`
   (server.auth); a token pinned to one extension's Origin is refused from another.

Requests waitress cannot parse (bad start line or Content-Length, headers over 32 KB, a body
over MAX_BODY_BYTES) are answered by waitress in the same JSON shape (server.cli_serve).

No CORS header is ever sent and the request's Origin is never reflected: the extension's
host permission for http://127.0.0.1 makes CORS unnecessary. No cookie is read or set.
Errors are `{"error": "<sentence>"}`; a catch-all handler turns anything unexpected into
`{"error": "Internal error."}` 500 and logs the traceback without the request body (the
account POST carries a password).
"""
from __future__ import annotations

import json
import logging
import threading
from dataclasses import asdict, is_dataclass
from datetime import datetime, timezone
from pathlib import Path

from flask import Flask, g, jsonify, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from . import __version__, auth, config as config_module
from .errors import BadInput, Forbidden, NotFound, StandingError

log = logging.getLogger("standing.api")

MAX_BODY_BYTES = 64 * 1024  # the largest legitimate body is an account form (< 1 KB); refuse bulk uploads
MAX_FIELD_LENGTH = 500  # any single string field: ids, emails, company names
MAX_QUERY_LENGTH = 200  # the ?q= search box
MAX_ACCOUNT_ID = 2**63 - 1  # SQLite's largest INTEGER: a bigger id in a URL is a 404, not an OverflowError
PUBLIC_PATHS = frozenset({"/api/health", "/api/pair"})
FLAGS = ("amber", "green", "grey", "red")
LABELS = ("offer", "advancing", "noncommittal", "rejected", "acknowledgement", "unrelated")
CORRECTION_KINDS = ("label", "not_job", "company_role", "merge", "split", "archive", "unarchive")
SECURITIES = ("tls", "starttls", "plain")
DATABASE_NAME = "standing.sqlite3"
# Fields of the store's objects the list leaves out: every Message-ID is half of a long
# application's bytes (the detail's timeline has them; `standing list --json` keeps them),
# last_ts is a sort key.
LIST_OMITS = frozenset({"message_ids", "last_ts"})

HTTP_SENTENCES = {
    400: "The request could not be read.",
    401: "This call needs a valid bearer token.",
    403: "This request is not allowed.",
    404: "There is nothing at this address.",
    405: "This address does not accept that method.",
    413: f"The request body is too large (limit {MAX_BODY_BYTES // 1024} KB).",
    415: "Send the body as JSON (Content-Type: application/json).",
    429: "Too many requests.",
}


class Stores:
    """One Store per thread (waitress serves from a thread pool; a Store is single-threaded)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._local = threading.local()
        self._lock = threading.Lock()
        self._opened = []

    def get(self):
        store = getattr(self._local, "store", None)
        if store is None:
            from .store import Store

            store = Store.open(self.path)
            self._local.store = store
            with self._lock:
                self._opened.append(store)
        return store

    def thread_cache(self) -> dict:
        """A dict private to the calling thread (for caches tied to its Store)."""
        cache = getattr(self._local, "cache", None)
        if cache is None:
            cache = self._local.cache = {}
        return cache

    def close(self) -> None:
        """Close the stores this object opened (call from the thread that used them, or at exit)."""
        with self._lock:
            opened, self._opened = self._opened, []
        self._local = threading.local()
        for store in opened:
            try:
                store.close()
            except Exception:  # another thread's sqlite connection: the process is ending anyway
                pass


def create_app(config: dict | None = None) -> Flask:
    """The Flask app. config keys (all optional):

    DATA_DIR          the data dir (default: server.config.data_dir())
    STORE_PATH        the database the standings come from (default DATA_DIR/standing.sqlite3;
                      `standing serve --demo` points it at the demo database)
    AUTH_STORE_PATH   where pairing codes and tokens live (default DATA_DIR/standing.sqlite3,
                      so `standing pair` works for a demo server too and pairing survives restarts)
    PORT              the port the Host header must name (default 8765)
    DEMO              True for the demo database (no accounts, no sync)
    NOW               a fixed datetime for standings (tests); else the store's meta "now", else the clock
    SYNC_SERVICE      an object with request_sync(), set by `standing serve`
    """
    app = Flask(__name__)
    settings = dict(config or {})
    data_dir = Path(settings.get("DATA_DIR") or config_module.data_dir())
    default_db = data_dir / DATABASE_NAME
    app.config.update(
        DATA_DIR=data_dir,
        STORE_PATH=Path(settings.get("STORE_PATH") or default_db),
        AUTH_STORE_PATH=Path(settings.get("AUTH_STORE_PATH") or default_db),
        PORT=int(settings.get("PORT") or config_module.DEFAULT_PORT),
        DEMO=bool(settings.get("DEMO", False)),
        NOW=settings.get("NOW"),
        SYNC_SERVICE=settings.get("SYNC_SERVICE"),
        MAX_CONTENT_LENGTH=MAX_BODY_BYTES,
        JSON_SORT_KEYS=False,
    )
    handled = {"DATA_DIR", "STORE_PATH", "AUTH_STORE_PATH", "PORT", "DEMO", "NOW", "SYNC_SERVICE"}
    app.config.update({key: value for key, value in settings.items() if key not in handled})
    app.json.sort_keys = False
    data_stores = Stores(app.config["STORE_PATH"])
    auth_stores = (data_stores if app.config["AUTH_STORE_PATH"] == app.config["STORE_PATH"]
                   else Stores(app.config["AUTH_STORE_PATH"]))
    app.extensions["standing"] = {"data": data_stores, "auth": auth_stores}

    allowed_hosts = {f"127.0.0.1:{app.config['PORT']}", f"localhost:{app.config['PORT']}"}

    def data_store():
        return data_stores.get()

    def auth_store():
        return auth_stores.get()

    def now() -> datetime:
        fixed = app.config.get("NOW")
        if fixed:
            return _aware(fixed if isinstance(fixed, datetime) else datetime.fromisoformat(str(fixed)))
        stored = data_store().get_meta("now")
        if stored:
            try:
                return _aware(datetime.fromisoformat(str(stored)))
            except ValueError:
                pass
        return datetime.now(timezone.utc)

    # --- the guard every request passes ---------------------------------------------------

    @app.before_request
    def _guard():
        host = (request.headers.get("Host") or "").strip().lower()
        if host not in allowed_hosts:
            raise Forbidden("This server only answers requests addressed to 127.0.0.1 or localhost on its own port.")
        origin = request.headers.get("Origin")
        if origin is not None and not auth.is_extension_origin(origin.strip()):
            raise Forbidden("Requests from web pages are refused; use the browser extension or the command line.")
        g.origin = origin.strip() if origin else None
        if request.path in PUBLIC_PATHS:
            return None
        g.token = auth.check_token(auth_store(), request.headers.get("Authorization"), g.origin)
        return None

    @app.after_request
    def _headers(response):
        response.headers["Cache-Control"] = "no-store"
        response.headers["X-Content-Type-Options"] = "nosniff"
        for name in [h for h in response.headers.keys() if h.lower().startswith("access-control-")]:
            del response.headers[name]
        response.headers.pop("Set-Cookie", None)
        return response

    # --- errors: always JSON, never a traceback -------------------------------------------

    @app.errorhandler(StandingError)
    def _standing_error(err):
        status = getattr(err, "status", 400)
        return jsonify(error=str(err) or HTTP_SENTENCES.get(status, "The request failed.")), status

    @app.errorhandler(HTTPException)
    def _http_error(err):
        status = err.code or 400
        sentence = HTTP_SENTENCES.get(status) or "The request failed."
        response = jsonify(error=sentence)
        response.status_code = status
        if isinstance(err, MethodNotAllowed) and err.valid_methods:
            response.headers["Allow"] = ", ".join(err.valid_methods)
        return response

    @app.errorhandler(Exception)
    def _unexpected(err):
        # The traceback goes to the log (stderr) with the route only: never the body, which
        # may hold a password, and never to the client.
        log.error("internal error on %s %s", request.method, request.path, exc_info=err)
        return jsonify(error="Internal error."), 500

    # --- routes ---------------------------------------------------------------------------

    @app.get("/api/health")
    def health():
        return jsonify(ok=True, version=__version__)

    @app.post("/api/pair")
    def pair():
        body = json_body()
        code = string_field(body, "code", required=True)
        token = auth.redeem_pairing_code(auth_store(), code, origin=g.origin)
        return jsonify(token=token)

    @app.get("/api/applications")
    def applications():
        flag = request.args.get("flag")
        if flag is not None and flag not in FLAGS:
            raise BadInput(f"flag must be one of {', '.join(FLAGS)}.")
        status = request.args.get("status")
        if status is not None and (not status or len(status) > 40):
            raise BadInput("status must be a status name such as noncommittal or overdue.")
        query = (request.args.get("q") or "").strip().lower()
        if len(query) > MAX_QUERY_LENGTH:
            raise BadInput(f"q must be at most {MAX_QUERY_LENGTH} characters.")
        archived = request.args.get("archived", "0").lower()
        if archived not in ("0", "1", "true", "false", ""):
            raise BadInput("archived must be 1 or 0.")
        store = data_store()
        items, encoded = listing(store, include_archived=archived in ("1", "true"))
        if flag or status or query:
            items = [item for item in items
                     if (not flag or item.get("flag") == flag)
                     and (not status or item.get("status") == status)
                     and (not query or _matches(item, query))]
            encoded = _encode(items)
        sync = _encode(_sync_summary(store.sync_status()))
        return app.response_class(b'{"applications":' + encoded + b',"sync":' + sync + b"}",
                                  mimetype="application/json")

    def listing(store, *, include_archived: bool) -> tuple[list[dict], bytes]:
        """The standings and their JSON, cached per thread until the database changes.

        The list of 1,000 applications costs ~100 ms to finalize and encode, far more than
        the request around it. The cache key is exact, not a timer: PRAGMA data_version
        (read before the standings, so a commit by another connection during the read
        invalidates the entry) plus this connection's total_changes (read after, so the
        refresh that standings() may run itself does not), plus "now" to the minute.
        """
        moment = now().replace(second=0, microsecond=0)
        cache = data_stores.thread_cache()
        version = store.db.execute("PRAGMA data_version").fetchone()[0]
        key = (version, store.db.total_changes, include_archived, moment)
        hit = cache.get("listing")
        if hit is not None and hit[0] == key:
            return hit[1], hit[2]
        items = [{key: value for key, value in item.items() if key not in LIST_OMITS}
                 for item in store.standings(moment, include_archived=include_archived)]
        encoded = _encode(items)
        cache["listing"] = ((version, store.db.total_changes, include_archived, moment), items, encoded)
        return items, encoded

    @app.get("/api/applications/<app_id>")
    def application(app_id):
        if len(app_id) > MAX_FIELD_LENGTH:
            raise NotFound("There is no application with that id.")
        found = data_store().application(app_id, now())
        if not found:
            raise NotFound("There is no application with that id.")
        return jsonify(application=found)

    @app.post("/api/corrections")
    def corrections():
        payload = validate_correction(json_body())
        store = data_store()
        saved = store.add_correction(payload)
        store.refresh()
        return jsonify(ok=True, correction=saved)

    @app.get("/api/accounts")
    def accounts_list():
        from . import accounts

        return jsonify(accounts=accounts.list_accounts(data_store()))

    @app.post("/api/accounts")
    def accounts_add():
        if app.config["DEMO"]:
            raise BadInput("The demo server does not connect accounts; restart `standing serve` without --demo.")
        body = json_body()
        email = string_field(body, "email", required=True)
        password = string_field(body, "password")
        oauth_token = string_field(body, "oauth_token", limit=8192)
        if bool(password) == bool(oauth_token):
            raise BadInput("Give either a password (an app password) or an oauth_token.")
        host = string_field(body, "host")
        port = body.get("port")
        if port is not None and (isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536):
            raise BadInput("port must be a number between 1 and 65535.")
        security = string_field(body, "security")
        if security is not None and security not in SECURITIES:
            raise BadInput(f"security must be one of {', '.join(SECURITIES)}.")
        from . import accounts

        account = accounts.add_account(
            data_store(), email=email, secret=password or oauth_token,
            auth="password" if password else "oauth", host=host, port=port, security=security)
        service = app.config.get("SYNC_SERVICE")
        if service is not None:
            service.request_sync()
        return jsonify(account=account), 201

    @app.delete("/api/accounts/<int:account_id>")
    def accounts_remove(account_id):
        from . import accounts

        if account_id > MAX_ACCOUNT_ID or not accounts.remove_account(data_store(), account_id):
            raise NotFound("There is no account with that id.")
        return jsonify(ok=True)

    @app.get("/api/accounts/preset")
    def accounts_preset():
        email = (request.args.get("email") or "").strip()
        if not email or len(email) > MAX_FIELD_LENGTH or "@" not in email:
            raise BadInput("Give an email address: /api/accounts/preset?email=you@example.com.")
        from . import presets

        preset = presets.preset_for(email)
        if preset is not None and is_dataclass(preset):
            preset = asdict(preset)
        return jsonify(preset=preset)

    @app.get("/api/sync")
    def sync_status():
        return jsonify(_sync_full(data_store().sync_status()))

    @app.post("/api/sync")
    def sync_start():
        if app.config["DEMO"]:
            raise BadInput("The demo mailbox does not sync; restart `standing serve` without --demo.")
        service = app.config.get("SYNC_SERVICE")
        if service is None:
            raise StandingConflict("No sync service is running here; start `standing serve`.")
        service.request_sync()
        return jsonify(ok=True), 202

    return app


class StandingConflict(StandingError):
    status = 409


# --- request body helpers -------------------------------------------------------------------

def json_body() -> dict:
    """The request's JSON object, or a 4xx: 415 without a JSON content type, 400 when unreadable."""
    if not request.mimetype or request.mimetype != "application/json":
        raise UnsupportedBody(HTTP_SENTENCES[415])
    raw = request.get_data(cache=False)  # 413 from MAX_CONTENT_LENGTH happens here
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise BadInput("The body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise BadInput("The body must be a JSON object.")
    try:  # "\ud800" is valid JSON but no text: SQLite and hashing could not encode it later
        json.dumps(body, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise BadInput("The body holds an unpaired UTF-16 surrogate escape, which is not text.") from None
    return body


class UnsupportedBody(StandingError):
    status = 415


def string_field(body: dict, name: str, *, required: bool = False, limit: int = MAX_FIELD_LENGTH) -> str | None:
    value = body.get(name)
    if value is None or value == "":
        if required:
            raise BadInput(f"{name} is required.")
        return None
    if not isinstance(value, str):
        raise BadInput(f"{name} must be a string.")
    if len(value) > limit:
        raise BadInput(f"{name} must be at most {limit} characters.")
    if "\x00" in value:
        raise BadInput(f"{name} must not contain NUL characters.")
    return value


def validate_correction(body: dict) -> dict:
    """A clean correction payload (only the fields of its kind), or BadInput."""
    kind = body.get("kind")
    if kind not in CORRECTION_KINDS:
        raise BadInput(f"kind must be one of {', '.join(CORRECTION_KINDS)}.")
    if kind == "label":
        label = string_field(body, "label", required=True)
        if label not in LABELS:
            raise BadInput(f"label must be one of {', '.join(LABELS)}.")
        return {"kind": kind, "message_id": string_field(body, "message_id", required=True), "label": label}
    if kind in ("not_job", "split"):
        return {"kind": kind, "message_id": string_field(body, "message_id", required=True)}
    if kind == "company_role":
        application_id = string_field(body, "application_id")
        message_id = string_field(body, "message_id")
        if bool(application_id) == bool(message_id):
            raise BadInput("Give either application_id or message_id.")
        company = string_field(body, "company", required=True)
        role = string_field(body, "role", required=True)
        payload = {"kind": kind, "company": company, "role": role}
        payload["application_id" if application_id else "message_id"] = application_id or message_id
        return payload
    if kind == "merge":
        first = string_field(body, "application_id", required=True)
        other = string_field(body, "other_application_id", required=True)
        if first == other:
            raise BadInput("An application cannot be merged with itself.")
        return {"kind": kind, "application_id": first, "other_application_id": other}
    return {"kind": kind, "application_id": string_field(body, "application_id", required=True)}


# --- response helpers -----------------------------------------------------------------------

def _matches(item: dict, query: str) -> bool:
    evidence = item.get("evidence") or {}
    fields = (item.get("company"), item.get("role"), item.get("reason"),
              evidence.get("text") if isinstance(evidence, dict) else None)
    return any(query in str(value).lower() for value in fields if value)


def _encode(value) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _sync_summary(status: dict) -> dict:
    return {key: status.get(key) for key in ("state", "done", "total", "last_synced")}


def _sync_full(status: dict) -> dict:
    return {key: status.get(key) for key in ("state", "phase", "done", "total", "last_synced", "error")}


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def openapi_path() -> Path:
    """The OpenAPI 3.1 document of this API (JSON, shipped beside this module)."""
    return Path(__file__).with_name("openapi.json")
