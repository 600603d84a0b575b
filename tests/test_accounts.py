"""Adding accounts against a real Dovecot: the login is tested first, secrets never leak."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading

import pytest
from click.testing import CliRunner

from server import accounts
from server.errors import AccountError
from server.store import Store
from tests.support.dovecot import dovecot, dovecot_private  # noqa: F401


def _one_sentence(err) -> str:
    text = str(err)
    assert text and "\n" not in text and "Traceback" not in text
    return text


def _files_containing(root, needle: bytes) -> list[str]:
    hits = []
    for dirpath, _, names in os.walk(root):
        for name in names:
            path = os.path.join(dirpath, name)
            with open(path, "rb") as fh:
                if needle in fh.read():
                    hits.append(path)
    return hits


def test_right_password_saves_account_and_secret_is_nowhere_in_clear(dovecot, data_dir, monkeypatch):
    monkeypatch.setenv("STANDING_KEYRING", "0")
    with Store.open() as store:
        account = accounts.add_account(store, email=dovecot.user, secret=dovecot.password,
                                       host="127.0.0.1", port=dovecot.port, security="plain")
        assert set(account) == set(accounts.PUBLIC_FIELDS)
        assert account["email"] == dovecot.user and account["security"] == "plain"
        assert dovecot.password not in json.dumps(account)
        assert [a["id"] for a in accounts.list_accounts(store)] == [account["id"]]
        client = accounts.open_account(store, store.get_account(account["id"]))
        client.logout()
    assert _files_containing(data_dir, dovecot.password.encode()) == []
    assert list(data_dir.glob("standing.sqlite3*"))


def test_password_with_letters_outside_ascii_logs_in_and_stays_encrypted(dovecot, data_dir,
                                                                         monkeypatch):
    # LOGIN can only carry ASCII: such a password must go through AUTHENTICATE PLAIN.
    from tests.support.dovecot import DovecotUser
    monkeypatch.setenv("STANDING_KEYRING", "0")
    user = DovecotUser(dovecot.server, *dovecot.server.add_user(non_ascii=True))
    assert not user.password.isascii()
    with Store.open() as store:
        account = accounts.add_account(store, email=user.user, secret=user.password,
                                       host="127.0.0.1", port=dovecot.port, security="plain")
        client = accounts.open_account(store, store.get_account(account["id"]))
        client.logout()
    assert _files_containing(data_dir, user.password.encode()) == []


def test_tls_with_the_test_ca_trusted(dovecot, monkeypatch):
    monkeypatch.setenv("STANDING_IMAP_CA_FILE", str(dovecot.ca_path))
    settings = accounts.check_connection(email=dovecot.user, secret=dovecot.password,
                                         host="127.0.0.1", port=dovecot.ssl_port, security="tls")
    assert settings.security == "tls"


def test_starttls_with_the_test_ca_trusted(dovecot):
    settings = accounts.check_connection(email=dovecot.user, secret=dovecot.password,
                                         host="127.0.0.1", port=dovecot.port, security="starttls",
                                         ca_file=str(dovecot.ca_path))
    assert settings.security == "starttls"


def test_untrusted_certificate_is_refused_in_words(dovecot, monkeypatch):
    monkeypatch.delenv("STANDING_IMAP_CA_FILE", raising=False)
    with pytest.raises(AccountError) as info:
        accounts.check_connection(email=dovecot.user, secret=dovecot.password, host="127.0.0.1",
                                  port=dovecot.ssl_port, security="tls")
    assert "certificate" in _one_sentence(info.value)


def test_tls_to_a_plain_port_is_one_sentence(dovecot):
    with pytest.raises(AccountError) as info:
        accounts.check_connection(email=dovecot.user, secret=dovecot.password, host="127.0.0.1",
                                  port=dovecot.port, security="tls")
    assert "secure connection" in _one_sentence(info.value)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_and_unknown_hosts(dovecot):
    with pytest.raises(AccountError) as info:
        accounts.check_connection(email=dovecot.user, secret="x", host="127.0.0.1",
                                  port=_closed_port(), security="plain")
    assert "Nothing answered" in _one_sentence(info.value)
    with pytest.raises(AccountError) as info:
        accounts.check_connection(email=dovecot.user, secret="x", host="no-such-host.invalid",
                                  port=993, security="tls")
    assert "could not be found" in _one_sentence(info.value)


class FakeServer:
    """A TCP server that either says nothing or greets as a non-IMAP4rev1 server."""

    def __init__(self, greeting: bytes | None):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.port = self.sock.getsockname()[1]
        self.greeting = greeting
        self.conns = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        try:
            conn, _ = self.sock.accept()
        except OSError:
            return
        self.conns.append(conn)
        if self.greeting is None:
            return
        conn.sendall(self.greeting)
        buf = b""
        while True:
            try:
                data = conn.recv(4096)
            except OSError:
                return
            if not data:
                return
            buf += data
            while b"\r\n" in buf:
                line, buf = buf.split(b"\r\n", 1)
                tag = line.split(b" ", 1)[0]
                if b"CAPABILITY" in line.upper():
                    conn.sendall(b"* CAPABILITY IMAP2 AUTH=PLAIN\r\n" + tag + b" OK done\r\n")
                else:
                    conn.sendall(tag + b" BAD no\r\n")

    def close(self):
        for c in self.conns:
            c.close()
        self.sock.close()


def test_timeout_is_one_sentence():
    server = FakeServer(greeting=None)
    try:
        with pytest.raises(AccountError) as info:
            accounts.check_connection(email="a@example.org", secret="x", host="127.0.0.1",
                                      port=server.port, security="plain", read_timeout=0.5)
        assert "did not answer in time" in _one_sentence(info.value)
    finally:
        server.close()


def test_server_without_imap4rev1_is_one_sentence():
    server = FakeServer(greeting=b"* OK old server ready\r\n")
    try:
        with pytest.raises(AccountError) as info:
            accounts.check_connection(email="a@example.org", secret="x", host="127.0.0.1",
                                      port=server.port, security="plain", read_timeout=5)
        assert "IMAP4rev1" in _one_sentence(info.value)
    finally:
        server.close()


def test_cli_add_list_remove(dovecot, data_dir):
    from server.cli import cli

    runner = CliRunner()
    result = runner.invoke(cli, ["account", "add", dovecot.user, "--host", "127.0.0.1", "--port",
                                 str(dovecot.port), "--security", "plain", "--password-stdin"],
                           input=dovecot.password + "\n")
    assert result.exit_code == 0, result.output
    assert dovecot.password not in result.output
    listed = runner.invoke(cli, ["account", "list", "--json"])
    rows = json.loads(listed.output)["accounts"]
    assert [r["email"] for r in rows] == [dovecot.user]
    tested = runner.invoke(cli, ["account", "test", dovecot.user])
    assert tested.exit_code == 0 and "works" in tested.output
    removed = runner.invoke(cli, ["account", "remove", dovecot.user])
    assert removed.exit_code == 0 and "Removed" in removed.output
    assert json.loads(runner.invoke(cli, ["account", "list", "--json"]).output)["accounts"] == []
    assert _files_containing(data_dir, dovecot.password.encode()) == []


def test_cli_refuses_plain_to_a_remote_host(data_dir):
    proc = subprocess.run(
        [sys.executable, "-m", "server.cli", "account", "add", "a@example.org", "--host",
         "mail.example.org", "--security", "plain", "--password-stdin"],
        input="pw\n", capture_output=True, text=True, timeout=60,
        env={**os.environ, "STANDING_DATA_DIR": str(data_dir)})
    assert proc.returncode == 1 and "plain" in proc.stderr and "Traceback" not in proc.stderr


def test_api_never_returns_or_stores_the_password(dovecot, data_dir, tmp_path):
    from server.api import create_app

    app = create_app({"DATA_DIR": str(data_dir)}) if _accepts_config() else create_app()
    client = app.test_client()
    token = _pair(app, client)
    headers = {"Authorization": f"Bearer {token}", "Host": _host(app)} if token else {}
    if not token:
        pytest.fail("could not pair with the API test client")
    good = client.post("/api/accounts", json={"email": dovecot.user, "password": dovecot.password,
                                              "host": "127.0.0.1", "port": dovecot.port,
                                              "security": "plain"}, headers=headers)
    assert good.status_code == 201, good.get_data(as_text=True)
    bad = client.post("/api/accounts", json={"email": "other@" + dovecot.user.split("@")[1],
                                             "password": dovecot.password + "x",
                                             "host": "127.0.0.1", "port": dovecot.port,
                                             "security": "plain"}, headers=headers)
    assert bad.status_code == 400 and "refused" in bad.get_json()["error"]
    listed = client.get("/api/accounts", headers=headers)
    for response in (bad, good, listed, client.get("/api/sync", headers=headers)):
        assert dovecot.password.encode() not in response.get_data()
    assert _files_containing(data_dir, dovecot.password.encode()) == []
    assert _files_containing(tmp_path, dovecot.password.encode()) == []


def _accepts_config() -> bool:
    import inspect
    from server.api import create_app
    return "config" in inspect.signature(create_app).parameters


def _host(app) -> str:
    port = app.config.get("PORT") or 8765
    return f"127.0.0.1:{port}"


def _pair(app, client) -> str | None:
    """Pair like the extension does: a code from the store, exchanged for a token."""
    from server import auth
    with Store.open() as store:
        code = auth.new_pairing_code(store) if hasattr(auth, "new_pairing_code") else None
    if code is None:
        return None
    response = client.post("/api/pair", json={"code": code}, headers={"Host": _host(app),
                           "Origin": "chrome-extension://abcdefghijklmnopabcdefghijklmnop"})
    return (response.get_json() or {}).get("token")


# Failed logins make Dovecot delay later logins from this IP: each gets its own Dovecot.

def test_wrong_password_leaves_no_account(dovecot_private, data_dir):
    with Store.open() as store:
        with pytest.raises(AccountError) as info:
            accounts.add_account(store, email=dovecot_private.user, secret="not-the-password",
                                 host="127.0.0.1", port=dovecot_private.port, security="plain")
        assert "refused" in _one_sentence(info.value)
        assert store.list_accounts() == []
    assert not (data_dir / "secrets").exists() or not any((data_dir / "secrets").iterdir())


def test_wrong_password_for_a_provider_address_names_the_help_link(dovecot_private):
    with pytest.raises(AccountError) as info:
        accounts.check_connection(email="someone@gmail.com", secret="nope", host="127.0.0.1",
                                  port=dovecot_private.port, security="plain")
    assert "https://support.google.com/" in _one_sentence(info.value)


def test_cli_wrong_password_is_one_line_and_exit_1(dovecot_private, data_dir):
    proc = subprocess.run(
        [sys.executable, "-m", "server.cli", "account", "add", dovecot_private.user, "--host", "127.0.0.1",
         "--port", str(dovecot_private.port), "--security", "plain", "--password-stdin"],
        input="wrong-password\n", capture_output=True, text=True, timeout=60,
        env={**os.environ, "STANDING_DATA_DIR": str(data_dir)})
    assert proc.returncode == 1
    assert proc.stderr.startswith("standing: ") and proc.stderr.count("\n") == 1, proc.stderr
    assert "Traceback" not in proc.stderr
