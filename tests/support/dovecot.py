"""A private, real Dovecot for tests and benches: plain IMAP and IMAPS with a throwaway CA.

Use the pytest fixture `dovecot` (a fresh mail user per test on one Dovecot per session):

    from tests.support.dovecot import dovecot  # noqa: F401

    def test_x(dovecot):
        dovecot.append("INBOX", raw_bytes)
        IMAPClient(dovecot.host, dovecot.port, ssl=False).login(dovecot.user, dovecot.password)

The object has .host, .port (plain), .ssl_port (IMAPS), .ca_path (the CA that signed the
server certificate, to trust in TLS tests), .user, .password, .maildir(folder),
.append(folder, raw, date=None), .write_maildir(folder, messages), .log_path and
.log_since(offset). The instance is stopped in teardown, always: SIGTERM to the master,
then SIGKILL to any imap/auth child still alive (a connected client keeps its imap
process running after the master ends).

Outside pytest (bench/), use `DovecotServer.start(directory)` and `.stop()`.
"""
from __future__ import annotations

import atexit
import itertools
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest

MAIL_UID = 65534  # the mail user cannot be root; nobody/nogroup owns the Maildirs
START_DEADLINE = 15.0  # seconds to wait for the greeting on a busy 2-core machine
DOMAIN = "example.org"
PROVISIONED_USERS = 500  # users written to the passwd file at start (one per test)
NON_ASCII_USERS = 20  # more users after those, whose passwords are not ASCII ("Straße")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _make_certs(directory: Path) -> tuple[Path, Path, Path]:
    """A throwaway CA and a server certificate for localhost / 127.0.0.1 signed by it."""
    ca_key, ca_crt = directory / "ca.key", directory / "ca.pem"
    key, csr, crt = directory / "server.key", directory / "server.csr", directory / "server.pem"
    run = lambda *a: subprocess.run(a, check=True, capture_output=True)  # noqa: E731
    run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "3",
        "-subj", "/CN=Standing Test CA", "-keyout", str(ca_key), "-out", str(ca_crt),
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    run("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost",
        "-keyout", str(key), "-out", str(csr))
    ext = directory / "server.ext"
    ext.write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\n"
                   "basicConstraints=critical,CA:FALSE\n"
                   "keyUsage=critical,digitalSignature,keyEncipherment\n"
                   "extendedKeyUsage=serverAuth\n"
                   "authorityKeyIdentifier=keyid\nsubjectKeyIdentifier=hash\n")
    run("openssl", "x509", "-req", "-in", str(csr), "-CA", str(ca_crt), "-CAkey", str(ca_key),
        "-CAcreateserial", "-days", "3", "-out", str(crt), "-extfile", str(ext))
    return ca_crt, crt, key


CONF = """\
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
info_log_path = {root}/dovecot.log
listen = 127.0.0.1
protocols = imap
ssl = yes
ssl_cert = <{root}/server.pem
ssl_key = <{root}/server.key
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
mail_location = maildir:~/Maildir
mail_fsync = never
mail_plugins = $mail_plugins notify mail_log
{users}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {root}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/home/%u
}}
namespace inbox {{
  inbox = yes
  separator = /
  mailbox Sent {{
    special_use = \\Sent
    auto = subscribe
  }}
  mailbox Archive {{
    special_use = \\Archive
    auto = subscribe
  }}
  mailbox Drafts {{
    special_use = \\Drafts
    auto = subscribe
  }}
  mailbox Trash {{
    special_use = \\Trash
    auto = subscribe
  }}
}}
plugin {{
  # Every change a client can make to mail is logged: the read-only tests grep for these.
  mail_log_events = delete undelete expunge copy mailbox_delete mailbox_rename flag_change save mailbox_create
  mail_log_fields = uid box msgid flags
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {ssl_port}
    ssl = yes
  }}
{chroot}}}
service anvil {{
{chroot}}}
service stats {{
  unix_listener stats-reader {{
    mode = 0666
  }}
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
"""


