"""Read-only mailbox sync: one Syncer over the store, and SyncService for `standing serve`.

Read-only by construction: folders are opened with EXAMINE (select_folder(readonly=True))
and only BODY.PEEK items are fetched, so no flag (not even \\Seen) ever changes; no STORE,
COPY, MOVE, EXPUNGE or APPEND is ever sent.

Per folder the store keeps UIDVALIDITY, the last UID stored and HIGHESTMODSEQ. A resync
first compares the EXAMINE answer (HIGHESTMODSEQ with CONDSTORE, else UIDNEXT) with the saved
state, so a mailbox with nothing new costs one EXAMINE per folder. A UIDVALIDITY change
forgets the folder's UIDs and reads it again, skipping every Message-ID already stored.

Per batch of UIDs: header fields + RFC822.SIZE for every message; a 2 KB text prefix for the
prefilter's undecided personal mail (of a multipart one, from the first bytes of its body);
BODYSTRUCTURE only for multipart mail kept; text parts (capped) only for the messages kept;
one store transaction per batch. The last UID is saved after each batch so a dropped
connection resumes where it stopped.

A big sync (READER_PROCESS_MIN messages or more) also parses in a reader process
(server.reader), started as soon as the folders' sizes allow such a sync so that it imports
the parsers while the server searches, and sends its header FETCH commands ahead on a second
connection (HeaderReader), so the server, this process and the parsing work at the same
time. Addresses the user sends from in \\Sent become the user's own (MIN_SENT_TO_LEARN).
"""
from __future__ import annotations

import dataclasses
import imaplib
import json
import logging
import os
import socket
import ssl
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from . import accounts as accounts_mod
from . import imap, prefilter
from .errors import AccountError, StandingError
from .reader import ReaderPool, read_many

log = logging.getLogger(__name__)

BATCH_SIZE = 500                 # UIDs per FETCH: bounds memory and stays under server line limits
TEXT_PART_CAP = 200_000          # bytes of one text part: the newest reply is at the top
MAX_MESSAGE_SIZE = 40_000_000    # declared RFC822.SIZE above this is recorded, never loaded
DEFAULT_WINDOW_DAYS = 365        # the first sync reads the last 12 months
IDLE_RENEW_SECONDS = 25 * 60     # RFC 2177: re-issue IDLE before servers' 30-minute cut-off
IDLE_CHECK_SECONDS = 1.0         # how often an idling thread looks at its stop flag
POLL_SECONDS = 60.0              # servers without IDLE are polled this often
BACKOFF_SECONDS = (1, 2, 5, 10, 30, 60, 120)  # retry delays after a dropped connection
MAX_ATTEMPTS = 6                 # per sync run; then the error is shown and the service waits

# A full sync this size or more parses in a second process (started once per sync, fed one
# batch at a time) while this one keeps fetching; below it, starting the process and importing
# the parsers there (~0.5 s) would cost more than it saves (an IDLE sync reads one message).
READER_PROCESS_MIN = 2_000
READER_PROCESSES = 1             # readers: this process fetches meanwhile; a second one measured
                                 # no faster on 2 shared cores (its parser import costs ~0.3 s CPU)
# Bytes of fetched mail handed to the readers and not yet stored: bounds memory, and is large
# enough that the fetching goes on while a reader starts (imports the parsers) on a busy machine.
READER_INFLIGHT_BYTES = 64_000_000
# A sync that big also reads its headers on a second connection, their FETCH commands sent a
# few batches ahead (HeaderReader): the server works out the next headers in a session of their
# own while this process works on the last ones (Dovecot spends ~0.5 s of CPU on the header
# fields of 20,000 new messages). A server refusing a second login is fine: the headers are
# then read on the one connection, in turn.
HEADERS_AHEAD = 8                # header FETCH commands in flight on the second connection
# Bytes read past TEXT_PREFIX_BYTES from the body of an undecided multipart message: room for
# the MIME boundaries and part headers before its first text part (a few hundred bytes).
MIME_HEADER_SLACK = 1_024
# An address the user sent mail from at least this often (From: in the \Sent folder) is one of
# the user's own, like the account's: aliases, a custom domain, "send mail as". Twice, so that
# a stray message in Sent (a redirect, a saved copy) does not make a stranger "the user".
MIN_SENT_TO_LEARN = 2

NETWORK_ERRORS = (OSError, imaplib.IMAP4.abort, EOFError, ssl.SSLError, socket.timeout)


def _iso_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@dataclass
class SyncResult:
    seen: int = 0          # messages whose headers were read
    candidates: int = 0    # messages whose text was fetched (or recorded as too large)
    stored: int = 0        # new rows in the store
    skipped: int = 0       # already stored (other folder, earlier run) or not candidates
    errors: int = 0        # bad messages recorded and skipped
    bytes_fetched: int = 0
    folders: list = field(default_factory=list)


