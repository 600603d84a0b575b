"""`standing serve` (the local API on waitress) and `standing pair` (a new pairing code).

    $ standing serve
    Serving on http://127.0.0.1:8765
    Pairing code: 7KQ4MZ2X

Binds 127.0.0.1 only, never Flask's development server. SIGINT or SIGTERM stops it cleanly
(exit 0). Pairing codes and tokens always live in the main database of the data dir, so
`standing pair` in another terminal works for a running server, demo or not.
"""
from __future__ import annotations

import errno
import json
import logging
import signal
import sys
from pathlib import Path

import click

from . import auth, config
from .errors import StandingError

HOST = "127.0.0.1"  # never another interface: the API is for this machine only
THREADS = 4  # waitress worker threads: the popup, the service worker and the CLI at once
DEMO_DB = "demo.sqlite3"  # the demo mailbox's own database, rebuilt at each `serve --demo`
CHANNEL_TIMEOUT = 30  # seconds an idle keep-alive connection is kept
# waitress spills a response larger than outbuf_overflow (1 MB by default) to a temp file;
# the list of 1,000 applications is ~1.2 MB, so keep responses up to this size in memory.
OUTBUF_OVERFLOW = 16 * 1024 * 1024
# waitress reads a whole body (spooling to a temp file) before the app sees it: by default up
# to 1 GB. Refuse anything larger than the API accepts at the socket instead.
MAX_HEADER_BYTES = 32 * 1024  # all request headers together; a browser sends ~1 KB, no cookies are used
# Sentences for errors only waitress answers (the others use server.api.HTTP_SENTENCES).
WAITRESS_SENTENCES = {
    431: "The request headers are too large.",
    500: "Internal error.",
}


def _say(text: str) -> None:
    click.echo(text)
    sys.stdout.flush()


def _fresh_demo_store(path: Path):
    """The demo database, emptied and loaded again from the bundled demo mailbox."""
    from .store import Store

    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    store = Store.open(path)
    from .ingest import load_demo
    try:
        load_demo(store)
    except (OSError, ValueError, KeyError) as err:
        store.close()
        raise StandingError(f"The bundled demo mailbox could not be loaded ({type(err).__name__}); "
                            f"reinstall the package.") from None
    return store


def _start_sync(data_dir: Path, db_path: Path):
    """The background sync of connected accounts."""
    from .sync import SyncService
    service = SyncService(db_path)
    service.start()
    return service


def _json_error_channel(sentences: dict[int, str]):
    """waitress's HTTPChannel whose own error answers are `{"error": "<sentence>"}` JSON.

    waitress answers a request it cannot parse (bad start line, invalid Content-Length,
    headers or body over the limits) itself, in text/plain, without calling the app; this
    keeps those answers in the API's one error shape, with no detail from the request.
    """
    from waitress.channel import HTTPChannel
    from waitress.task import ErrorTask

    class JsonErrorTask(ErrorTask):
        def execute(self):
            error = self.request.error
            code = int(getattr(error, "code", 400) or 400)
            sentence = sentences.get(code) or sentences[400 if code < 500 else 500]
            body = json.dumps({"error": sentence}).encode("utf-8")
            self.status = f"{code} {getattr(error, 'reason', 'Bad Request')}"
            self.response_headers.extend([("Content-Type", "application/json"),
                                          ("Cache-Control", "no-store"),
                                          ("X-Content-Type-Options", "nosniff")])
            self.set_close_on_finish()
            self.content_length = len(body)
            self.write(body)

    class JsonErrorChannel(HTTPChannel):
        error_task_class = JsonErrorTask

    return JsonErrorChannel


class _Stop(KeyboardInterrupt):
    """Raised from the signal handler to leave waitress's loop.

    A KeyboardInterrupt, because waitress's event loop re-raises only KeyboardInterrupt and
    SystemExit: any other exception raised while it handles a socket event is swallowed by
    the channel's error handler, and the server would keep running.
    """


@click.command("serve")
@click.option("--port", type=click.IntRange(1, 65535), default=config.DEFAULT_PORT, show_default=True,
              help="Port on 127.0.0.1.")
@click.option("--demo", is_flag=True, help="Serve the bundled demo mailbox instead of your own.")
def serve_command(port: int, demo: bool) -> None:
    """Serve the local API for the browser extension and print a pairing code."""
    from waitress import create_server

    from .api import HTTP_SENTENCES, MAX_BODY_BYTES, create_app
    from .store import Store

    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    data_dir = config.data_dir()
    main_db = data_dir / "standing.sqlite3"
    demo_db = data_dir / DEMO_DB
    app = create_app({"DATA_DIR": data_dir, "STORE_PATH": demo_db if demo else main_db,
                      "AUTH_STORE_PATH": main_db, "PORT": port, "DEMO": demo})
    try:
        server = create_server(app, host=HOST, port=port, threads=THREADS, ident="standing",
                               channel_timeout=CHANNEL_TIMEOUT, clear_untrusted_proxy_headers=True,
                               outbuf_overflow=OUTBUF_OVERFLOW, outbuf_high_watermark=2 * OUTBUF_OVERFLOW,
                               max_request_body_size=MAX_BODY_BYTES, max_request_header_size=MAX_HEADER_BYTES,
                               expose_tracebacks=False)
        # One listening socket (HOST is a single IPv4 address): its channels answer in JSON.
        server.channel_class = _json_error_channel({**HTTP_SENTENCES, **WAITRESS_SENTENCES})
    except OSError as err:
        if err.errno == errno.EADDRINUSE:
            raise StandingError(f"Port {port} on {HOST} is already in use; "
                                f"stop the other server or choose another with --port.") from None
        raise StandingError(f"Cannot listen on {HOST}:{port}: {err.strerror or err}.") from None
    service = None
    demo_store = None
    try:
        if demo:
            demo_store = _fresh_demo_store(demo_db)
        with Store.open(main_db) as auth_store:
            code = auth.new_pairing_code(auth_store)
        if not demo:
            service = _start_sync(data_dir, main_db)
            app.config["SYNC_SERVICE"] = service

        def stop(signum, frame):
            raise _Stop()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        try:
            _say(f"Serving on http://{HOST}:{port}" + ("  (demo mailbox)" if demo else ""))
            _say(f"Pairing code: {code}")
            _say(f"The code works once, for {int(auth.CODE_TTL.total_seconds() // 60)} minutes; "
                 f"`standing pair` prints a new one. Ctrl-C stops the server.")
            server.run()  # returns after a _Stop (waitress catches KeyboardInterrupt)
        except _Stop:
            pass
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        try:
            server.task_dispatcher.shutdown()
        except Exception:  # already shut down
            pass
        server.close()
        if service is not None:
            service.stop()
        if demo_store is not None:
            demo_store.close()
        for stores in {id(s): s for s in app.extensions["standing"].values()}.values():
            stores.close()
    _say("Stopped.")


@click.command("pair")
@click.option("--revoke", is_flag=True, help="Revoke every token first: paired extensions must pair again.")
def pair_command(revoke: bool) -> None:
    """Print a new one-time pairing code for the server of this data dir."""
    from .store import Store

    with Store.open(config.data_dir() / "standing.sqlite3") as store:
        if revoke:
            count = auth.revoke_all(store)
            _say(f"Revoked {count} token{'s' if count != 1 else ''}.")
        code = auth.new_pairing_code(store)
    _say(f"Pairing code: {code}")
    _say(f"It works once, for {int(auth.CODE_TTL.total_seconds() // 60)} minutes.")