class DovecotServer:
    """One private Dovecot master process and its files under `root`."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.host = "127.0.0.1"
        self.port = _free_port()
        self.ssl_port = _free_port()
        self.log_path = self.root / "dovecot.log"
        self.ca_path = self.root / "ca.pem"
        self.proc: subprocess.Popen | None = None
        self._users = itertools.count(1)
        self._non_ascii_users = itertools.count(PROVISIONED_USERS + 1)

    @classmethod
    def start(cls, root: Path | None = None) -> "DovecotServer":
        root = Path(root or tempfile.mkdtemp(prefix="standing-dovecot-"))
        root.mkdir(parents=True, exist_ok=True)
        server = cls(root)
        try:
            server._start()
        except BaseException:
            server.stop()
            raise
        return server

    def _start(self) -> None:
        root = self.root
        # mkdtemp makes 0700: the auth process (user dovecot) must read the passwd file.
        os.chmod(root, 0o755)
        for sub in ("run", "state", "home"):
            (root / sub).mkdir(exist_ok=True)
        # Dovecot notices passwd-file changes by mtime (whole seconds), so users added within
        # one second could be missed: every user a test process can ask for is written now.
        (root / "passwd").write_text("".join(
            f"user{i}@{DOMAIN}:{{PLAIN}}{self.password_for(i)}::::::\n"
            for i in range(1, PROVISIONED_USERS + NON_ASCII_USERS + 1)))
        os.chmod(root / "passwd", 0o644)
        _make_certs(root)
        os.chmod(root / "server.key", 0o600)
        if os.geteuid() == 0:
            uid = gid = MAIL_UID
            os.chown(root / "home", uid, gid)
            users, chroot = "", ""
        else:
            uid, gid = os.getuid(), os.getgid()
            import pwd
            me = pwd.getpwuid(uid).pw_name
            users = f"default_internal_user = {me}\ndefault_login_user = {me}\n"
            chroot = "  chroot =\n"
        self.mail_uid, self.mail_gid = uid, gid
        conf = CONF.format(root=root, uid=uid, gid=gid, port=self.port, ssl_port=self.ssl_port,
                           users=users, chroot=chroot)
        (root / "dovecot.conf").write_text(conf)
        self.proc = subprocess.Popen(["dovecot", "-F", "-c", str(root / "dovecot.conf")],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                     start_new_session=True)
        self._wait_for_greeting()

    def _wait_for_greeting(self) -> None:
        deadline = time.monotonic() + START_DEADLINE
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                err = self.proc.stderr.read().decode(errors="replace")
                log = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
                raise RuntimeError(f"dovecot exited: {err}\n{log}")
            try:
                with socket.create_connection((self.host, self.port), timeout=1) as s:
                    if s.recv(200).startswith(b"* OK"):
                        return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("dovecot did not greet in time")

    # -- users and mail ------------------------------------------------------------------

    @staticmethod
    def password_for(i: int) -> str:
        if i > PROVISIONED_USERS:
            return f"s3cret-Straße-Ünïcode-{i:04d}"
        return f"s3cret-Pass-{i:04d}"

    def add_user(self, *, non_ascii: bool = False) -> tuple[str, str]:
        """A mail user nobody used yet (from the ones written at start). Returns (user, password);
        with non_ascii, one whose password has letters outside ASCII."""
        i = next(self._non_ascii_users if non_ascii else self._users)
        limit = PROVISIONED_USERS + NON_ASCII_USERS if non_ascii else PROVISIONED_USERS
        if i > limit:
            raise RuntimeError("more test mail users than provisioned; raise PROVISIONED_USERS")
        return f"user{i}@{DOMAIN}", self.password_for(i)

    def home(self, user: str) -> Path:
        return self.root / "home" / user

    def maildir(self, user: str, folder: str = "INBOX") -> Path:
        base = self.home(user) / "Maildir"
        return base if folder.upper() == "INBOX" else base / ("." + folder.replace("/", "."))

    def client(self, user: str, password: str):
        from imapclient import IMAPClient
        c = IMAPClient(self.host, self.port, ssl=False, timeout=30)
        c.login(user, password)
        return c

    def append(self, user: str, password: str, folder: str, raw: bytes,
               date: datetime | None = None, flags=()) -> None:
        with self.client(user, password) as c:
            if folder.upper() != "INBOX" and not c.folder_exists(folder):
                c.create_folder(folder)
            c.append(folder, raw, flags=flags, msg_time=date)
            c.logout()

    def write_maildir(self, user: str, folder: str, messages) -> int:
        """Write (raw_bytes, datetime | None) pairs straight into Maildir/cur (fast fill).

        Dovecot must not be holding the folder open in a session; it picks files up on the
        next EXAMINE. Returns the number written.
        """
        box = self.maildir(user, folder)
        for sub in ("cur", "new", "tmp"):
            (box / sub).mkdir(parents=True, exist_ok=True)
        n = 0
        stamp = int(time.time())
        for raw, when in messages:
            n += 1
            path = box / "cur" / f"{stamp}.M{n}P{os.getpid()}.standing,S={len(raw)}:2,"
            path.write_bytes(raw)
            if when is not None:
                ts = when.timestamp()
                os.utime(path, (ts, ts))
        self._chown_tree(self.home(user))
        return n

    def _chown_tree(self, path: Path) -> None:
        if os.geteuid() != 0:
            return
        for dirpath, dirnames, filenames in os.walk(path):
            os.chown(dirpath, self.mail_uid, self.mail_gid)
            for name in filenames:
                os.chown(os.path.join(dirpath, name), self.mail_uid, self.mail_gid)
        parent = path
        while parent != self.root / "home" and parent != parent.parent:
            os.chown(parent, self.mail_uid, self.mail_gid)
            parent = parent.parent

    def log_offset(self) -> int:
        return self.log_path.stat().st_size if self.log_path.exists() else 0

    def log_since(self, offset: int) -> str:
        if not self.log_path.exists():
            return ""
        with open(self.log_path, "rb") as fh:
            fh.seek(offset)
            return fh.read().decode(errors="replace")

    # -- stop ------------------------------------------------------------------------------

    def stop(self) -> None:
        """SIGTERM the master, then SIGKILL whatever of its process group is left."""
        proc = self.proc
        if proc is not None and proc.poll() is None:
            try:
                proc.send_signal(signal.SIGTERM)
                proc.wait(timeout=5)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                pass
        if proc is not None:
            try:
                os.killpg(proc.pid, signal.SIGKILL)  # our own session: only our children
            except (ProcessLookupError, PermissionError):
                pass
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
            if proc.stderr:
                proc.stderr.close()
        self._kill_leftovers()

    def _kill_leftovers(self) -> None:
        """Children that left the process group (dovecot's services) still name our config dir."""
        marker = str(self.root)
        for pid_dir in Path("/proc").iterdir():
            if not pid_dir.name.isdigit():
                continue
            try:
                environ_cmd = (pid_dir / "cmdline").read_bytes()
            except OSError:
                continue
            if marker.encode() in environ_cmd and int(pid_dir.name) != os.getpid():
                try:
                    os.kill(int(pid_dir.name), signal.SIGKILL)
                except OSError:
                    pass


@dataclass
class DovecotUser:
    """The `dovecot` fixture: one fresh mail user on the shared private server."""

    server: DovecotServer
    user: str
    password: str

    @property
    def host(self) -> str:
        return self.server.host

    @property
    def port(self) -> int:
        return self.server.port

    @property
    def ssl_port(self) -> int:
        return self.server.ssl_port

    @property
    def ca_path(self) -> Path:
        return self.server.ca_path

    @property
    def log_path(self) -> Path:
        return self.server.log_path

    def maildir(self, folder: str = "INBOX") -> Path:
        return self.server.maildir(self.user, folder)

    def client(self):
        """A read-write imapclient logged in as this user (for the test's own changes)."""
        return self.server.client(self.user, self.password)

    def append(self, folder: str, raw: bytes, date: datetime | None = None, flags=()) -> None:
        self.server.append(self.user, self.password, folder, raw, date, flags)

    def write_maildir(self, folder: str, messages) -> int:
        return self.server.write_maildir(self.user, folder, messages)

    def log_offset(self) -> int:
        return self.server.log_offset()

    def log_since(self, offset: int) -> str:
        return self.server.log_since(offset)


_SHARED: DovecotServer | None = None
_SHARED_KEY = None


def shared_server(config=None, key=None) -> DovecotServer:
    """One Dovecot per test module (`key`), started on first use, stopped when pytest ends.

    Per module because Dovecot delays logins from an IP after failed ones (2, 4, 8, 15 s):
    a module that tests wrong passwords must not slow the next one.
    """
    global _SHARED, _SHARED_KEY
    if key != _SHARED_KEY and _SHARED is not None:
        _SHARED.stop()
        _SHARED = None
    _SHARED_KEY = key
    if _SHARED is None or _SHARED.proc is None or _SHARED.proc.poll() is not None:
        root = Path(tempfile.mkdtemp(prefix="standing-dovecot-"))
        server = DovecotServer.start(root)
        _SHARED = server

        def _cleanup(server=server, root=root):
            server.stop()
            shutil.rmtree(root, ignore_errors=True)

        if config is not None:
            config.add_cleanup(_cleanup)
        atexit.register(_cleanup)
    return _SHARED


@pytest.fixture
def dovecot(request):
    """A fresh, empty mailbox (its own user) on this test module's private Dovecot."""
    server = shared_server(request.config, key=request.module.__name__)
    user, password = server.add_user()
    return DovecotUser(server, user, password)


@pytest.fixture
def dovecot_private(tmp_path_factory):
    """Like `dovecot`, on a Dovecot of its own (for tests of failed logins, which make Dovecot
    delay every later login from 127.0.0.1)."""
    root = tmp_path_factory.mktemp("dovecot-private")
    server = DovecotServer.start(root)
    try:
        user, password = server.add_user()
        yield DovecotUser(server, user, password)
    finally:
        server.stop()