def _header_bytes(item: dict) -> bytes:
    for key, value in item.items():
        if isinstance(key, bytes) and key.startswith(b"BODY[HEADER"):
            return value or b""
    return b""


def _section_bytes(item: dict, section: str) -> bytes:
    want = f"BODY[{section}]".encode()
    for key, value in item.items():
        if isinstance(key, bytes) and key.startswith(want):
            return value or b""
    return b""


class Syncer:
    """Sync one account's folders into the store. Not thread-safe: one per thread."""

    def __init__(self, store, account: dict, *, window_days: int = DEFAULT_WINDOW_DAYS,
                 batch_size: int = BATCH_SIZE, part_cap: int = TEXT_PART_CAP,
                 max_message_size: int = MAX_MESSAGE_SIZE, ca_file: str | None = None,
                 progress=None, now: datetime | None = None, client=None,
                 read_timeout: float = imap.READ_TIMEOUT):
        self.store = store
        self.account = account
        self.window_days = window_days
        self.batch_size = batch_size
        self.part_cap = part_cap
        self.max_message_size = max_message_size
        self.ca_file = ca_file
        self.progress = progress  # callable(phase, done, total)
        self.now = now
        self.client = client
        self.read_timeout = read_timeout
        self.result = SyncResult()
        self._kept: set[str] = set()
        self._sent_from: dict[str, int] = {}  # From: addresses seen in the \Sent folder, counted
        self._sent_folders: set[str] = set()
        self._done = 0
        self._total = 0
        self._reader = None        # ReaderPool parsing for a big sync (see _start_reader)
        self._reader_tried = False
        self.uidnext_seen: dict[str, int] = {}  # folder -> UIDNEXT at this sync's EXAMINE
        self._expected = 0         # new messages in the folders examined so far (an upper bound)
        # (future | None, folder, items, plan, batch), oldest first; batch None marks a folder's end
        self._inflight: list[tuple] = []
        self._ahead: HeaderReader | None = None  # the header pass on a second connection (big syncs)

    # -- connection ------------------------------------------------------------------------

    def connect(self):
        if self.client is None:
            self.client = accounts_mod.open_account(self.store, self.account, ca_file=self.ca_file,
                                                    read_timeout=self.read_timeout)
        return self.client

    def close(self) -> None:
        client, self.client = self.client, None
        if client is not None:
            imap.log_out(client)

    # -- progress --------------------------------------------------------------------------

    def _report(self, phase: str) -> None:
        try:
            self.store.set_sync_status(state="syncing", phase=phase, done=self._done, total=self._total)
        except Exception:  # progress is nice to have; a busy database must not stop the sync
            log.debug("could not write sync progress", exc_info=True)
        if self.progress:
            self.progress(phase, self._done, self._total)

    # -- the sync --------------------------------------------------------------------------

    def folders(self) -> list[tuple[str, str]]:
        client = self.connect()
        listed = client.list_folders()
        flags = {f for flagset, _, _ in listed for f in flagset}
        if not flags & {b"\\Sent", b"\\All", b"\\Archive"} and b"XLIST" in client.capabilities():
            listed = client.xlist_folders()
        return imap.choose_folders(listed, gmail=self.gmail)

    @property
    def gmail(self) -> bool:
        return b"X-GM-EXT-1" in self.connect().capabilities()

    def sync(self, only: list[tuple[str, str]] | None = None) -> SyncResult:
        """One pass over the account's folders (or `only`). Network errors propagate."""
        client = self.connect()
        folders = only or self.folders()
        try:
            plans = []
            for name, role in folders:
                plan = self._plan(client, name, role)
                if plan is not None:
                    plans.append(plan)
                    self._total += len(plan["uids"])
            self._report("reading mail")
            big = self._total >= READER_PROCESS_MIN
            if not big:
                self._stop_reader()  # started on the folders' sizes, but the window holds less
            self._sent_folders = {plan["name"] for plan in plans if plan["role"] == "sent"}
            batches = [(plan, batch) for plan in plans for batch in self._batches(plan)]
            self._ahead = self._start_headers(batches) if big else None
            for plan in plans:
                self._sync_folder(client, plan)
            self._collect(wait=True)
        finally:
            self._inflight.clear()  # unstored batches are read again on resume (state not saved)
            self._stop_reader()
            if self._ahead is not None:
                self._ahead.close()
                self._ahead = None
        if self.result.stored:
            self.store.refresh()
        self.result.folders = [name for name, _ in folders]
        return self.result

    def _since(self) -> datetime:
        now = self.now or datetime.now(timezone.utc)
        return (now - timedelta(days=self.window_days)).date()

    def _plan(self, client, name: str, role: str) -> dict | None:
        """EXAMINE the folder and decide which UIDs are new; None when nothing changed."""
        account_id = self.account["id"]
        try:
            info = client.select_folder(name, readonly=True)
        except imaplib.IMAP4.error as err:
            if isinstance(err, imaplib.IMAP4.abort):
                raise
            log.info("cannot examine %s: %s", name, err)
            return None
        uidvalidity = int(info.get(b"UIDVALIDITY") or 0)
        uidnext = int(info.get(b"UIDNEXT") or 0)
        self.uidnext_seen[name] = uidnext
        modseq = info.get(b"HIGHESTMODSEQ")
        modseq = int(modseq) if modseq is not None else None
        exists = int(info.get(b"EXISTS") or 0)
        state = self.store.folder_state(account_id, name)
        if state and state.get("uidvalidity") not in (None, uidvalidity):
            log.info("UIDVALIDITY of %s changed: reading it again", name)
            self.store.forget_folder_uids(account_id, name)
            state = None
        last_uid = int(state["last_uid"] or 0) if state else 0
        if state and state.get("uidvalidity") == uidvalidity:
            unchanged = (modseq is not None and state.get("highestmodseq") == modseq) or (
                uidnext and last_uid >= uidnext - 1)
            if unchanged or exists == 0:
                return None
        elif exists == 0:
            self.store.save_folder_state(account_id, name, uidvalidity=uidvalidity, last_uid=0,
                                         highestmodseq=modseq, role=role)
            return None
        # The reader process imports the parsers while the server searches (on a big mailbox
        # the SEARCH SINCE is the slow part of planning): started on the folder sizes so far.
        self._expected += max(0, (uidnext - 1 - last_uid) if last_uid and uidnext else exists)
        self._start_reader()
        criteria = ["SINCE", self._since()]
        if last_uid:
            criteria = ["UID", f"{last_uid + 1}:*"] + criteria
        uids = sorted(u for u in client.search(criteria) if u > last_uid)
        if not uids:
            self.store.save_folder_state(account_id, name, uidvalidity=uidvalidity,
                                         last_uid=max(last_uid, uidnext - 1 if uidnext else last_uid),
                                         highestmodseq=modseq, role=role)
            return None
        return {"name": name, "role": role, "uidvalidity": uidvalidity, "modseq": modseq,
                "uids": uids, "last_uid": last_uid, "uidnext": uidnext}

    def _batches(self, plan: dict) -> list[list[int]]:
        """The folder's new UIDs in batches, in the order they are read (here and by HeaderReader)."""
        uids = plan["uids"]
        return [uids[i:i + self.batch_size] for i in range(0, len(uids), self.batch_size)]

    def _headers_ahead(self, batch: list[int]) -> dict | None:
        """The batch's headers from the HeaderReader; None when there is none (any more): the
        batch then reads them on the first connection. A failure of the second connection stops
        it for the rest of the sync instead of failing the sync: if the server is gone, the first
        connection fails next, and the retry applies."""
        if self._ahead is None:
            return None
        try:
            return self._ahead.next(batch)
        except Exception as err:  # noqa: BLE001 - see the docstring
            log.info("second connection failed (%s): reading headers on the first", type(err).__name__)
            self._ahead.close()
            self._ahead = None
            return None

    def _start_headers(self, batches: list[tuple[dict, list[int]]]) -> "HeaderReader | None":
        """Read the batches' headers on a second connection, ahead; None when the server will
        not have a second session (the headers are then read in turn on the first)."""
        try:
            second = accounts_mod.open_account(self.store, self.account, ca_file=self.ca_file,
                                               read_timeout=self.read_timeout)
        except Exception as err:  # noqa: BLE001 - a limit on sessions is no reason to stop
            log.info("no second connection for headers: %s", type(err).__name__)
            return None
        try:
            return HeaderReader(second, batches, gmail=self.gmail)
        except Exception as err:  # noqa: BLE001 - as for a failure later: the first reads them
            log.info("second connection failed (%s): reading headers on the first", type(err).__name__)
            imap.quiet_close(second)
            return None

    def _sync_folder(self, client, plan: dict) -> None:
        """Fetch one folder batch by batch. Its batches are stored as the reader finishes them,
        in order, while the next folder is fetched: the folder's final state (its modseq) is
        saved by _collect once the last of them is stored, never before."""
        name = plan["name"]
        client.select_folder(name, readonly=True)
        for batch in self._batches(plan):
            heads = self._headers_ahead(batch)
            pending = self._sync_batch(client, name, batch, heads)
            self._submit(name, pending, plan, batch)
            self._collect(wait=False)
        self._inflight.append((None, name, None, plan, None))  # the folder-complete marker

    def _sync_batch(self, client, folder: str, batch: list[int], heads: dict | None = None) -> list[tuple]:
        """Small passes over one batch of UIDs (each pass only for the ones still wanted):
        1. header fields + RFC822.SIZE for all (fast reader, imap.fetch_headers; `heads` when
           the HeaderReader's second connection has read them), then the prefilter;
        2. for NEEDS_TEXT multipart messages, the first bytes of the body (text_in_prefix);
        3. BODYSTRUCTURE for the other multipart messages kept or still undecided;
        4. the first TEXT_PREFIX_BYTES of the first text part of NEEDS_TEXT messages left;
        5. the text parts (capped) of every message kept.
        Returns the fetched messages to parse and store: (uid, header, pieces, thread_id, error).
        """
        gmail = self.gmail
        if heads is None:
            heads = imap.fetch_headers(client, batch, gmail=gmail)
        missing = [u for u in batch if u not in heads]
        if missing:  # a layout the fast reader did not follow: imapclient reads those
            items = [imap.HEADER_ITEM, "RFC822.SIZE"] + (["X-GM-THRID"] if gmail else [])
            for uid, item in client.fetch(missing, items).items():
                heads[uid] = {"header": _header_bytes(item), "size": int(item.get(b"RFC822.SIZE") or 0),
                              "thread_id": (str(item[b"X-GM-THRID"]) if gmail and item.get(b"X-GM-THRID")
                                            else None)}
        infos: dict[int, object] = {}
        for uid in batch:
            head = heads.get(uid)
            if head is None:
                continue  # expunged meanwhile
            self.result.seen += 1
            self.result.bytes_fetched += len(head["header"])
            try:
                infos[uid] = imap.header_info(head["header"])
            except Exception as err:  # one bad message never stops a sync
                self._record_bad(folder, uid, head["header"], err)
        if folder in self._sent_folders:
            self._learn_own_addresses(infos.values())
        user_addresses = self.store.user_addresses()  # with any just learned
        ids = set()
        for info in infos.values():
            ids.update((info.message_id, info.in_reply_to, *info.references))
        stored = self.store.known_message_ids(ids)
        known = lambda mid: mid in self._kept or mid in stored  # noqa: E731
        keep: list[int] = []
        maybe: list[int] = []
        pending: list[tuple] = []   # (uid, header, pieces, thread_id, error) to parse and store
        for uid, info in infos.items():
            head = heads[uid]
            try:
                if info.message_id and known(info.message_id):
                    self.result.skipped += 1
                    continue
                why = prefilter.reason(info, user_addresses=user_addresses, known_ids=known)
                if why is None:
                    self.result.skipped += 1
                    continue
                if head["size"] > self.max_message_size:
                    self.result.candidates += 1
                    pending.append((uid, head["header"], [], head["thread_id"],
                                    f"too large: {head['size']} bytes, not loaded"))
                    continue
                if why == prefilter.NEEDS_TEXT:
                    maybe.append(uid)
                    continue
                keep.append(uid)
                self._keep_id(info.message_id)
            except Exception as err:
                self._record_bad(folder, uid, head["header"], err)
        parts_of: dict[int, list] = {}
        need_structure = []
        undecided_multipart = []
        undecided = set(maybe)
        for uid in keep + maybe:
            single = imap.single_text_part(infos[uid], heads[uid]["size"])
            if single is not None:
                parts_of[uid] = [single]
            elif uid in undecided:
                undecided_multipart.append(uid)
            else:
                need_structure.append(uid)
        if undecided_multipart:
            # Their text prefix from the body's first bytes: no BODYSTRUCTURE for the many that
            # turn out not to be about a job. Those that are, and any prefix that does not reach
            # a text part, get their structure below like the others.
            hiring, unclear = self._read_multipart_prefixes(client, undecided_multipart, infos)
            decided = set(undecided_multipart).difference(unclear)
            maybe = [uid for uid in maybe if uid not in decided]
            keep += hiring
            need_structure += hiring + unclear
        structures = client.fetch(need_structure, ["BODYSTRUCTURE"]) if need_structure else {}
        for uid in need_structure:
            try:
                parts_of[uid] = imap.text_parts((structures.get(uid) or {}).get(b"BODYSTRUCTURE"))
            except Exception as err:
                self._record_bad(folder, uid, heads[uid]["header"], err)
        prefetched: dict[int, bytes] = {}
        if maybe:
            by_section: dict[str, list[int]] = {}
            for uid in maybe:
                if parts_of.get(uid):
                    by_section.setdefault(parts_of[uid][0].section, []).append(uid)
                else:
                    self.result.skipped += 1  # no text to read: nothing to say about a job
            cap = prefilter.TEXT_PREFIX_BYTES
            for section, uids in by_section.items():
                answer = self._fetch_section(client, uids, section, cap)
                for uid in uids:
                    data = answer.get(uid, b"")
                    self.result.bytes_fetched += len(data)
                    first = parts_of[uid][0]
                    whole = first.size <= cap and len(data) < cap
                    if not prefilter.text_says_hiring(imap.text_prefix(first, data, truncated=not whole)):
                        self.result.skipped += 1
                        continue
                    keep.append(uid)
                    if whole and len(parts_of[uid]) == 1:
                        prefetched[uid] = data
                    self._keep_id(infos[uid].message_id)
        wanted: dict[tuple[str, ...], list[int]] = {}
        for uid in keep:
            if uid not in parts_of:
                continue
            self.result.candidates += 1
            parts = parts_of[uid]
            if uid in prefetched:
                pending.append((uid, heads[uid]["header"], [(parts[0], prefetched[uid], False)],
                                heads[uid]["thread_id"], None))
            elif not parts:
                pending.append((uid, heads[uid]["header"], [], heads[uid]["thread_id"], None))
            else:
                wanted.setdefault(tuple(p.section for p in parts), []).append(uid)
        for sections, uids in wanted.items():
            if len(sections) == 1:
                answer = self._fetch_section(client, uids, sections[0], self.part_cap)
                for uid in uids:
                    part, data = parts_of[uid][0], answer.get(uid, b"")
                    self.result.bytes_fetched += len(data)
                    pending.append((uid, heads[uid]["header"],
                                    [(part, data, part.size > self.part_cap or len(data) >= self.part_cap)],
                                    heads[uid]["thread_id"], None))
                continue
            fetch_items = [f"BODY.PEEK[{s}]<0.{self.part_cap}>" for s in sections]
            bodies = client.fetch(uids, fetch_items)
            for uid in uids:
                item = bodies.get(uid, {})
                pieces = []
                for part in parts_of[uid]:
                    data = _section_bytes(item, part.section)
                    self.result.bytes_fetched += len(data)
                    pieces.append((part, data, part.size > self.part_cap or len(data) >= self.part_cap))
                pending.append((uid, heads[uid]["header"], pieces, heads[uid]["thread_id"], None))
        return pending

    def _read_multipart_prefixes(self, client, uids: list[int], infos: dict
                                 ) -> tuple[list[int], list[int]]:
        """Decide undecided multipart messages on the first text part found in the first bytes
        of their body (imap.text_in_prefix). Returns (about hiring: kept, no clear text part in
        the prefix: to be read by their structure); the others are skipped."""
        cap = prefilter.TEXT_PREFIX_BYTES
        answer = self._fetch_section(client, uids, "TEXT", cap + MIME_HEADER_SLACK)
        hiring, unclear = [], []
        for uid in uids:
            data = answer.get(uid, b"")
            self.result.bytes_fetched += len(data)
            try:
                found = imap.text_in_prefix(infos[uid].extra.get("content-type", ""), data, cap)
            except Exception:  # noqa: BLE001 - a prefix this odd is read by its structure
                found = None
            if found is None:
                unclear.append(uid)
            elif prefilter.text_says_hiring(imap.text_prefix(found[0], found[1], truncated=found[2])):
                hiring.append(uid)
                self._keep_id(infos[uid].message_id)
            else:
                self.result.skipped += 1
        return hiring, unclear

    def _learn_own_addresses(self, infos) -> None:
        """The addresses the user sends from (MIN_SENT_TO_LEARN times in \\Sent) become the user's
        own: their mail is then read as the user's follow-ups, not as an employer's."""
        for info in infos:
            if info.from_addr:
                self._sent_from[info.from_addr] = self._sent_from.get(info.from_addr, 0) + 1
        known = self.store.user_addresses()
        new = {a for a, n in self._sent_from.items() if n >= MIN_SENT_TO_LEARN and a not in known}
        if new:
            extra = json.loads(self.store.get_meta("user_addresses") or "[]")
            self.store.set_user_addresses([*extra, *new])
            log.info("learned %d sending address(es) of the user from the Sent folder", len(new))

    # -- parsing: in a reader process for a big sync, else here ----------------------------

    def _start_reader(self) -> None:
        """Start the reader processes once the folders planned so far may hold a big sync
        (READER_PROCESS_MIN messages); they import the parsers while this process plans the
        other folders and reads headers."""
        if (self._reader is not None or self._reader_tried or self._expected < READER_PROCESS_MIN
                or (os.cpu_count() or 1) < 2):
            return
        self._reader_tried = True
        try:
            self._reader = ReaderPool(READER_PROCESSES)
        except Exception:  # no process could be started: parse here
            log.info("no reader process; parsing in the sync process", exc_info=True)
            self._reader = None

    def _stop_reader(self) -> None:
        reader, self._reader = self._reader, None
        if reader is not None:
            reader.close()

    def _submit(self, folder: str, pending: list[tuple], plan: dict, batch: list[int]) -> None:
        """Hand one batch's fetched messages to the reader (or parse them here); the batch's
        folder state is saved only once its messages are stored (a resume re-reads it)."""
        items = []
        for uid, header, pieces, thread_id, error in pending:
            try:
                items.append((uid, header, imap.build_raw(header, pieces), thread_id, error))
            except Exception as err:  # one bad message never stops a sync
                self._record_bad(folder, uid, header, err)
        future = None
        if self._reader is not None and items:
            try:
                future = self._reader.submit([(raw, t, e) for _, _, raw, t, e in items],
                                             self.store.user_addresses())
            except Exception:
                log.info("reader process gone; parsing in the sync process", exc_info=True)
                self._stop_reader()
        self._inflight.append((future, folder, items, plan, batch))

    def _inflight_bytes(self) -> int:
        return sum(len(raw) for _, _, items, _, _ in self._inflight for _, _, raw, _, _ in items or ())

    def _collect(self, *, wait: bool) -> None:
        """Store the batches whose readings are ready, oldest first (all of them when `wait`)."""
        while self._inflight:
            future, folder, items, plan, batch = self._inflight[0]
            if (future is not None and not future.done() and not wait
                    and self._inflight_bytes() <= READER_INFLIGHT_BYTES):
                return  # still being read, and the reader is not too far behind
            self._inflight.pop(0)
            if batch is None:  # every batch of this folder is stored: it is complete up to
                # the modseq seen at EXAMINE time
                last = max(plan["uids"][-1], (plan["uidnext"] - 1) if plan["uidnext"] else 0)
                self.store.save_folder_state(self.account["id"], folder, uidvalidity=plan["uidvalidity"],
                                             last_uid=last, highestmodseq=plan["modseq"],
                                             role=plan["role"])
                continue
            results = None
            if future is not None:
                try:
                    results = future.result()
                except Exception:  # the reader died or could not pickle: parse these here
                    log.info("reader process failed; parsing in the sync process", exc_info=True)
                    self._stop_reader()
            if results is None:
                results = read_many([(raw, t, e) for _, _, raw, t, e in items], self.store.user_addresses())
            self._store_readings(folder, items, results)
            self.store.save_folder_state(self.account["id"], folder, uidvalidity=plan["uidvalidity"],
                                         last_uid=batch[-1], highestmodseq=None, role=plan["role"])
            self._done += len(batch)
            self._report(f"reading {folder}")

    def _store_readings(self, folder: str, items: list[tuple], results: list[tuple]) -> None:
        """Store one batch's readings in one transaction; a message that could not be read
        is recorded with its error."""
        rows = []
        for (uid, header, raw, _, _), (reading, error) in zip(items, results):
            if reading is None:
                self._record_bad(folder, uid, header, error)
                continue
            rows.append((reading, raw, self.account["id"], folder, uid))
        for (reading, *_), (_, inserted) in zip(rows, self.store.ingest_many(rows)):
            self._count(reading, inserted)

    @staticmethod
    def _fetch_section(client, uids: list[int], section: str, cap: int) -> dict[int, bytes]:
        """{uid: the first `cap` bytes of one body section}, read by imap.fetch_literal (fast)."""
        answer = imap.fetch_literal(client, uids, f"(BODY.PEEK[{section}]<0.{cap}>)",
                                    f"BODY[{section}]".encode())
        out = {uid: v["literal"] for uid, v in answer.items()}
        missing = [u for u in uids if u not in out]
        if missing:
            slow = client.fetch(missing, [f"BODY.PEEK[{section}]<0.{cap}>"])
            out.update({uid: _section_bytes(item, section) for uid, item in slow.items()})
        return out

    def _read(self, header, pieces, thread_id, error: str | None = None):
        from parsers import pipeline
        raw = imap.build_raw(header, pieces)
        reading = pipeline.read_bytes(raw, user_addresses=self.store.user_addresses(),
                                      thread_id=thread_id)
        if error:
            reading = dataclasses.replace(reading, errors=tuple(reading.errors) + (error,))
        return reading, raw

    def _ingest(self, folder, uid, header, pieces, thread_id, error: str | None = None) -> None:
        reading, raw = self._read(header, pieces, thread_id, error)
        _, inserted = self.store.ingest(reading, raw=raw, account_id=self.account["id"],
                                        folder=folder, uid=uid)
        self._count(reading, inserted)

    def _keep_id(self, message_id: str | None) -> None:
        """Remember a kept message's id: replies to it are always fetched."""
        if message_id:
            self._kept.add(message_id)

    def _count(self, reading, inserted: bool) -> None:
        """Remember a stored message's id (replies to it are always fetched) and count it."""
        self._keep_id(reading.email.message_id)
        if inserted:
            self.result.stored += 1
        else:
            self.result.skipped += 1

    def _record_bad(self, folder, uid, header, err) -> None:
        self.result.errors += 1
        why = err if isinstance(err, str) else type(err).__name__
        log.warning("message %s/%s skipped: %s", folder, uid, why)
        try:
            self._ingest(folder, uid, header, [], None, error=f"could not be read: {why}")
        except Exception:
            pass


