"""Messages from files: .eml files, mbox files, Maildirs and folders of them, and jsonl.

Used by `standing classify` and `standing scan`. Every iterator yields one entry per message
and never raises for a bad file or message: an unreadable file or a broken line becomes an
entry with an error sentence, and the run goes on.

mbox files are streamed line by line (the stdlib's mailbox.mbox builds a table of contents of
the whole file first), so a multi-GB Google Takeout export takes constant memory.
"""
from __future__ import annotations

import email.utils
import json
import os
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

from parsers.mime import MAX_MESSAGE_BYTES
from parsers.model import Email
from parsers.pipeline import email_from_fields

MAX_JSONL_LINE_BYTES = 5_000_000  # one message's line; a longer one is junk, not a message
MBOX_SNIFF_BYTES = 5              # an mbox starts with "From "
MBOX_MAX_LINE_BYTES = 1_000_000   # read at most this much at once, even from a line with no end

RawEntry = tuple[str, "bytes | None", "str | None"]


def _error_sentence(path: Path | str, err: BaseException) -> str:
    reason = getattr(err, "strerror", None) or str(err) or type(err).__name__
    return f"Could not read {path}: {reason}."


def iter_raw_messages(paths) -> Iterator[RawEntry]:
    """(id, raw bytes, None) per message, or (id, None, error sentence) for what cannot be read.

    Each path may be an .eml file (one message, even when it starts with an mbox "From " line),
    an mbox file (any other file that starts with "From "; ids "path#1", "path#2", ...), a Maildir
    (its cur/ and new/), or a folder searched recursively for .eml files, mbox files (.mbox,
    .mbx) and Maildirs.
    """
    for path in paths:
        path = Path(path)
        try:
            if path.is_dir():
                yield from _iter_dir(path)
            elif path.exists():
                yield from _iter_file(path)
            else:
                yield (str(path), None, f"Could not read {path}: no such file or folder.")
        except OSError as err:
            yield (str(path), None, _error_sentence(path, err))


def _is_maildir(path: Path) -> bool:
    return (path / "cur").is_dir() or (path / "new").is_dir()


def _iter_dir(root: Path) -> Iterator[RawEntry]:
    errors = []

    def onerror(err: OSError):
        errors.append(err)

    for folder, dirs, files in os.walk(root, onerror=onerror):
        dirs.sort()
        here = Path(folder)
        if here.name in ("cur", "new") and _is_maildir(here.parent):
            for name in sorted(files):
                if not name.startswith("."):
                    yield from _read_whole(here / name)
            continue
        if here.name == "tmp" and _is_maildir(here.parent):
            dirs.clear()  # messages still being delivered
            continue
        for name in sorted(files):
            lower = name.lower()
            if lower.endswith(".eml"):
                yield from _read_whole(here / name)
            elif lower.endswith((".mbox", ".mbx")):
                yield from _iter_mbox(here / name)
    for err in errors:
        yield (str(getattr(err, "filename", root) or root), None, _error_sentence(err.filename or root, err))


def _iter_file(path: Path) -> Iterator[RawEntry]:
    try:
        with path.open("rb") as handle:
            head = handle.read(MBOX_SNIFF_BYTES)
    except OSError as err:
        yield (str(path), None, _error_sentence(path, err))
        return
    if head == b"From " and path.suffix.lower() != ".eml":
        yield from _iter_mbox(path)
    else:
        yield from _read_whole(path)


def _read_whole(path: Path) -> Iterator[RawEntry]:
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_MESSAGE_BYTES)  # parse_message cuts there anyway
    except OSError as err:
        yield (str(path), None, _error_sentence(path, err))
        return
    yield (str(path), raw, None)


