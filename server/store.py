"""The one module that owns the SQLite database: messages, applications, corrections, accounts, auth.

    store = Store.open()                       # data_dir()/standing.sqlite3, WAL, migrated
    pk, inserted = store.ingest(reading, raw=raw_bytes)
    store.refresh()                            # regroup applications (cheap when nothing changed)
    store.standings(now)                       # the API objects, in attention order

A Store wraps one connection and is used from one thread at a time: open one per thread
(the sync thread, each API worker). Several processes may share the file (WAL, busy timeout).
Derived data (labels, applications) can always be rebuilt from the stored message bytes plus
the corrections, which nothing derived ever touches.
"""
from __future__ import annotations

import hashlib
import json
import sqlite3
import zlib
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, Iterable

from . import config, grouping, migrations
from .errors import BadInput, NotFound

DB_NAME = "standing.sqlite3"
# Another process (sync, serve) may hold the write lock for a batch; wait rather than fail.
BUSY_TIMEOUT_MS = 10_000
# A pairing code is void after this many wrong guesses (brute force of a short code).
PAIRING_MAX_ATTEMPTS = 5
# Rows per executemany/IN batch: bounds memory and stays under SQLite's variable limit.
BATCH = 500
# An incremental regroup that would touch more than this share of the grouped messages runs
# as a full one: cheaper for big imports (the first sync), and no closure walk to pay for.
INCREMENTAL_MAX_SHARE = 0.25
INCREMENTAL_SMALL = 500  # messages: a neighbourhood this small is regrouped alone whatever the share

ACCOUNT_FIELDS = ("email", "host", "port", "security", "auth", "provider", "created",
                  "last_error", "last_synced")
SYNC_FIELDS = ("state", "phase", "done", "total", "last_synced", "error")
CORRECTION_KINDS = ("label", "not_job", "company_role", "merge", "split", "archive", "unarchive")
JOB_LABELS = ("offer", "advancing", "noncommittal", "rejected", "acknowledgement")
# Columns the grouping and standing code read (never the raw bytes).
_ROW_COLUMNS = ('pk, message_id, thread_id, in_reply_to, "references", from_name, from_addr, "to", '
                'date, subject, label, confidence, evidence, company, role, expected_by, own, error')


def _utcnow() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _iso_utc(value: datetime | float | int | str) -> str:
    """A timestamp as an ISO string in UTC, so string order is time order."""
    if isinstance(value, (int, float)):
        value = datetime.fromtimestamp(value, timezone.utc)
    elif isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).isoformat(timespec="seconds")


def content_hash(raw: bytes | None, *, fallback: str = "") -> str:
    """sha256 of the raw bytes, or of a text standing for the message when there are none."""
    return hashlib.sha256(raw if raw is not None else fallback.encode("utf-8", "surrogatepass")).hexdigest()


def _pack(data: bytes | str | None) -> bytes | None:
    if data is None:
        return None
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogatepass")
    return zlib.compress(data, 6)


def _unpack(blob: bytes | None) -> bytes | None:
    return zlib.decompress(blob) if blob is not None else None


def _evidence_dicts(evidence: Iterable[Any]) -> list[dict]:
    out = []
    for ev in evidence:
        if isinstance(ev, dict):
            out.append(ev)
        else:
            out.append({"rule": ev.rule, "label": ev.label, "text": ev.text, "start": ev.start,
                        "end": ev.end, "explanation": ev.explanation})
    return out


def row_to_message(row: sqlite3.Row) -> dict:
    """A stored message as the plain dict the grouping and standing code read."""
    d = dict(row)
    d["references"] = tuple(json.loads(d.get("references") or "[]"))
    d["to"] = tuple(json.loads(d.get("to") or "[]"))
    d["evidence"] = json.loads(d.get("evidence") or "[]")
    d["date"] = datetime.fromisoformat(d["date"]) if d.get("date") else None
    d["expected_by"] = date.fromisoformat(d["expected_by"]) if d.get("expected_by") else None
    d["own"] = bool(d.get("own"))
    return d