class HeaderReader:
    """The header pass of a big sync on its own connection, sent ahead of its turn.

    The header FETCH of the next HEADERS_AHEAD batches is on the wire (imap.Pipeline) while the
    sync works on the current one, so the server works out the next headers in a second session
    of its own (Dovecot: a second process) instead of in turn with the bodies on the first.
    next() reads the answer for the batch the sync asks for, in the order planned, and sends the
    next command; the sync's own thread does it all, with no thread to share the interpreter
    with. An error on this connection is raised by next(), so the sync's retry and resume apply
    as for the first connection. close() logs the connection out.
    """

    def __init__(self, client, batches: list[tuple[dict, list[int]]], *, gmail: bool):
        from collections import deque
        self.client = client
        self._batches = batches
        self._gmail = gmail
        self._next = 0                 # index in batches of the next command to send
        self._folder = None            # the folder EXAMINEd on this connection
        self._sent: deque = deque()    # (batch, request) in flight, oldest first
        self._send()

    def _send(self) -> None:
        while len(self._sent) < HEADERS_AHEAD and self._next < len(self._batches):
            plan, batch = self._batches[self._next]
            if plan["name"] != self._folder:
                if self._sent:
                    return  # the next folder is EXAMINEd once this one's answers are read
                self.client.select_folder(plan["name"], readonly=True)
                self._folder = plan["name"]
            self._sent.append((batch, imap.send_headers(self.client, batch, gmail=self._gmail)))
            self._next += 1

    def next(self, batch: list[int]) -> dict[int, dict]:
        """The headers of `batch`, the next batch in order (waits for the server's answer)."""
        if not self._sent:
            self._send()
        sent, request = self._sent.popleft()
        if sent != batch:  # never expected: the sync asks in the order it planned
            raise RuntimeError("the header reader is out of step with the sync")
        heads = imap.receive_headers(self.client, request)
        self._send()
        return heads

    def close(self) -> None:
        imap.log_out(self.client)