def _iter_mbox(path: Path) -> Iterator[RawEntry]:
    """Split an mbox on "From " lines that start the file or follow a blank line, undoing the
    mboxrd ">From " escape. Holds one message at a time, at most MAX_MESSAGE_BYTES of it."""
    count = 0
    lines: list[bytes] = []
    size = 0
    previous_blank = True
    at_line_start = True
    started = False
    try:
        with path.open("rb") as handle:
            while True:
                # readline with a limit: a file with no line breaks cannot fill memory
                line = handle.readline(MBOX_MAX_LINE_BYTES)
                if not line:
                    break
                line_start, at_line_start = at_line_start, line.endswith(b"\n")
                if line_start and previous_blank and line.startswith(b"From "):
                    if started:
                        count += 1
                        yield (f"{path}#{count}", _join(lines), None)
                    started = True
                    lines, size = [], 0
                    previous_blank = False
                    continue
                previous_blank = line_start and line in (b"\n", b"\r\n")
                if not started:
                    continue  # junk before the first separator
                if size < MAX_MESSAGE_BYTES:
                    if line_start and line.startswith(b">") and line.lstrip(b">").startswith(b"From "):
                        line = line[1:]
                    lines.append(line)
                    size += len(line)
            if started:
                count += 1
                yield (f"{path}#{count}", _join(lines), None)
    except OSError as err:
        yield (f"{path}#{count + 1}", None, _error_sentence(path, err))


def _join(lines: list[bytes]) -> bytes:
    # The blank line before the next "From " belongs to the mbox format, not the message.
    if lines and lines[-1] in (b"\n", b"\r\n"):
        lines = lines[:-1]
    return b"".join(lines)


def parse_date(value) -> datetime | None:
    """An ISO 8601 or RFC 2822 date string as an aware datetime (UTC when no zone), or None."""
    if not value or not isinstance(value, str):
        return None
    value = value.strip()
    when = None
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
    if when is not None and when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return when


def iter_jsonl(path) -> Iterator[tuple[str, "Email | None", "str | None"]]:
    """(id, Email, None) per line of {"id", "subject", "sender", "date", "body"}, or
    (id, None, error sentence) for a line that is not such an object. Blank lines are skipped."""
    path = Path(path)
    try:
        handle = path.open("rb")
    except OSError as err:
        yield (str(path), None, _error_sentence(path, err))
        return
    with handle:
        number = 0
        while True:
            try:
                line = handle.readline(MAX_JSONL_LINE_BYTES + 1)
            except OSError as err:
                yield (f"{path}#{number + 1}", None, _error_sentence(path, err))
                return
            if not line:
                return
            number += 1
            fallback_id = f"{path}#{number}"
            if len(line) > MAX_JSONL_LINE_BYTES and not line.endswith(b"\n"):
                while line and not line.endswith(b"\n"):  # skip the rest of the oversized line
                    line = handle.readline(MAX_JSONL_LINE_BYTES)
                yield (fallback_id, None, f"Line {number} is longer than {MAX_JSONL_LINE_BYTES} bytes.")
                continue
            if not line.strip():
                continue
            yield _jsonl_entry(line, number, fallback_id)


def _jsonl_entry(line: bytes, number: int, fallback_id: str):
    try:
        obj = json.loads(line.decode("utf-8", errors="replace"))
    except ValueError:
        return (fallback_id, None, f"Line {number} is not valid JSON.")
    if not isinstance(obj, dict):
        return (fallback_id, None, f"Line {number} is not a JSON object.")
    ident = obj.get("id")
    ident = str(ident) if ident not in (None, "") else fallback_id
    fields = {}
    for key in ("subject", "sender", "body"):
        value = obj.get(key)
        if value is not None and not isinstance(value, str):
            return (ident, None, f"Line {number}: \"{key}\" must be a string.")
        fields[key] = value or ""
    when = parse_date(obj.get("date"))
    try:
        found = email_from_fields(subject=fields["subject"], sender=fields["sender"], date=when,
                                  body=fields["body"],
                                  message_id=obj.get("message_id") if isinstance(obj.get("message_id"), str)
                                  else None)
    except Exception as err:  # noqa: BLE001 - one bad line never stops the run
        return (ident, None, f"Line {number} could not be read ({type(err).__name__}).")
    if when is None and obj.get("date"):
        found = _with_defect(found, "unreadable date")
    return (ident, found, None)


def _with_defect(found: Email, defect: str) -> Email:
    from dataclasses import replace

    return replace(found, defects=found.defects + (defect,))


__all__ = ["iter_raw_messages", "iter_jsonl", "parse_date"]
