"""`standing classify`: one JSON line per message, for scripts and independent checks.

    standing classify FILE...            .eml files, mbox files, Maildirs, folders of them
    standing classify --jsonl FILE       lines of {"id", "subject", "sender", "date", "body"}

Each output line is
{"id", "label", "confidence", "company", "role", "evidence": [{"rule", "label", "text",
"start", "end", "explanation"}], "expected_by"}; a message that cannot be read is labelled
"unrelated" and carries an "error" sentence. The exit status is 0 even then: one bad message
never stops the run. Output is streamed and flushed line by line.
"""
from __future__ import annotations

import json
import os
import sys

import click

from parsers.model import Reading
from parsers.pipeline import read_bytes, read_email

from . import sources

PROGRESS_EVERY = 50  # messages between two progress updates on a terminal


def reading_to_json(ident: str, reading: Reading) -> dict:
    """The contract object of one labelled message."""
    verdict = reading.verdict
    return {
        "id": ident,
        "label": verdict.label,
        "confidence": round(float(verdict.confidence), 3),
        "company": reading.employer.company,
        "role": reading.employer.role,
        "evidence": [
            {"rule": ev.rule, "label": ev.label, "text": ev.text, "start": ev.start, "end": ev.end,
             "explanation": ev.explanation}
            for ev in verdict.evidence
        ],
        "expected_by": reading.expected_by.isoformat() if reading.expected_by else None,
    }


def failure_json(ident: str, error: str) -> dict:
    return {"id": ident, "label": "unrelated", "confidence": 1.0, "company": None, "role": None,
            "evidence": [], "expected_by": None, "error": error}


def _not_a_message(reading: Reading) -> str | None:
    """An error sentence when the bytes were not an email at all (nothing a parser could use)."""
    found = reading.email
    fatal = [d for d in found.defects if d.startswith("unparseable message")]
    if fatal:
        return f"The message could not be parsed ({fatal[0]})."
    if not (found.message_id or found.from_addr or found.date or found.subject):
        return "The message has no From, Date, Subject or Message-ID header; it is not an email."
    return None


def classify_raw(ident: str, raw: bytes | None, error: str | None, user_addresses) -> dict:
    if error is not None or raw is None:
        return failure_json(ident, error or "The message could not be read.")
    if not raw.strip():
        return failure_json(ident, "The message is empty.")
    try:
        reading = read_bytes(raw, user_addresses=user_addresses)
    except Exception as err:  # noqa: BLE001 - one bad message never stops the run
        return failure_json(ident, f"The message could not be classified ({type(err).__name__}).")
    problem = _not_a_message(reading)
    if problem:
        return failure_json(ident, problem)
    return reading_to_json(ident, reading)


def classify_fields(ident: str, found, error: str | None, user_addresses) -> dict:
    if error is not None or found is None:
        return failure_json(ident, error or "The line could not be read.")
    try:
        return reading_to_json(ident, read_email(found, user_addresses=user_addresses))
    except Exception as err:  # noqa: BLE001 - one bad message never stops the run
        return failure_json(ident, f"The message could not be classified ({type(err).__name__}).")


def _results(files, jsonl_paths, user_addresses):
    for ident, raw, error in sources.iter_raw_messages(files):
        yield classify_raw(ident, raw, error, user_addresses)
    for path in jsonl_paths:
        for ident, found, error in sources.iter_jsonl(path):
            yield classify_fields(ident, found, error, user_addresses)


@click.command("classify")
@click.argument("files", nargs=-1, type=click.Path(path_type=str))
@click.option("--jsonl", "jsonl_paths", multiple=True, type=click.Path(path_type=str), metavar="FILE",
              help='Lines of {"id", "subject", "sender", "date", "body"} instead of raw mail.')
@click.option("--user-address", "user_addresses", multiple=True, metavar="ADDR",
              help="One of your own addresses (repeatable): your own mail is labelled unrelated.")
def classify_command(files, jsonl_paths, user_addresses):
    """Label every message of FILE... (.eml, mbox, Maildir, folders) or --jsonl FILE, one JSON line each."""
    if not files and not jsonl_paths:
        raise click.UsageError("Give one or more mail files or folders, or --jsonl FILE.")
    addresses = tuple(a.strip().lower() for a in user_addresses if a.strip())
    show_progress = sys.stderr.isatty()
    out = sys.stdout
    count = failed = 0
    try:
        for result in _results(files, jsonl_paths, addresses):
            out.write(json.dumps(result) + "\n")
            out.flush()
            count += 1
            failed += "error" in result
            if show_progress and count % PROGRESS_EVERY == 0:
                click.echo(f"\r{count} messages classified", err=True, nl=False)
    except BrokenPipeError:
        # The reader (e.g. `head`) stopped early: not an error. Point stdout at devnull so the
        # interpreter's final flush does not complain.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return
    if show_progress:
        note = f", {failed} unreadable" if failed else ""
        click.echo(f"\r{count} messages classified{note}", err=True)
