"""One message through the whole reading core: parse, clean, identify, classify, find the promise."""
from __future__ import annotations

from datetime import datetime

from . import classify, deadlines, employer, mime, reply
from .model import Email, Employer, Reading, Reply, Verdict

UNRELATED = Verdict(label="unrelated", confidence=1.0)


def is_own(email: Email, user_addresses: frozenset[str] | set[str] | tuple[str, ...]) -> bool:
    """True when the message was sent by the user (one of their addresses)."""
    return bool(email.from_addr) and email.from_addr.lower() in {a.lower() for a in user_addresses}


def read_email(email: Email, *, user_addresses=()) -> Reading:
    """Label one parsed message. The user's own mail is always `unrelated`."""
    cleaned = reply.newest_reply(email.text)
    if is_own(email, user_addresses):
        return Reading(email=email, reply=cleaned, verdict=UNRELATED, employer=Employer(), own=True)
    verdict = classify.classify(email.subject, cleaned.text, calendar=email.calendar)
    if verdict.label == "unrelated":
        return Reading(email=email, reply=cleaned, verdict=verdict, employer=Employer())
    who = employer.identify_employer(email.from_name, email.from_addr, email.subject, cleaned.text,
                                     full_text=email.text)
    due = deadlines.expected_by(cleaned.text, email.date) if email.date else None
    return Reading(email=email, reply=cleaned, verdict=verdict, employer=who, expected_by=due)


def read_bytes(raw: bytes, *, user_addresses=(), thread_id: str | None = None) -> Reading:
    """Parse and label raw RFC 822 bytes. Never raises on bad mail: defects are recorded."""
    return read_email(mime.parse_message(raw, thread_id=thread_id), user_addresses=user_addresses)


def email_from_fields(*, subject: str, sender: str, date: datetime | None, body: str,
                      message_id: str | None = None) -> Email:
    """An Email built from already-decoded fields (the jsonl input of `standing classify`)."""
    name, addr = mime.parse_address(sender)
    return Email(message_id=message_id, from_name=name, from_addr=addr, date=date,
                 subject=subject or "", text=body or "")


__all__ = ["read_email", "read_bytes", "email_from_fields", "is_own", "Reading", "Reply"]
