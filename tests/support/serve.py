"""The real `standing serve` as a subprocess: start it, wait until it answers, stop it.

Use the fixtures (`from tests.support.serve import served  # noqa: F401`) or call
start_serve() yourself:

    server = start_serve(tmp_path, demo=True)
    try:
        token = server.pair()
        status, body = server.call("GET", "/api/applications", token=token)
    finally:
        assert server.stop() == 0

Like datasette's `ds_localhost_http_server`: a free port, poll /api/health until it answers
(no sleeps but the polling interval), check the process is alive, terminate it in teardown.
"""
from __future__ import annotations

import http.client
import json
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

START_TIMEOUT = 60.0  # seconds; the demo load and a cold import on a busy 2-core machine
STOP_TIMEOUT = 30.0  # seconds; waitress waits up to 5 s for busy workers, the sync thread up to 10 s
POLL_INTERVAL = 0.05  # seconds between health polls
CODE_LINE = re.compile(r"^Pairing code: (\S+)\s*$")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


REPO = Path(__file__).resolve().parents[2]
# The console script's entry point (server.cli:main), imported from THIS tree: the installed
# `standing` script may point at another checkout (an editable install made elsewhere), and the
# tests must exercise the code they sit beside.
LAUNCHER = f"import sys; sys.path.insert(0, {str(REPO)!r}); from server.cli import main; main(sys.argv[1:])"


def standing_command() -> list[str]:
    """`standing` as a command line: server.cli:main of this tree, run by this interpreter."""
    return [sys.executable, "-c", LAUNCHER]


class Served:
    """A running `standing serve`: .url, .port, .code (the pairing code it printed), .proc."""

    def __init__(self, proc: subprocess.Popen, port: int, data_dir: Path, stderr_path: Path):
        self.proc = proc
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.host = f"127.0.0.1:{port}"
        self.data_dir = data_dir
        self.stderr_path = stderr_path
        self.code: str | None = None
        self.stdout_lines: list[str] = []
        self._lines: queue.Queue = queue.Queue()
        self._reader = threading.Thread(target=self._read_stdout, daemon=True)
        self._reader.start()

    def _read_stdout(self) -> None:
        # Keep draining stdout so the server can never block on a full pipe.
        for line in self.proc.stdout:
            self.stdout_lines.append(line)
            self._lines.put(line)
        self._lines.put(None)

    def wait_for_line(self, pattern: re.Pattern, deadline: float) -> re.Match:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise RuntimeError(f"standing serve printed no {pattern.pattern!r}: {self.output()}")
            try:
                line = self._lines.get(timeout=remaining)
            except queue.Empty:
                continue
            if line is None:
                raise RuntimeError(f"standing serve ended (exit {self.proc.wait()}): {self.output()}")
            match = pattern.match(line)
            if match:
                return match

    def output(self) -> str:
        err = self.stderr_path.read_text(errors="replace") if self.stderr_path.exists() else ""
        return f"stdout={''.join(self.stdout_lines)!r} stderr={err[-4000:]!r}"

    def wait_healthy(self, deadline: float) -> None:
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"standing serve exited with {self.proc.returncode}: {self.output()}")
            try:
                status, _ = self.call("GET", "/api/health", timeout=2)
                if status == 200:
                    return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"standing serve did not answer /api/health: {self.output()}")
            time.sleep(POLL_INTERVAL)

    def request(self, method: str, path: str, *, body=None, token: str | None = None,
                headers: dict | None = None, timeout: float = 30):
        """One HTTP request; returns (status, headers dict with lowercased names, raw body bytes).

        `body` may be a dict (sent as JSON) or bytes (sent as is). Host defaults to the
        server's own 127.0.0.1:port; pass headers={"Host": ...} to override it.
        """
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            all_headers = {"Host": self.host}
            data = None
            if isinstance(body, (dict, list)):
                data = json.dumps(body).encode()
                all_headers["Content-Type"] = "application/json"
            elif body is not None:
                data = body
            if token:
                all_headers["Authorization"] = f"Bearer {token}"
            all_headers.update(headers or {})
            conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
            for name, value in all_headers.items():
                conn.putheader(name, value)
            if data is not None and not any(k.lower() == "content-length" for k in all_headers):
                conn.putheader("Content-Length", str(len(data)))
            conn.endheaders(data)
            response = conn.getresponse()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
        finally:
            conn.close()

    def raw(self, data: bytes, *, timeout: float = 30):
        """Send these exact bytes (malformed requests http.client refuses to write) and parse
        the one answer: (status, headers dict with lowercased names, body bytes)."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=timeout) as sock:
            sock.sendall(data)
            sock.shutdown(socket.SHUT_WR)  # the server sees the end; its answer still arrives
            response = http.client.HTTPResponse(sock)
            response.begin()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()

    def call(self, method: str, path: str, *, body=None, token: str | None = None,
             headers: dict | None = None, timeout: float = 30):
        """Like request(), but returns (status, parsed JSON body)."""
        status, _, raw = self.request(method, path, body=body, token=token, headers=headers,
                                      timeout=timeout)
        return status, json.loads(raw) if raw else None

    def pair(self, code: str | None = None, *, origin: str | None = None) -> str:
        """Exchange a pairing code (default: the one printed at start) for a token."""
        headers = {"Origin": origin} if origin else None
        status, body = self.call("POST", "/api/pair", body={"code": code or self.code}, headers=headers)
        if status != 200:
            raise RuntimeError(f"pairing failed: {status} {body}")
        return body["token"]

    def stop(self) -> int:
        """SIGTERM, wait for a clean exit and return the exit code (SIGKILL if it hangs)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._reader.join(timeout=5)
        if self.proc.stdout:
            self.proc.stdout.close()
        return self.proc.returncode


