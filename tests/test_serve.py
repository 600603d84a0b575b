"""`standing serve` and `standing pair` as the user runs them: real subprocesses, real sockets."""
from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

from server.auth import CODE_ALPHABET, CODE_LENGTH
from tests.support.serve import free_port, served, served_demo, standing_command, start_serve  # noqa: F401

CODE = re.compile(rf"^Pairing code: ([{CODE_ALPHABET}]{{{CODE_LENGTH}}})$", re.M)


def run_standing(*args, data_dir, timeout=60) -> subprocess.CompletedProcess:
    env = dict(os.environ, STANDING_DATA_DIR=str(data_dir))
    return subprocess.run([*standing_command(), *args], env=env, capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)


def test_serve_prints_address_and_code_then_answers(served):
    out = "".join(served.stdout_lines)
    assert f"Serving on http://127.0.0.1:{served.port}" in out
    assert CODE.search(out).group(1) == served.code
    assert served.call("GET", "/api/health") == (200, {"ok": True, "version": "0.1.0"})
    token = served.pair()
    status, body = served.call("GET", "/api/applications", token=token)
    assert status == 200 and body["applications"] == []
    # the printed code worked once
    assert served.call("POST", "/api/pair", body={"code": served.code})[0] == 401


def test_listens_on_loopback_only(served):
    listening = [line.split() for line in Path("/proc/net/tcp").read_text().splitlines()[1:]]
    port_hex = f"{served.port:04X}"
    local = [fields[1] for fields in listening if fields[1].endswith(f":{port_hex}") and fields[3] == "0A"]
    assert local == ["0100007F:" + port_hex]  # 127.0.0.1, nothing on 0.0.0.0


def test_sigint_stops_cleanly(tmp_path):
    server = start_serve(tmp_path)
    server.proc.send_signal(signal.SIGINT)
    assert server.proc.wait(timeout=30) == 0
    assert server.stop() == 0
    assert "Traceback" not in server.stderr_path.read_text()


def test_stops_cleanly_while_answering_requests(tmp_path):
    """A signal that lands while waitress handles a socket event must still stop the server."""
    import threading

    server = start_serve(tmp_path)
    done = threading.Event()

    def hammer():
        while not done.is_set():
            try:
                server.request("GET", "/api/health", timeout=2)
            except OSError:
                pass

    threads = [threading.Thread(target=hammer) for _ in range(3)]
    for thread in threads:
        thread.start()
    try:
        server.request("GET", "/api/health")
        server.proc.send_signal(signal.SIGTERM)
        assert server.proc.wait(timeout=30) == 0
    finally:
        done.set()
        for thread in threads:
            thread.join()
        server.stop()


def test_port_in_use_is_one_line_and_exit_1(tmp_path, data_dir):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        result = run_standing("serve", "--port", str(port), data_dir=data_dir)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "already in use" in lines[0], result.stderr
    assert "Pairing code" not in result.stdout


def test_standing_pair_prints_a_code_the_running_server_accepts(served):
    result = run_standing("pair", data_dir=served.data_dir)
    assert result.returncode == 0, result.stderr
    code = CODE.search(result.stdout).group(1)
    token = served.pair(code)
    assert served.call("GET", "/api/sync", token=token)[0] == 200


def test_standing_pair_revoke_revokes_every_token(served):
    first = served.pair()
    result = run_standing("pair", "--revoke", data_dir=served.data_dir)
    assert result.returncode == 0, result.stderr
    assert "Revoked 1 token." in result.stdout
    assert served.call("GET", "/api/sync", token=first)[0] == 401
    fresh = served.pair(CODE.search(result.stdout).group(1))
    assert served.call("GET", "/api/sync", token=fresh)[0] == 200


def test_sync_can_be_requested_from_a_real_server(served):
    token = served.pair()
    status, body = served.call("POST", "/api/sync", token=token)
    assert (status, body) == (202, {"ok": True})
    status, body = served.call("GET", "/api/sync", token=token)
    assert status == 200 and body["state"] in ("idle", "syncing", "error")


def test_demo_serves_the_bundled_mailbox_in_its_own_database(served_demo):
    token = served_demo.pair()
    status, body = served_demo.call("GET", "/api/applications", token=token)
    assert status == 200
    flags = [item["flag"] for item in body["applications"]]
    assert {"amber", "green", "red"} <= set(flags)
    order = {"amber": 0, "green": 1, "grey": 2, "red": 3}
    assert [order[f] for f in flags] == sorted(order[f] for f in flags)
    assert (served_demo.data_dir / "demo.sqlite3").exists()
    detail = served_demo.call("GET", f"/api/applications/{body['applications'][0]['id']}", token=token)[1]
    assert detail["application"]["timeline"]


def test_help_describes_both_commands():
    for command in ("serve", "pair"):
        result = subprocess.run([sys.executable, "-m", "server.cli", command, "--help"],
                                capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        assert "--port" in result.stdout if command == "serve" else "--revoke" in result.stdout
