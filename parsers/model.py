"""Frozen dataclasses shared by the parsers and everything downstream of them."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

LABELS = ("offer", "advancing", "noncommittal", "rejected", "acknowledgement", "unrelated")


@dataclass(frozen=True)
class Attachment:
    filename: str | None
    content_type: str
    size: int


@dataclass(frozen=True)
class CalendarEvent:
    summary: str | None
    start: datetime | None
    method: str | None = None  # REQUEST, CANCEL, ...


@dataclass(frozen=True)
class Email:
    """One parsed message. Every field has a safe default so a broken message still yields one."""

    message_id: str | None = None
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    thread_id: str | None = None  # Gmail X-GM-THRID when the server gave one
    from_name: str = ""
    from_addr: str = ""
    to: tuple[str, ...] = ()
    date: datetime | None = None  # timezone-aware when the header had a zone
    subject: str = ""
    text: str = ""
    attachments: tuple[Attachment, ...] = ()
    calendar: CalendarEvent | None = None
    defects: tuple[str, ...] = ()


@dataclass(frozen=True)
class Reply:
    """The newest reply of a message body.

    ``text`` is the cleaned reply. ``segments`` maps it back into the original
    body: each (clean_start, original_start, length) says that
    ``text[clean_start:clean_start+length] == original[original_start:original_start+length]``.
    """

    text: str
    segments: tuple[tuple[int, int, int], ...] = ()

    def to_original(self, offset: int) -> int:
        """Map an offset in ``text`` to the matching offset in the original body."""
        best = 0
        for clean_start, original_start, length in self.segments:
            if clean_start <= offset <= clean_start + length:
                return original_start + (offset - clean_start)
            if clean_start <= offset:
                best = original_start + length
        return best


@dataclass(frozen=True)
class Evidence:
    rule: str
    label: str
    text: str
    start: int  # offsets into the cleaned reply (Reply.text)
    end: int
    explanation: str


@dataclass(frozen=True)
class Verdict:
    label: str
    confidence: float
    evidence: tuple[Evidence, ...] = ()


@dataclass(frozen=True)
class Employer:
    company: str | None = None
    role: str | None = None


@dataclass(frozen=True)
class Reading:
    """Everything the reading core knows about one message."""

    email: Email
    reply: Reply
    verdict: Verdict
    employer: Employer
    expected_by: date | None = None
    own: bool = False  # the user's own mail
    errors: tuple[str, ...] = field(default=())
