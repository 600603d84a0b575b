"""The database schema as an ordered list of migrations, recorded with PRAGMA user_version.

Migration N (1-based) brings a database from user_version N-1 to N. A new database runs
them all; an old one runs only the ones it lacks, inside one transaction each, so a
failure leaves it at its last good version. Never edit a migration that has shipped:
append a new one.
"""
from __future__ import annotations

import sqlite3
from typing import Callable


def _run(db: sqlite3.Connection, script: str) -> None:
    """Run a script statement by statement (executescript would COMMIT our transaction)."""
    for statement in script.split(";"):
        if statement.strip():
            db.execute(statement)


def _v1_initial(db: sqlite3.Connection) -> None:
    """The first schema: messages with their reading, corrections, accounts, auth, sync state."""
    _run(db, """
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);
        CREATE TABLE accounts (
            id INTEGER PRIMARY KEY,
            email TEXT NOT NULL,
            host TEXT, port INTEGER, security TEXT, auth TEXT, provider TEXT,
            created TEXT, last_error TEXT, last_synced TEXT
        );
        CREATE TABLE folders (
            account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
            name TEXT NOT NULL,
            role TEXT, uidvalidity INTEGER, last_uid INTEGER, highestmodseq INTEGER,
            PRIMARY KEY (account_id, name)
        );
        CREATE TABLE messages (
            pk INTEGER PRIMARY KEY,
            message_id TEXT UNIQUE,
            content_hash TEXT NOT NULL,
            account_id INTEGER, folder TEXT, uid INTEGER,
            thread_id TEXT, in_reply_to TEXT, "references" TEXT NOT NULL DEFAULT '[]',
            from_name TEXT NOT NULL DEFAULT '', from_addr TEXT NOT NULL DEFAULT '',
            "to" TEXT NOT NULL DEFAULT '[]',
            date TEXT, subject TEXT NOT NULL DEFAULT '',
            raw BLOB, body BLOB,
            cleaned TEXT NOT NULL DEFAULT '',
            label TEXT NOT NULL DEFAULT 'unrelated', confidence REAL NOT NULL DEFAULT 0,
            evidence TEXT NOT NULL DEFAULT '[]',
            company TEXT, role TEXT, expected_by TEXT,
            own INTEGER NOT NULL DEFAULT 0,
            error TEXT,
            application_id TEXT
        );
        CREATE INDEX messages_hash ON messages(content_hash);
        CREATE TABLE corrections (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL,
            payload TEXT NOT NULL,
            created TEXT NOT NULL
        );
        CREATE TABLE tokens (
            id INTEGER PRIMARY KEY,
            token_hash TEXT NOT NULL UNIQUE,
            origin TEXT, created TEXT NOT NULL, last_used TEXT,
            revoked INTEGER NOT NULL DEFAULT 0
        );
        CREATE TABLE pairing_codes (
            id INTEGER PRIMARY KEY,
            code_hash TEXT NOT NULL,
            expires_at TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            used INTEGER NOT NULL DEFAULT 0
        );
        CREATE TABLE sync_status (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            state TEXT NOT NULL DEFAULT 'idle', phase TEXT, done INTEGER NOT NULL DEFAULT 0,
            total INTEGER NOT NULL DEFAULT 0, last_synced TEXT, error TEXT
        );
        INSERT INTO sync_status (id) VALUES (1);
        """)


def _v2_applications(db: sqlite3.Connection) -> None:
    """Cached per-application summaries, message locations and sort keys.

    The applications list must not re-read every message per request, so the grouping
    step writes one summary row per application; only the parts that depend on "now"
    are computed when asked.
    """
    _run(db, """
        ALTER TABLE messages ADD COLUMN ts REAL;
        UPDATE messages SET ts = CAST(strftime('%s', date) AS REAL) WHERE date IS NOT NULL;
        CREATE INDEX messages_app ON messages(application_id);
        CREATE INDEX messages_ts ON messages(ts);
        CREATE TABLE locations (
            account_id INTEGER NOT NULL, folder TEXT NOT NULL, uid INTEGER NOT NULL,
            message_pk INTEGER NOT NULL REFERENCES messages(pk) ON DELETE CASCADE,
            PRIMARY KEY (account_id, folder, uid)
        );
        INSERT OR IGNORE INTO locations (account_id, folder, uid, message_pk)
            SELECT account_id, folder, uid, pk FROM messages
            WHERE account_id IS NOT NULL AND folder IS NOT NULL AND uid IS NOT NULL;
        CREATE TABLE applications (
            id TEXT PRIMARY KEY,
            company TEXT, role TEXT,
            archived INTEGER NOT NULL DEFAULT 0,
            last_ts REAL,
            summary TEXT NOT NULL
        );
        """)


# Order matters: index i is the migration to user_version i+1.
MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [_v1_initial, _v2_applications]
SCHEMA_VERSION = len(MIGRATIONS)


def migrate(db: sqlite3.Connection, *, target: int = SCHEMA_VERSION) -> int:
    """Apply the missing migrations up to `target`; return the version reached.

    Raises RuntimeError for a database newer than this code (a downgrade would lose data).
    """
    current = db.execute("PRAGMA user_version").fetchone()[0]
    if current > SCHEMA_VERSION:
        raise RuntimeError(f"database schema {current} is newer than this program ({SCHEMA_VERSION})")
    for version in range(current + 1, target + 1):
        db.execute("BEGIN IMMEDIATE")
        try:
            MIGRATIONS[version - 1](db)
            db.execute(f"PRAGMA user_version = {int(version)}")
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
    return max(current, target)