def sync_account(store, account: dict, *, attempts: int = MAX_ATTEMPTS, sleep=time.sleep,
                 stop: threading.Event | None = None, **options) -> SyncResult:
    """Sync one account, retrying dropped connections with backoff; resumes per batch.

    Raises AccountError (one sentence) when the login fails or the retries run out.
    """
    total = SyncResult()
    for attempt in range(attempts):
        syncer = Syncer(store, account, **options)
        try:
            result = syncer.sync()
            _add(total, result)
            store.set_account_synced(account["id"])
            return total
        except AccountError as err:
            store.set_account_error(account["id"], str(err))
            raise
        except NETWORK_ERRORS as err:
            _add(total, syncer.result)
            settings = imap.ServerSettings(account["host"], int(account["port"]), account["security"])
            sentence = imap.describe_error(err, settings, email=account["email"])
            log.info("sync of account %s interrupted (%s); retrying", account["id"], type(err).__name__)
            if attempt == attempts - 1:
                store.set_account_error(account["id"], sentence)
                raise AccountError(sentence) from None
            delay = BACKOFF_SECONDS[min(attempt, len(BACKOFF_SECONDS) - 1)]
            if stop is not None:
                if stop.wait(delay):
                    return total
            else:
                sleep(delay)
        finally:
            syncer.close()
    return total


