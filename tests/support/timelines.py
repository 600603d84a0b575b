"""The labelled mailbox of 30 applications (shared/corpus/timelines.jsonl) as message rows and raw mail."""
from __future__ import annotations

import json
from datetime import date, datetime
from email.message import EmailMessage
from email.utils import format_datetime

from tests.conftest import CORPUS

TIMELINES = CORPUS / "timelines.jsonl"
STANDINGS = CORPUS / "standings.json"
USER = "sam.rivera@example.org"


def load_timelines() -> list[dict]:
    return [json.loads(line) for line in TIMELINES.read_text(encoding="utf-8").splitlines() if line.strip()]


def load_standings() -> dict:
    return json.loads(STANDINGS.read_text(encoding="utf-8"))


def gold_rows(items: list[dict]) -> list[dict]:
    """Message rows with the file's gold label, company, role and expected_by (no parsers)."""
    rows = []
    for pk, item in enumerate(items, 1):
        own = item["label"] == "own"
        name, _, addr = item["sender"].rpartition("<")
        rows.append({
            "pk": pk, "message_id": item["message_id"], "in_reply_to": item["in_reply_to"],
            "references": tuple(item["references"]), "thread_id": None,
            "from_name": name.strip(), "from_addr": addr.rstrip(">").strip().lower(), "to": (USER,),
            "date": datetime.fromisoformat(item["date"]), "subject": item["subject"],
            "label": "unrelated" if own else item["label"], "own": own,
            "confidence": 1.0, "company": item["company"], "role": item["role"],
            "expected_by": date.fromisoformat(item["expected_by"]) if item["expected_by"] else None,
            "evidence": [] if own or item["label"] == "unrelated" else [
                {"rule": "gold", "label": item["label"], "text": item["why"], "start": -1, "end": -1,
                 "explanation": "labelled by hand"}],
        })
    return rows


def raw_message(item: dict) -> bytes:
    """The item as RFC 822 bytes built with the stdlib email package."""
    msg = EmailMessage()
    msg["From"] = item["sender"]
    own = item["label"] == "own"
    msg["To"] = "someone@employer.example" if own else f"Sam Rivera <{USER}>"
    msg["Subject"] = item["subject"]
    msg["Date"] = format_datetime(datetime.fromisoformat(item["date"]))
    msg["Message-ID"] = item["message_id"]
    if item["in_reply_to"]:
        msg["In-Reply-To"] = item["in_reply_to"]
    if item["references"]:
        msg["References"] = " ".join(item["references"])
    msg.set_content(item["body"])
    return bytes(msg)
