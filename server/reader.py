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
from collections import deque
from pathlib import Path

log = logging.getLogger(__name__)

JOBS_AHEAD = 2  # batches written to a reader and not yet answered: one being read, one waiting


class ReaderPool:
    """Second Python processes that parse fetched messages while the sync keeps fetching.

    Each reader is started with subprocess (a clean interpreter: the caller's main script is
    never re-imported, unlike multiprocessing's spawn) and imports the parsers at once, while
    the sync reads headers. Per reader, one thread here takes batches from a shared queue and
    writes them pickled to the reader's stdin, at most JOBS_AHEAD at a time, and another reads
    the pickled [(Reading | None, error | None)] answers off its stdout, in order. So a reader
    always has its next batch waiting and never waits for this process (busy fetching) to
    take an answer; a reader with JOBS_AHEAD batches in hand takes no more, so with several
    the work still spreads, and submit() never waits. A reader ends when its stdin closes
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
                sent: deque = deque()  # futures of the batches written, oldest first
                slots = threading.Semaphore(JOBS_AHEAD)
                gone = threading.Event()  # set by _read when the reader's answers end
                for target, role in ((self._write, "in"), (self._read, "out")):
                    thread = threading.Thread(target=target, args=(proc, sent, slots, gone),
                                              daemon=True, name=f"standing-reader-{n}-{role}")
                    self._threads.append(thread)
                    thread.start()
        except BaseException:
            self.close()
            raise

    def submit(self, items: list[tuple], user_addresses):
        """A Future of read_many(items, user_addresses), computed in a reader process."""
        from concurrent.futures import Future
        if not any(t.is_alive() for t in self._threads if t.name.endswith("-out")):
            raise RuntimeError("no reader process is running")
        future: Future = Future()
        self._queue.put((future, pickle.dumps((items, user_addresses), protocol=pickle.HIGHEST_PROTOCOL)))
        return future

    def _write(self, proc, sent: deque, slots: threading.Semaphore, gone: threading.Event) -> None:
        """Write batches to the reader's stdin, JOBS_AHEAD at most awaiting their answers."""
        job = None
        try:
            while True:
                slots.acquire()
                job = self._queue.get()
                if job is None:
                    return
                future, payload = job
                sent.append(future)
                proc.stdin.write(struct.pack(">Q", len(payload)) + payload)
                proc.stdin.flush()
                if gone.is_set():
                    # A dying reader's stdout may close before its stdin: the write went into a
                    # pipe nobody reads, after _read stopped answering. Fail it (once) and stop.
                    _fail(future)
                    return
                job = None
        except Exception as err:  # this reader is gone: _read fails what it had been sent
            log.info("reader process failed: %s", type(err).__name__)
            if job is not None:  # and this batch, which _read may never see
                _fail(job[0])
        finally:
            try:
                proc.stdin.close()  # the reader answers what it has, then ends
            except OSError:
                pass

    def _read(self, proc, sent: deque, slots: threading.Semaphore, gone: threading.Event) -> None:
        """Read the reader's answers off its stdout, in the order the batches were written."""
        try:
            while True:
                head = proc.stdout.read(8)
                if len(head) < 8:
                    return  # the reader ended (its stdin was closed, or it died)
                answer = pickle.loads(proc.stdout.read(struct.unpack(">Q", head)[0]))
                sent.popleft().set_result(answer)
                slots.release()
        except Exception as err:
            log.info("reader process failed: %s", type(err).__name__)
        finally:
            gone.set()  # before draining: _write fails what it sends from now on
            while sent:  # written but never answered: the caller parses them itself
                _fail(sent.popleft())
                slots.release()  # so _write goes on to fail, or to see close()
            try:
                proc.stdout.close()
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
        for _ in self.procs:
            self._queue.put(None)
        for thread in self._threads:
            thread.join(timeout)
        for proc in self.procs:
            try:
                proc.wait(timeout)
            except Exception:
                proc.kill()
                proc.wait()


def _fail(future) -> None:
    """Fail a batch's future (once: _write and _read may both see a reader die)."""
    try:
        future.set_exception(RuntimeError("the reader process ended"))
    except Exception:  # noqa: BLE001 - already answered or failed
        pass


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
