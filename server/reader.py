"""Reader processes: parse fetched mail in second Python processes while a big sync keeps
fetching (server.sync starts them). Kept apart from the sync so a reader imports only the
parsers, not the IMAP, account and credential code.
"""
from __future__ import annotations

import dataclasses
import logging
import os
import pickle
import struct
import threading
from pathlib import Path

log = logging.getLogger(__name__)


class ReaderPool:
    """Second Python processes that parse fetched messages while the sync keeps fetching.

    Each reader is started with subprocess (a clean interpreter: the caller's main script is
    never re-imported, unlike multiprocessing's spawn) and imports the parsers at once, while
    the sync reads headers. One thread per reader here takes the next batch from a shared
    queue, writes it pickled to the reader's stdin and waits for the pickled
    [(Reading | None, error | None)] on its stdout: an idle reader pulls the next batch, so
    the work spreads evenly and submit() never waits. A reader ends when its stdin closes
    (close(), or this process dying), so none outlives the sync.
    """

    def __init__(self, processes: int):
        import queue
        import subprocess
        import sys
        root = str(Path(__file__).resolve().parent.parent)
        env = dict(os.environ)
        env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        self._queue: queue.Queue = queue.Queue()
        self.procs = []
        self._threads = []
        try:
            for n in range(processes):
                proc = subprocess.Popen(
                    [sys.executable, "-c", "from server.reader import _reader_main; _reader_main()"],
                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, close_fds=True)
                self.procs.append(proc)
                thread = threading.Thread(target=self._serve, args=(proc,), daemon=True,
                                          name=f"standing-reader-{n}")
                self._threads.append(thread)
                thread.start()
        except BaseException:
            self.close()
            raise

    def submit(self, items: list[tuple], user_addresses):
        """A Future of read_many(items, user_addresses), computed in a reader process."""
        from concurrent.futures import Future
        if not any(t.is_alive() for t in self._threads):
            raise RuntimeError("no reader process is running")
        future: Future = Future()
        self._queue.put((future, pickle.dumps((items, user_addresses), protocol=pickle.HIGHEST_PROTOCOL)))
        return future

    def _serve(self, proc) -> None:
        job = None
        try:
            while True:
                job = self._queue.get()
                if job is None:
                    return
                future, payload = job
                proc.stdin.write(struct.pack(">Q", len(payload)) + payload)
                proc.stdin.flush()
                head = proc.stdout.read(8)
                if len(head) < 8:
                    raise EOFError("the reader process ended")
                future.set_result(pickle.loads(proc.stdout.read(struct.unpack(">Q", head)[0])))
                job = None
        except Exception as err:  # this reader is gone: its batch fails and is parsed here
            log.info("reader process failed: %s", type(err).__name__)
            if job is not None:
                job[0].set_exception(RuntimeError("the reader process ended"))
        finally:
            for pipe in (proc.stdin, proc.stdout):
                try:
                    pipe.close()
                except OSError:
                    pass

    def close(self, timeout: float = 10.0) -> None:
        """Stop every reader (batches still queued fail: the caller parses them itself)."""
        import queue
        while True:
            try:
                job = self._queue.get_nowait()
            except queue.Empty:
                break
            if job is not None:
                job[0].set_exception(RuntimeError("the readers were stopped"))
        for _ in self._threads:
            self._queue.put(None)
        for thread in self._threads:
            thread.join(timeout)
        for proc in self.procs:
            try:
                proc.wait(timeout)
            except Exception:
                proc.kill()
                proc.wait()


def _reader_main() -> None:
    """The reader process: import the parsers, then answer batches until stdin closes."""
    import sys
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # nothing printed (by Python or C code) may corrupt the answers
    sys.stdout = sys.stderr
    source = sys.stdin.buffer
    from parsers import pipeline  # noqa: F401  (warm: compiles the rules before the first batch)
    while True:
        head = source.read(8)
        if len(head) < 8:
            return
        items, user_addresses = pickle.loads(source.read(struct.unpack(">Q", head)[0]))
        answer = pickle.dumps(read_many(items, user_addresses), protocol=pickle.HIGHEST_PROTOCOL)
        out.write(struct.pack(">Q", len(answer)) + answer)
        out.flush()


def read_many(items: list[tuple], user_addresses) -> list[tuple]:
    """[(reading, None) | (None, error name)] for (raw, thread_id, error) items; never raises.

    Runs in the reader process (items and Readings are picklable) or in the sync process.
    """
    from parsers import pipeline
    out = []
    for raw, thread_id, error in items:
        try:
            reading = pipeline.read_bytes(raw, user_addresses=user_addresses, thread_id=thread_id)
            if error:
                reading = dataclasses.replace(reading, errors=tuple(reading.errors) + (error,))
            out.append((reading, None))
        except Exception as err:  # one bad message never stops a sync
            out.append((None, type(err).__name__))
    return out


__all__ = ["ReaderPool", "read_many"]