def start_serve(tmp_path: Path, *, demo: bool = False, port: int | None = None,
                data_dir: Path | None = None, extra_args: tuple[str, ...] = ()) -> Served:
    """Start `standing serve --port <free port> [--demo]` with its own data dir and wait until
    /api/health answers and the pairing code is printed. The caller must call .stop()."""
    data_dir = Path(data_dir or os.environ.get("STANDING_DATA_DIR") or tmp_path / "data")
    data_dir.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    env = dict(os.environ, STANDING_DATA_DIR=str(data_dir), PYTHONUNBUFFERED="1")
    args = [*standing_command(), "serve", "--port", str(port), *(["--demo"] if demo else []), *extra_args]
    stderr_path = tmp_path / f"serve-{port}.stderr"
    stderr_file = open(stderr_path, "wb")
    try:
        proc = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=stderr_file,
                                stdin=subprocess.DEVNULL, text=True, bufsize=1)
    finally:
        stderr_file.close()
    server = Served(proc, port, data_dir, stderr_path)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        server.code = server.wait_for_line(CODE_LINE, deadline).group(1)
        server.wait_healthy(deadline)
    except BaseException:
        server.stop()
        raise
    return server


@pytest.fixture
def served(tmp_path):
    """A real `standing serve` on a free port with an empty data dir; exit code 0 checked."""
    server = start_serve(tmp_path)
    yield server
    code = server.stop()
    assert code == 0, f"standing serve exited with {code}: {server.output()}"


@pytest.fixture
def served_demo(tmp_path):
    """A real `standing serve --demo` (the bundled demo mailbox); exit code 0 checked."""
    server = start_serve(tmp_path, demo=True)
    yield server
    code = server.stop()
    assert code == 0, f"standing serve --demo exited with {code}: {server.output()}"


# --- the Flask test client: app -> client -> paired client ------------------------------------

TEST_PORT = 8765  # the port the test client's Host header names (create_app checks it)


def local_client_class(port: int = TEST_PORT):
    """A FlaskClient whose requests carry Host: 127.0.0.1:<port> unless a test overrides it."""
    from flask.testing import FlaskClient

    class LocalClient(FlaskClient):
        def open(self, *args, **kwargs):
            kwargs.setdefault("base_url", f"http://127.0.0.1:{port}")
            return super().open(*args, **kwargs)

    return LocalClient


def make_app(data_dir: Path, **config):
    """create_app on `data_dir` with the test port and the local test client class."""
    from server.api import create_app

    application = create_app({"DATA_DIR": data_dir, "PORT": TEST_PORT, "TESTING": True, **config})
    application.test_client_class = local_client_class(application.config["PORT"])
    return application


def close_app(application) -> None:
    for stores in application.extensions["standing"].values():
        stores.close()


def new_code(data_dir: Path, **kwargs) -> str:
    """A fresh pairing code in the data dir's main database (what `standing pair` does)."""
    from server import auth
    from server.store import Store

    with Store.open(Path(data_dir) / "standing.sqlite3") as store:
        return auth.new_pairing_code(store, **kwargs)


@pytest.fixture
def app(data_dir):
    """The API app on this test's own data dir (conftest's autouse `data_dir`)."""
    application = make_app(data_dir)
    yield application
    close_app(application)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def paired(client, data_dir):
    """The test client with a real token from a real pairing (Authorization set on every call)."""
    response = client.post("/api/pair", json={"code": new_code(data_dir)})
    assert response.status_code == 200, response.get_json()
    client.token = response.get_json()["token"]
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {client.token}"
    return client