class Store:
    """The database of one user. See the module docstring."""

    def __init__(self, db: sqlite3.Connection, path: Path | None):
        self.db = db
        self.path = path
        self._user_addresses: frozenset[str] | None = None
        self._standings_cache: tuple | None = None
        self.last_refresh: str | None = None  # "incremental" | "full": what the last refresh() ran

    # ----------------------------------------------------------------- open / close
    @classmethod
    def open(cls, path: str | Path | None = None) -> "Store":
        """Open (creating and migrating) the database; default config.data_dir()/standing.sqlite3."""
        if path is None:
            path = config.data_dir() / DB_NAME
        path = Path(path) if str(path) != ":memory:" else None
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(str(path) if path else ":memory:", isolation_level=None,
                             timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False)
        db.row_factory = sqlite3.Row
        db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        if path is not None:
            db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA synchronous = NORMAL")
        db.execute("PRAGMA foreign_keys = ON")
        migrations.migrate(db)
        return cls(db, path)

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _tx(self):
        return _Transaction(self.db)

    def batch(self):
        """A write transaction around many calls: `with store.batch(): store.ingest(...)...`."""
        return _Transaction(self.db)

    def schema_version(self) -> int:
        return self.db.execute("PRAGMA user_version").fetchone()[0]

    # ----------------------------------------------------------------- meta
    def get_meta(self, key: str, default: str | None = None) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else default

    def set_meta(self, key: str, value: str | None) -> None:
        if value is None:
            self.db.execute("DELETE FROM meta WHERE key = ?", (key,))
        else:
            self.db.execute("INSERT INTO meta (key, value) VALUES (?, ?) "
                            "ON CONFLICT(key) DO UPDATE SET value = excluded.value", (key, str(value)))
        if key == "user_addresses":
            self._user_addresses = None
            self._mark_stale()

    def user_addresses(self) -> frozenset[str]:
        """The user's own addresses: every account's email plus meta "user_addresses" (JSON list)."""
        if self._user_addresses is None:
            addrs = {r[0].lower() for r in self.db.execute("SELECT email FROM accounts") if r[0]}
            extra = self.get_meta("user_addresses")
            if extra:
                addrs |= {a.lower() for a in json.loads(extra) if a}
            self._user_addresses = frozenset(addrs)
        return self._user_addresses

    def set_user_addresses(self, addresses: Iterable[str]) -> None:
        """Replace meta "user_addresses" (accounts' emails always count as the user's too)."""
        self.set_meta("user_addresses", json.dumps(sorted({a.strip().lower() for a in addresses if a})))

    def guess_user_address(self) -> str | None:
        """The address that received the most job mail (To:), for a mailbox with no account."""
        counts: dict[str, int] = {}
        for (to,) in self.db.execute("SELECT \"to\" FROM messages WHERE label != 'unrelated'"):
            for addr in json.loads(to or "[]"):
                counts[addr.lower()] = counts.get(addr.lower(), 0) + 1
        return max(counts, key=lambda a: (counts[a], a)) if counts else None

    def _mark_stale(self) -> None:
        """Everything must be regrouped (corrections, addresses, re-read messages)."""
        self.db.execute("INSERT INTO meta (key, value) VALUES ('stale', '1') "
                        "ON CONFLICT(key) DO UPDATE SET value = '1'")

    def _mark_new(self) -> None:
        """New messages only: refresh() may regroup just the applications they touch."""
        self.db.execute("INSERT INTO meta (key, value) VALUES ('stale', 'new') "
                        "ON CONFLICT(key) DO UPDATE SET value = CASE WHEN value = '1' THEN '1' ELSE 'new' END")

    # ----------------------------------------------------------------- messages
    def ingest(self, reading, *, raw: bytes | None = None, account_id: int | None = None,
               folder: str | None = None, uid: int | None = None) -> tuple[int, bool]:
        """Store one read message; return (pk, inserted).

        Idempotent: a message is known by its Message-ID, else by the sha256 of its raw bytes,
        so the same message seen twice (or in two folders) is stored once; a new location is
        still recorded. Call refresh() after a batch to regroup the applications.
        """
        email = reading.email
        body_fallback = f"{email.from_addr}\n{email.date}\n{email.subject}\n{email.text}"
        digest = content_hash(raw, fallback=body_fallback)
        mid = email.message_id or None
        if mid:
            row = self.db.execute("SELECT pk FROM messages WHERE message_id = ?", (mid,)).fetchone()
        else:
            row = self.db.execute("SELECT pk FROM messages WHERE message_id IS NULL AND content_hash = ?",
                                  (digest,)).fetchone()
        if row is not None:
            if account_id is not None and folder is not None and uid is not None:
                self.db.execute("INSERT OR REPLACE INTO locations (account_id, folder, uid, message_pk) "
                                "VALUES (?, ?, ?, ?)", (account_id, folder, uid, row[0]))
            return row[0], False
        values = self._reading_columns(reading)
        values.update(
            message_id=mid, content_hash=digest, account_id=account_id, folder=folder, uid=uid,
            thread_id=email.thread_id, in_reply_to=email.in_reply_to,
            references=json.dumps(list(email.references)),
            from_name=email.from_name or "", from_addr=(email.from_addr or "").lower(),
            to=json.dumps([a.lower() for a in email.to]),
            date=email.date.isoformat() if email.date else None,
            ts=email.date.timestamp() if email.date else None,
            subject=email.subject or "",
            raw=_pack(raw), body=None if raw is not None else _pack(email.text),
        )
        if not values["own"] and values["from_addr"] in self.user_addresses():
            values.update(self._own_columns())
        columns = ", ".join(f'"{k}"' for k in values)
        marks = ", ".join("?" for _ in values)
        with self._tx():
            cur = self.db.execute(f"INSERT INTO messages ({columns}) VALUES ({marks})", tuple(values.values()))
            pk = cur.lastrowid
            if account_id is not None and folder is not None and uid is not None:
                self.db.execute("INSERT OR REPLACE INTO locations (account_id, folder, uid, message_pk) "
                                "VALUES (?, ?, ?, ?)", (account_id, folder, uid, pk))
            self._mark_new()
        return pk, True

    @staticmethod
    def _own_columns() -> dict:
        return {"own": 1, "label": "unrelated", "confidence": 1.0, "evidence": "[]",
                "company": None, "role": None, "expected_by": None}

    @staticmethod
    def _reading_columns(reading) -> dict:
        """The derived columns of a message: everything the parsers decided about it."""
        verdict, who = reading.verdict, reading.employer
        return {
            "cleaned": reading.reply.text if reading.reply else "",
            "label": verdict.label, "confidence": float(verdict.confidence),
            "evidence": json.dumps(_evidence_dicts(verdict.evidence)),
            "company": who.company, "role": who.role,
            "expected_by": reading.expected_by.isoformat() if reading.expected_by else None,
            "own": 1 if reading.own else 0,
            "error": "; ".join(reading.errors) if reading.errors else None,
        }

    def ingest_many(self, items: Iterable[tuple]) -> list[tuple[int, bool]]:
        """Store many readings in one write transaction; [(pk, inserted)] in the same order.

        items: (reading, raw, account_id, folder, uid) tuples (the last four may be None).
        One transaction per batch instead of one per message: the sync calls this once per
        batch of fetched messages. Same idempotence as ingest().
        """
        out = []
        with self._tx():
            for reading, raw, account_id, folder, uid in items:
                out.append(self.ingest(reading, raw=raw, account_id=account_id, folder=folder, uid=uid))
        return out

    def known_message_ids(self, message_ids: Iterable[str]) -> set[str]:
        """The subset of these Message-IDs already stored (one query per BATCH ids)."""
        ids = sorted({m for m in message_ids if m})
        found: set[str] = set()
        for i in range(0, len(ids), BATCH):
            chunk = ids[i:i + BATCH]
            found.update(r[0] for r in self.db.execute(
                f"SELECT message_id FROM messages WHERE message_id IN ({','.join('?' * len(chunk))})", chunk))
        return found

    def has_message_id(self, message_id: str) -> bool:
        return self.db.execute("SELECT 1 FROM messages WHERE message_id = ?", (message_id,)).fetchone() is not None

    def message_count(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM messages").fetchone()[0]

    def message(self, message_id: str) -> dict | None:
        row = self.db.execute(f"SELECT {_ROW_COLUMNS}, application_id FROM messages WHERE message_id = ?",
                              (message_id,)).fetchone()
        return row_to_message(row) if row else None

    def raw_message(self, pk: int) -> bytes | None:
        row = self.db.execute("SELECT raw FROM messages WHERE pk = ?", (pk,)).fetchone()
        return _unpack(row[0]) if row else None

    # ----------------------------------------------------------------- grouping
    def refresh(self, *, force: bool = False) -> bool:
        """Regroup the applications from the stored readings plus corrections.

        Does nothing (returns False) when no message, correction or address changed since
        the last refresh, so callers may call it after every batch. When only new messages
        arrived (the IDLE case), only the applications they can touch are regrouped (see
        _refresh_incremental), with the same result as a full regroup; corrections, address
        changes, rebuild() and big imports (the first sync) regroup everything.
        """
        state = self.get_meta("stale", "1")
        if not force and state not in ("1", "new"):
            return False
        if not force and state == "new":
            with self._tx():
                if self._refresh_incremental():
                    self.last_refresh = "incremental"
                    return True
        self._refresh_full()
        self.last_refresh = "full"
        return True

    def _own_from(self) -> set[str]:
        """Every address the user's own stored mail was sent from (grouping's own_from)."""
        return {r[0] for r in self.db.execute("SELECT DISTINCT from_addr FROM messages WHERE own = 1") if r[0]}

    def _mark_own(self, own_addrs, *, after_pk: int = -1) -> None:
        if own_addrs:
            marks = ",".join("?" for _ in own_addrs)
            self.db.execute(
                f"UPDATE messages SET own = 1, label = 'unrelated', evidence = '[]', company = NULL, "
                f"role = NULL, expected_by = NULL WHERE own = 0 AND pk > ? AND from_addr IN ({marks})",
                (after_pk, *own_addrs))

    def _rows_by_pk(self, pks) -> list[dict]:
        pks = sorted(pks)
        rows = []
        for i in range(0, len(pks), BATCH):
            chunk = pks[i:i + BATCH]
            rows += [row_to_message(r) for r in self.db.execute(
                f"SELECT {_ROW_COLUMNS} FROM messages WHERE pk IN ({','.join('?' * len(chunk))})", chunk)]
        return rows

    def _write_groups(self, groups, *, replacing: set[str] | None, pks=None, max_pk: int) -> None:
        """Store groups as applications (all of them, or in place of the `replacing` ids and
        the links of messages `pks`); mark the store fresh; move the generation."""
        from . import standing

        if replacing is None:
            self.db.execute("UPDATE messages SET application_id = NULL WHERE application_id IS NOT NULL")
            self.db.execute("DELETE FROM applications")
        else:
            pks = sorted(pks or ())
            for i in range(0, len(pks), BATCH):
                chunk = pks[i:i + BATCH]
                self.db.execute(f"UPDATE messages SET application_id = NULL WHERE pk IN "
                                f"({','.join('?' * len(chunk))})", chunk)
            self.db.executemany("DELETE FROM applications WHERE id = ?", [(a,) for a in replacing])
        app_rows, links = [], []
        for g in groups:
            summary = standing.summarize(g.messages, app_id=g.id, company=g.company, role=g.role)
            app_rows.append((g.id, g.company, g.role, 1 if g.archived else 0,
                             summary.get("last_ts"), json.dumps(summary)))
            links += [(g.id, m["pk"]) for m in g.messages]
        self.db.executemany("INSERT INTO applications (id, company, role, archived, last_ts, summary) "
                            "VALUES (?, ?, ?, ?, ?, ?)", app_rows)
        self.db.executemany("UPDATE messages SET application_id = ? WHERE pk = ?", links)
        for key, value in (("stale", "0"), ("grouped_pk", str(max_pk))):
            self.db.execute("INSERT INTO meta (key, value) VALUES (?, ?) "
                            "ON CONFLICT(key) DO UPDATE SET value = excluded.value", (key, value))
        generation = int(self.get_meta("generation", "0")) + 1
        self.db.execute("INSERT INTO meta (key, value) VALUES ('generation', ?) "
                        "ON CONFLICT(key) DO UPDATE SET value = excluded.value", (str(generation),))

    def _refresh_full(self) -> None:
        """Regroup every application from every stored reading plus the corrections."""
        own_addrs = self.user_addresses()
        corrections = self.corrections()
        named = grouping.corrected_message_ids(corrections)
        with self._tx():
            max_pk = self.db.execute("SELECT COALESCE(MAX(pk), 0) FROM messages").fetchone()[0]
            self._mark_own(own_addrs)
            rows = [row_to_message(r) for r in self.db.execute(
                f"SELECT {_ROW_COLUMNS} FROM messages WHERE own = 1 OR label != 'unrelated'")]
            seen = {r["message_id"] for r in rows}
            extra = [m for m in named if m not in seen]
            for i in range(0, len(extra), BATCH):
                chunk = extra[i:i + BATCH]
                rows += [row_to_message(r) for r in self.db.execute(
                    f"SELECT {_ROW_COLUMNS} FROM messages WHERE message_id IN ({','.join('?' * len(chunk))})",
                    chunk)]
            groups = grouping.group_messages(rows, corrections, own_from=self._own_from())
            self._write_groups(groups, replacing=None, max_pk=max_pk)

    def _refresh_incremental(self) -> bool:
        """Regroup only what messages stored since the last regroup can change; False (having
        written nothing) when a full regroup is needed instead.

        The rows regrouped are closed under everything group_messages looks at across rows:
        whole applications, thread links both ways (Message-ID chains, Gmail thread ids),
        the sender's company mail domain (its key votes and the domain fallback), and every
        company key that may alias to another (same first word, or equal without spaces),
        plus the company the user's own outreach was written to. Grouping those rows alone
        then gives what a full regroup gives them, and leaves every other application as it is.
        """
        grouped_pk = int(self.get_meta("grouped_pk", "-1"))
        corrections = self.corrections()
        if grouped_pk < 0 or any(c.get("kind") in ("merge", "split") for c in corrections):
            return False
        named = set(grouping.corrected_message_ids(corrections))
        max_pk = self.db.execute("SELECT COALESCE(MAX(pk), 0) FROM messages").fetchone()[0]
        if named and any(r[0] in named for r in self.db.execute(
                "SELECT message_id FROM messages WHERE pk > ?", (grouped_pk,))):
            return False
        own_addrs = self.user_addresses()
        self._mark_own(own_addrs, after_pk=grouped_pk)
        light = self.db.execute(
            'SELECT pk, message_id, thread_id, in_reply_to, "references", from_addr, "to", company, '
            "own, application_id, subject FROM messages WHERE own = 1 OR label != 'unrelated' "
            "OR application_id IS NOT NULL").fetchall()
        seeds = [i for i, r in enumerate(light) if r["pk"] > grouped_pk]
        if not seeds:  # nothing new that can join an application
            for key, value in (("stale", "0"), ("grouped_pk", str(max_pk))):
                self.db.execute("INSERT INTO meta (key, value) VALUES (?, ?) "
                                "ON CONFLICT(key) DO UPDATE SET value = excluded.value", (key, value))
            return True
        chosen = self._neighbourhood(light, seeds, own_addrs)
        if chosen is None:
            return False
        pks = {light[i]["pk"] for i in chosen}
        replacing = {light[i]["application_id"] for i in chosen if light[i]["application_id"]}
        groups = grouping.group_messages(self._rows_by_pk(pks), corrections, own_from=self._own_from())
        ids = [g.id for g in groups if g.id not in replacing]
        for i in range(0, len(ids), BATCH):  # an id held by an application left alone: regroup all
            chunk = ids[i:i + BATCH]
            if self.db.execute(f"SELECT 1 FROM applications WHERE id IN ({','.join('?' * len(chunk))})",
                               chunk).fetchone():
                return False
        self._write_groups(groups, replacing=replacing, pks=pks, max_pk=max_pk)
        return True

    def _neighbourhood(self, light: list, seeds: list[int], own_addrs) -> set[int] | None:
        """Indexes of the `light` rows whose grouping the seed rows can change (see
        _refresh_incremental); None when that is most of the mailbox anyway."""
        company_key, _, is_ats = grouping.key_functions()
        by_mid, referrers, by_thread, by_app, by_domain, by_key = {}, {}, {}, {}, {}, {}
        refs_of, domain_of, key_of = [], [], []
        for i, r in enumerate(light):
            refs = [m for m in (r["in_reply_to"], *json.loads(r["references"] or "[]")) if m]
            refs_of.append(refs)
            if r["message_id"]:
                by_mid[r["message_id"]] = i
            for m in refs:
                referrers.setdefault(m, []).append(i)
            if r["thread_id"]:
                by_thread.setdefault(r["thread_id"], []).append(i)
            if r["application_id"]:
                by_app.setdefault(r["application_id"], []).append(i)
            addr = r["from_addr"] or ""
            d = grouping._domain(addr)
            d = d if d and not r["own"] and d not in grouping.FREEMAIL and not is_ats(addr) else ""
            domain_of.append(d)
            if d:
                by_domain.setdefault(d, []).append(i)
            k = company_key(r["company"]) if r["company"] else ""
            key_of.append(k)
            if k:
                by_key.setdefault(k, []).append(i)
        own_domains = {grouping._domain(a) for a in own_addrs} - {""}
        limit = max(INCREMENTAL_SMALL, INCREMENTAL_MAX_SHARE * len(light))
        chosen: set[int] = set()
        keys_done: set[str] = set()
        todo = list(seeds)
        while todo:
            i = todo.pop()
            if i in chosen:
                continue
            chosen.add(i)
            if len(chosen) > limit:
                return None
            r = light[i]
            near = list(referrers.get(r["message_id"], ())) if r["message_id"] else []
            near += [by_mid[m] for m in refs_of[i] if m in by_mid]
            near += by_thread.get(r["thread_id"], ()) if r["thread_id"] else ()
            near += by_app.get(r["application_id"], ()) if r["application_id"] else ()
            near += by_domain.get(domain_of[i], ()) if domain_of[i] else ()
            keys = [key_of[i]] if key_of[i] else []
            if r["own"] and not r["company"]:
                to = grouping.outreach_recipient({"to": json.loads(r["to"] or "[]")}, own_addrs, own_domains,
                                                 is_ats)
                if to:  # the company the user wrote to: its key and its mail domain
                    near += by_domain.get(grouping._domain(to), ())
                    cleaned = self.db.execute("SELECT cleaned FROM messages WHERE pk = ?", (r["pk"],)).fetchone()
                    found = grouping.read_outreach(to, r["subject"] or "", cleaned[0] if cleaned else "")
                    if found and found[0]:
                        keys.append(company_key(found[0]))
            for k in keys:
                if k in keys_done:
                    continue
                keys_done.add(k)
                stem, whole = grouping.compact(k.split(" ")[0]), grouping.compact(k)
                for other, members in by_key.items():
                    o_whole = grouping.compact(other)
                    if o_whole.startswith(stem) or whole.startswith(grouping.compact(other.split(" ")[0])):
                        near += members
            todo.extend(j for j in near if j not in chosen)
        return chosen

    def rebuild(self, *, progress=None) -> dict:
        """Re-read every stored message through the parsers, then regroup with the corrections.

        Returns counts: {"messages", "changed", "applications", "errors"}. `progress(done,
        total)` is called now and then. One bad message never stops the rebuild.
        """
        from parsers import pipeline
        from parsers.model import Email

        own_addrs = self.user_addresses()
        total = self.message_count()
        done = changed = errors = 0
        pks = [r[0] for r in self.db.execute("SELECT pk FROM messages ORDER BY pk")]
        for i in range(0, len(pks), BATCH):
            chunk = pks[i:i + BATCH]
            rows = self.db.execute(
                f"SELECT pk, raw, body, message_id, thread_id, in_reply_to, \"references\", from_name, "
                f"from_addr, \"to\", date, subject, label, company, role, expected_by, own, evidence "
                f"FROM messages WHERE pk IN ({','.join('?' * len(chunk))})", chunk).fetchall()
            updates = []
            for row in rows:
                try:
                    raw = _unpack(row["raw"])
                    if raw is not None:
                        reading = pipeline.read_bytes(raw, user_addresses=own_addrs, thread_id=row["thread_id"])
                    else:
                        body = _unpack(row["body"]) or b""
                        email = Email(
                            message_id=row["message_id"], in_reply_to=row["in_reply_to"],
                            references=tuple(json.loads(row["references"] or "[]")),
                            thread_id=row["thread_id"], from_name=row["from_name"], from_addr=row["from_addr"],
                            to=tuple(json.loads(row["to"] or "[]")),
                            date=datetime.fromisoformat(row["date"]) if row["date"] else None,
                            subject=row["subject"], text=body.decode("utf-8", "replace"))
                        reading = pipeline.read_email(email, user_addresses=own_addrs)
                    cols = self._reading_columns(reading)  # read with own_addrs: own mail is marked
                except Exception as err:  # one bad message never stops a rebuild
                    errors += 1
                    cols = {"error": f"could not be re-read: {type(err).__name__}"}
                before = (row["label"], row["company"], row["role"], row["expected_by"], row["own"], row["evidence"])
                after = (cols.get("label", row["label"]), cols.get("company", row["company"]),
                         cols.get("role", row["role"]), cols.get("expected_by", row["expected_by"]),
                         cols.get("own", row["own"]), cols.get("evidence", row["evidence"]))
                changed += before != after
                updates.append((cols, row["pk"]))
                done += 1
            with self._tx():
                for cols, pk in updates:
                    sets = ", ".join(f'"{k}" = ?' for k in cols)
                    self.db.execute(f"UPDATE messages SET {sets} WHERE pk = ?", (*cols.values(), pk))
            if progress:
                progress(done, total)
        self._mark_stale()
        self.refresh(force=True)
        apps = self.db.execute("SELECT COUNT(*) FROM applications").fetchone()[0]
        return {"messages": done, "changed": changed, "applications": apps, "errors": errors}

    # ----------------------------------------------------------------- standings
    def thresholds(self):
        """Silence thresholds: standing.Thresholds defaults, overridden by meta "thresholds" (JSON)."""
        from . import standing

        raw = self.get_meta("thresholds")
        return standing.Thresholds.from_dict(json.loads(raw)) if raw else standing.Thresholds()

    def standings(self, now: datetime, *, include_archived: bool = False) -> list[dict]:
        """Every application as the API object, in attention order (amber, green, grey, red)."""
        from . import standing

        self.refresh()
        limits = self.thresholds()
        # Standings change with the calendar day, not the hour: cache them per day and per
        # regrouping (the generation moves whenever any process regroups).
        if now.tzinfo is None:
            now = now.replace(tzinfo=timezone.utc)
        key = (self.get_meta("generation"), now.astimezone(timezone.utc).date(), limits, include_archived)
        if self._standings_cache is not None and self._standings_cache[0] == key:
            return [dict(app) for app in self._standings_cache[1]]
        sql = "SELECT summary, archived FROM applications"
        if not include_archived:
            sql += " WHERE archived = 0"
        apps = []
        for summary, archived in self.db.execute(sql):
            app = standing.finalize(json.loads(summary), now, limits)
            app["archived"] = bool(archived)
            apps.append(app)
        apps = standing.attention_order(apps)
        self._standings_cache = (key, apps)
        return [dict(app) for app in apps]

    def application(self, app_id: str, now: datetime) -> dict | None:
        """One application with its "timeline" (every message, oldest first), or None."""
        from . import standing

        self.refresh()
        row = self.db.execute("SELECT summary, archived FROM applications WHERE id = ?", (app_id,)).fetchone()
        if row is None:
            return None
        app = standing.finalize(json.loads(row[0]), now, self.thresholds())
        app["archived"] = bool(row[1])
        timeline = []
        for r in self.db.execute(f"SELECT {_ROW_COLUMNS} FROM messages WHERE application_id = ? "
                                 f"ORDER BY ts, pk", (app_id,)):
            m = row_to_message(r)
            timeline.append({
                "message_id": m["message_id"], "date": m["date"].isoformat() if m["date"] else None,
                "direction": "out" if m["own"] else "in", "subject": m["subject"],
                "label": "own" if m["own"] else m["label"], "evidence": m["evidence"],
                "from": f"{m['from_name']} <{m['from_addr']}>" if m["from_name"] else m["from_addr"],
                "expected_by": m["expected_by"].isoformat() if m["expected_by"] else None,
            })
        app["timeline"] = timeline
        return app

    def application_ids(self) -> list[str]:
        return [r[0] for r in self.db.execute("SELECT id FROM applications ORDER BY id")]

    # ----------------------------------------------------------------- corrections
    def add_correction(self, payload: dict) -> dict:
        """Record a user correction (kept apart from derived data) and regroup; return it.

        Kinds: label {message_id, label}; not_job {message_id}; company_role {application_id |
        message_id, company, role}; merge {application_id, other_application_id}; split
        {message_id}; archive / unarchive {application_id}. Corrections naming an application
        also record its Message-IDs so they still find it after a rebuild. Raises BadInput or
        NotFound with a sentence for the user.
        """
        if not isinstance(payload, dict):
            raise BadInput("A correction must be a JSON object.")
        kind = payload.get("kind")
        if kind not in CORRECTION_KINDS:
            raise BadInput(f"Unknown correction kind; use one of: {', '.join(CORRECTION_KINDS)}.")
        self.refresh()
        record: dict = {"kind": kind}

        def need_str(key: str, limit: int = 300) -> str:
            value = payload.get(key)
            if not isinstance(value, str) or not value.strip() or len(value) > limit:
                raise BadInput(f"The correction needs a \"{key}\" text of at most {limit} characters.")
            return value.strip()

        def need_message(key: str = "message_id") -> str:
            mid = need_str(key, 1000)
            if not self.has_message_id(mid):
                raise NotFound("No stored message has that Message-ID.")
            return mid

        def need_app(key: str) -> str:
            app_id = need_str(key, 100)
            if self.db.execute("SELECT 1 FROM applications WHERE id = ?", (app_id,)).fetchone() is None:
                raise NotFound("No application has that id.")
            record[key + "_messages"] = [r[0] for r in self.db.execute(
                "SELECT message_id FROM messages WHERE application_id = ? AND message_id IS NOT NULL "
                "ORDER BY ts", (app_id,))]
            return app_id

        if kind == "label":
            record["message_id"] = need_message()
            label = payload.get("label")
            if label not in grouping.LABELS:
                raise BadInput(f"Unknown label; use one of: {', '.join(grouping.LABELS)}.")
            record["label"] = label
        elif kind in ("not_job", "split"):
            record["message_id"] = need_message()
        elif kind == "company_role":
            if payload.get("application_id"):
                record["application_id"] = need_app("application_id")
            else:
                record["message_id"] = need_message()
            record["company"] = need_str("company")
            record["role"] = need_str("role")
        elif kind == "merge":
            record["application_id"] = need_app("application_id")
            record["other_application_id"] = need_app("other_application_id")
            if record["application_id"] == record["other_application_id"]:
                raise BadInput("An application cannot be merged with itself.")
        else:  # archive / unarchive
            record["application_id"] = need_app("application_id")
        created = _utcnow()
        with self._tx():
            cur = self.db.execute("INSERT INTO corrections (kind, payload, created) VALUES (?, ?, ?)",
                                  (kind, json.dumps(record), created))
            self._mark_stale()
        self.refresh()
        return {"id": cur.lastrowid, **record, "created": created}

    def corrections(self) -> list[dict]:
        """Every correction, oldest first, as recorded."""
        return [{"id": r[0], **json.loads(r[1]), "created": r[2]}
                for r in self.db.execute("SELECT id, payload, created FROM corrections ORDER BY id")]

    # ----------------------------------------------------------------- accounts
    def add_account(self, **fields) -> int:
        """Insert an account (public fields only: never a secret); return its id."""
        unknown = set(fields) - set(ACCOUNT_FIELDS)
        if unknown:
            raise ValueError(f"unknown account fields: {sorted(unknown)}")
        if not fields.get("email"):
            raise BadInput("An account needs an email address.")
        fields.setdefault("created", _utcnow())
        fields["email"] = fields["email"].strip()
        cols = ", ".join(fields)
        with self._tx():
            cur = self.db.execute(f"INSERT INTO accounts ({cols}) VALUES ({', '.join('?' * len(fields))})",
                                  tuple(fields.values()))
            self._mark_stale()
        self._user_addresses = None
        return cur.lastrowid

    def list_accounts(self) -> list[dict]:
        return [dict(r) for r in self.db.execute(f"SELECT id, {', '.join(ACCOUNT_FIELDS)} FROM accounts ORDER BY id")]

    def get_account(self, account_id: int) -> dict | None:
        row = self.db.execute(f"SELECT id, {', '.join(ACCOUNT_FIELDS)} FROM accounts WHERE id = ?",
                              (account_id,)).fetchone()
        return dict(row) if row else None

    def update_account(self, account_id: int, **fields) -> None:
        unknown = set(fields) - set(ACCOUNT_FIELDS)
        if unknown:
            raise ValueError(f"unknown account fields: {sorted(unknown)}")
        if fields:
            sets = ", ".join(f"{k} = ?" for k in fields)
            self.db.execute(f"UPDATE accounts SET {sets} WHERE id = ?", (*fields.values(), account_id))
            self._user_addresses = None

    def remove_account(self, account_id: int) -> bool:
        """Forget an account and its folders' sync state; its messages stay (keyed by Message-ID)."""
        with self._tx():
            self.db.execute("DELETE FROM folders WHERE account_id = ?", (account_id,))
            self.db.execute("DELETE FROM locations WHERE account_id = ?", (account_id,))
            gone = self.db.execute("DELETE FROM accounts WHERE id = ?", (account_id,)).rowcount
        self._user_addresses = None
        return bool(gone)

    def set_account_error(self, account_id: int, sentence: str | None) -> None:
        self.db.execute("UPDATE accounts SET last_error = ? WHERE id = ?", (sentence, account_id))

    def set_account_synced(self, account_id: int, when: datetime | str | None = None) -> None:
        self.db.execute("UPDATE accounts SET last_synced = ?, last_error = NULL WHERE id = ?",
                        (_iso_utc(when) if when else _utcnow(), account_id))

    # ----------------------------------------------------------------- folders
    def folder_state(self, account_id: int, folder: str) -> dict | None:
        row = self.db.execute("SELECT account_id, name, role, uidvalidity, last_uid, highestmodseq FROM folders "
                              "WHERE account_id = ? AND name = ?", (account_id, folder)).fetchone()
        return dict(row) if row else None

    def save_folder_state(self, account_id: int, folder: str, *, uidvalidity: int | None,
                          last_uid: int | None, highestmodseq: int | None, role: str | None = None) -> None:
        self.db.execute(
            "INSERT INTO folders (account_id, name, role, uidvalidity, last_uid, highestmodseq) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(account_id, name) DO UPDATE SET role = excluded.role, "
            "uidvalidity = excluded.uidvalidity, last_uid = excluded.last_uid, "
            "highestmodseq = excluded.highestmodseq",
            (account_id, folder, role, uidvalidity, last_uid, highestmodseq))

    def forget_folder_uids(self, account_id: int, folder: str) -> None:
        """After a UIDVALIDITY change: old UIDs mean nothing; messages stay, keyed by Message-ID."""
        with self._tx():
            self.db.execute("DELETE FROM locations WHERE account_id = ? AND folder = ?", (account_id, folder))
            self.db.execute("UPDATE messages SET uid = NULL WHERE account_id = ? AND folder = ?",
                            (account_id, folder))
            self.db.execute("UPDATE folders SET last_uid = NULL, highestmodseq = NULL "
                            "WHERE account_id = ? AND name = ?", (account_id, folder))

    def known_uids(self, account_id: int, folder: str) -> set[int]:
        """UIDs of this folder already stored (so a resync fetches only new ones)."""
        return {r[0] for r in self.db.execute("SELECT uid FROM locations WHERE account_id = ? AND folder = ?",
                                              (account_id, folder))}

    # ----------------------------------------------------------------- sync status
    def set_sync_status(self, **fields) -> None:
        unknown = set(fields) - set(SYNC_FIELDS)
        if unknown:
            raise ValueError(f"unknown sync status fields: {sorted(unknown)}")
        if fields:
            sets = ", ".join(f"{k} = ?" for k in fields)
            self.db.execute(f"UPDATE sync_status SET {sets} WHERE id = 1", tuple(fields.values()))

    def sync_status(self) -> dict:
        row = self.db.execute(f"SELECT {', '.join(SYNC_FIELDS)} FROM sync_status WHERE id = 1").fetchone()
        return dict(row)

    # ----------------------------------------------------------------- auth
    def add_token(self, token_hash: str, origin: str | None) -> int:
        cur = self.db.execute("INSERT INTO tokens (token_hash, origin, created) VALUES (?, ?, ?)",
                              (token_hash, origin, _utcnow()))
        return cur.lastrowid

    def token_by_hash(self, token_hash: str) -> dict | None:
        """The live (not revoked) token with this hash, or None."""
        row = self.db.execute("SELECT id, token_hash, origin, created, last_used, revoked FROM tokens "
                              "WHERE token_hash = ? AND revoked = 0", (token_hash,)).fetchone()
        return dict(row) if row else None

    def live_tokens(self) -> list[dict]:
        return [dict(r) for r in self.db.execute(
            "SELECT id, token_hash, origin, created, last_used, revoked FROM tokens WHERE revoked = 0")]

    def touch_token(self, token_id: int) -> None:
        self.db.execute("UPDATE tokens SET last_used = ? WHERE id = ?", (_utcnow(), token_id))

    def revoke_tokens(self) -> int:
        return self.db.execute("UPDATE tokens SET revoked = 1 WHERE revoked = 0").rowcount

    def add_pairing_code(self, code_hash: str, expires_at: datetime | float | str) -> int:
        cur = self.db.execute("INSERT INTO pairing_codes (code_hash, expires_at) VALUES (?, ?)",
                              (code_hash, _iso_utc(expires_at)))
        return cur.lastrowid

    def pairing_codes(self, *, now: datetime | None = None, max_attempts: int = PAIRING_MAX_ATTEMPTS) -> list[dict]:
        """Live codes: not used, not expired, fewer than max_attempts wrong guesses."""
        at = _iso_utc(now) if now else _utcnow()
        return [dict(r) for r in self.db.execute(
            "SELECT id, code_hash, expires_at, attempts, used FROM pairing_codes "
            "WHERE used = 0 AND expires_at > ? AND attempts < ? ORDER BY id", (at, max_attempts))]

    def record_pairing_attempt(self, code_id: int | None = None) -> int | None:
        """Count a wrong guess against one code (returning its attempts so far), or every live code."""
        if code_id is None:
            self.db.execute("UPDATE pairing_codes SET attempts = attempts + 1 WHERE used = 0")
            return None
        self.db.execute("UPDATE pairing_codes SET attempts = attempts + 1 WHERE id = ?", (code_id,))
        row = self.db.execute("SELECT attempts FROM pairing_codes WHERE id = ?", (code_id,)).fetchone()
        return row[0] if row else None

    def consume_pairing_code(self, code_id: int) -> bool:
        """Mark a code used; False when it was already used (single use, even under a race)."""
        return self.db.execute("UPDATE pairing_codes SET used = 1 WHERE id = ? AND used = 0",
                               (code_id,)).rowcount == 1


class _Transaction:
    """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on error; nested use joins the outer one."""

    def __init__(self, db: sqlite3.Connection):
        self.db = db
        self.outer = False

    def __enter__(self):
        self.outer = not self.db.in_transaction
        if self.outer:
            self.db.execute("BEGIN IMMEDIATE")
        return self.db

    def __exit__(self, exc_type, exc, tb):
        if self.outer:
            self.db.execute("ROLLBACK" if exc_type else "COMMIT")
        return False


__all__ = ["Store", "content_hash", "row_to_message", "DB_NAME", "JOB_LABELS"]
