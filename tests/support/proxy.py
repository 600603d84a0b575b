"""A small threaded TCP proxy for IMAP tests: records every client command, and can cut a
connection in the middle of a server response (after N bytes of a FETCH answer).

    with RecordingProxy(upstream_port, cut_after=50_000, cuts=1) as proxy:
        ... connect to 127.0.0.1:proxy.port ...
    proxy.commands  -> [b'a1 LOGIN ...', b'a2 EXAMINE "INBOX"', ...]

cut_at_fetch=k lets the first k BODY.PEEK FETCH commands through untouched.
"""
from __future__ import annotations

import socket
import threading


class RecordingProxy:
    def __init__(self, upstream_port: int, *, upstream_host: str = "127.0.0.1",
                 cut_after: int | None = None, cuts: int = 0, cut_on: bytes = b"FETCH",
                 cut_at_fetch: int = 0):
        self.upstream = (upstream_host, upstream_port)
        self.cut_after = cut_after  # server->client bytes after a `cut_on` command
        self.cuts_left = cuts
        self.cut_on = cut_on
        self.cut_at_fetch = cut_at_fetch  # which FETCH (0-based, over all connections) to cut
        self.fetches = 0
        self.commands: list[bytes] = []
        self.cuts_done = 0
        self._lock = threading.Lock()
        self._listener = socket.socket()
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(16)
        self.port = self._listener.getsockname()[1]
        self._closed = threading.Event()
        self._sockets: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self) -> None:
        self._closed.set()
        try:
            self._listener.close()
        except OSError:
            pass
        with self._lock:
            for s in self._sockets:
                try:
                    s.close()
                except OSError:
                    pass

    def command_words(self) -> list[str]:
        """The command name of every recorded client line (UID FETCH -> 'UID FETCH')."""
        words = []
        for line in self.commands:
            parts = line.split()
            if len(parts) >= 2:
                name = parts[1].upper().decode(errors="replace")
                if name == "UID" and len(parts) >= 3:
                    name += " " + parts[2].upper().decode(errors="replace")
                words.append(name)
        return words

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(self.upstream, timeout=10)
                server.settimeout(None)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._sockets += [client, server]
            state = {"armed": False, "sent": 0, "cut": False}
            threading.Thread(target=self._pump_client, args=(client, server, state), daemon=True).start()
            threading.Thread(target=self._pump_server, args=(server, client, state), daemon=True).start()

    def _pump_client(self, client, server, state) -> None:
        buffer = b""
        try:
            while True:
                data = client.recv(65536)
                if not data:
                    break
                buffer += data
                while b"\r\n" in buffer:
                    line, buffer = buffer.split(b"\r\n", 1)
                    with self._lock:
                        self.commands.append(line)
                        if (self.cut_after is not None and self.cuts_left > 0
                                and self.cut_on in line.upper() and b"BODY.PEEK[" in line.upper()):
                            if self.fetches >= self.cut_at_fetch:
                                state["armed"] = True
                                state["sent"] = 0
                            self.fetches += 1
                server.sendall(data)
        except OSError:
            pass
        finally:
            self._shut(client, server)

    def _pump_server(self, server, client, state) -> None:
        try:
            while True:
                data = server.recv(65536)
                if not data:
                    break
                if state["armed"]:
                    room = self.cut_after - state["sent"]
                    if len(data) >= room:
                        with self._lock:
                            if self.cuts_left > 0:
                                self.cuts_left -= 1
                                self.cuts_done += 1
                                client.sendall(data[:max(room, 0)])
                                state["cut"] = True
                        if state["cut"]:
                            break
                    state["sent"] += len(data)
                client.sendall(data)
        except OSError:
            pass
        finally:
            self._shut(client, server)

    @staticmethod
    def _shut(*socks) -> None:
        for s in socks:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            try:
                s.close()
            except OSError:
                pass