def _add(total: SyncResult, part: SyncResult) -> None:
    for name in ("seen", "candidates", "stored", "skipped", "errors", "bytes_fetched"):
        setattr(total, name, getattr(total, name) + getattr(part, name))


def sync_all(store, *, progress=None, stop=None, **options) -> SyncResult:
    """Sync every account; status in store.sync_status(). One failing account doesn't stop others."""
    total = SyncResult()
    failures = []
    store.set_sync_status(state="syncing", phase="connecting", done=0, total=0, error=None)
    for account in store.list_accounts():
        try:
            _add(total, sync_account(store, account, progress=progress, stop=stop, **options))
        except StandingError as err:
            failures.append(f"{account['email']}: {err}")
    store.refresh()
    if failures:
        store.set_sync_status(state="error", phase=None, error=" ".join(failures)[:1000],
                              last_synced=_iso_now())
    else:
        store.set_sync_status(state="idle", phase=None, error=None, last_synced=_iso_now())
    return total


def _db_path(data_path) -> Path | None:
    if data_path is None:
        return None
    path = Path(data_path)
    if path.is_dir():
        from .store import DB_NAME
        return path / DB_NAME
    return path


class SyncService:
    """Background sync for `standing serve`: full sync of every account, then IDLE on INBOX
    (polling when the server has no IDLE). request_sync() asks for another full pass."""

    def __init__(self, data_path=None, *, now=None, ca_file: str | None = None,
                 poll_seconds: float = POLL_SECONDS, **options):
        self.db_path = _db_path(data_path)
        self.now = now
        self.ca_file = ca_file
        self.poll_seconds = poll_seconds
        self.options = options
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._threads: list[threading.Thread] = []
        self._watched: set[int] = set()
        self._lock = threading.Lock()
        self.first_sync_done = threading.Event()

    def _open_store(self):
        from .store import Store
        return Store.open(self.db_path)

    def start(self) -> "SyncService":
        thread = threading.Thread(target=self._run, name="standing-sync", daemon=True)
        self._threads.append(thread)
        thread.start()
        return self

    def request_sync(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        for thread in list(self._threads):
            thread.join(timeout)

    def _run(self) -> None:
        store = self._open_store()
        try:
            while not self._stop.is_set():
                self._wake.clear()
                try:
                    sync_all(store, stop=self._stop, ca_file=self.ca_file, now=self.now, **self.options)
                except Exception:  # the service must outlive any one failure
                    log.exception("sync pass failed")
                    try:
                        store.set_sync_status(state="error", error="The mail sync failed; it will be retried.")
                    except Exception:
                        pass
                self.first_sync_done.set()
                self._start_watchers(store)
                self._wake.wait(self.poll_seconds * 10)
        finally:
            store.close()

    def _start_watchers(self, store) -> None:
        with self._lock:
            for account in store.list_accounts():
                if account["id"] in self._watched:
                    continue
                self._watched.add(account["id"])
                thread = threading.Thread(target=self._watch, args=(account["id"],),
                                          name=f"standing-idle-{account['id']}", daemon=True)
                self._threads.append(thread)
                thread.start()

    def _watch(self, account_id: int) -> None:
        """IDLE on the account's INBOX; sync INBOX whenever the server says something changed."""
        store = self._open_store()
        attempt = 0
        try:
            while not self._stop.is_set():
                account = store.get_account(account_id)
                if account is None:
                    return  # removed
                syncer = Syncer(store, account, ca_file=self.ca_file, now=self.now, **self.options)
                try:
                    client = syncer.connect()
                    attempt = 0
                    idle = b"IDLE" in client.capabilities()
                    while not self._stop.is_set():
                        inbox = Syncer(store, account, ca_file=self.ca_file, now=self.now,
                                       client=client, **self.options)
                        inbox.sync(only=[("INBOX", "inbox")])
                        store.refresh()
                        if idle:
                            self._idle_once(client, inbox.uidnext_seen.get("INBOX", 0))
                        else:
                            self._stop.wait(self.poll_seconds)
                except AccountError as err:
                    store.set_account_error(account_id, str(err))
                    self._stop.wait(BACKOFF_SECONDS[-1])
                except Exception as err:  # dropped connection, timeout, server error
                    log.info("IDLE on account %s stopped (%s); reconnecting", account_id,
                             type(err).__name__)
                    self._stop.wait(BACKOFF_SECONDS[min(attempt, len(BACKOFF_SECONDS) - 1)])
                    attempt += 1
                finally:
                    syncer.close()
        finally:
            store.close()

    def _idle_once(self, client, uidnext_synced: int = 0) -> bool:
        """IDLE until the server reports a change, the renewal time passes, or stop(). Mail that
        arrived after the sync's EXAMINE and before this one is never reported by IDLE: when
        UIDNEXT moved on since the sync's EXAMINE (`uidnext_synced`), return at once."""
        info = client.select_folder("INBOX", readonly=True)
        if uidnext_synced and int(info.get(b"UIDNEXT") or 0) > uidnext_synced:
            return True
        client.idle()
        began = time.monotonic()
        changed = False
        try:
            while not self._stop.is_set() and time.monotonic() - began < IDLE_RENEW_SECONDS:
                responses = client.idle_check(timeout=IDLE_CHECK_SECONDS)
                if any(isinstance(r, tuple) and len(r) > 1 and r[1] in (b"EXISTS", b"RECENT")
                       for r in responses):
                    changed = True
                    break
        finally:
            client.idle_done()
        return changed


__all__ = ["Syncer", "SyncService", "SyncResult", "sync_account", "sync_all",
           "BATCH_SIZE", "TEXT_PART_CAP", "MAX_MESSAGE_SIZE", "DEFAULT_WINDOW_DAYS"]
