"""The labelled mailbox of 30 applications (shared/corpus/timelines.jsonl) as message rows and raw mail."""
from __future__ import annotations

import functools
import json
import re
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


@functools.lru_cache(maxsize=1)
def _file_index() -> dict[str, dict]:
    return {i["message_id"]: i for i in load_timelines()}


def _address(sender: str) -> str:
    return sender.rpartition("<")[2].rstrip(">").strip().lower() if "<" in sender else sender.strip().lower()


def recipient(item: dict, by_mid: dict[str, dict] | None = None) -> str:
    """The To: address of an item, as the user's real mailbox would have it.

    The jsonl has no recipient field. Employer mail went to the user. The user's own mail
    went to whoever sent the message it replies to (found by In-Reply-To among the items;
    through the user's own earlier message when it replies to that, as a chaser does); a
    thread the user started went to an address at the employer's domain, rebuilt from the
    application's gold company the way such domains are spelled: "Stonebridge Capital" ->
    "hiring@stonebridgecapital.com".
    """
    if item["label"] != "own":
        return f"Sam Rivera <{USER}>"
    by_mid = _file_index() if by_mid is None else by_mid
    seen = set()
    while item["label"] == "own" and item["in_reply_to"] in by_mid and item["message_id"] not in seen:
        seen.add(item["message_id"])
        item = by_mid[item["in_reply_to"]]
    if item["label"] != "own":
        return item["sender"]
    return "hiring@" + "".join(re.findall(r"[a-z0-9]+", (item["company"] or "employer").lower())) + ".com"


def gold_rows(items: list[dict]) -> list[dict]:
    """Message rows with the file's gold label, company, role and expected_by (no parsers)."""
    rows = []
    by_mid = {i["message_id"]: i for i in items}
    for pk, item in enumerate(items, 1):
        own = item["label"] == "own"
        name, _, addr = item["sender"].rpartition("<")
        rows.append({
            "pk": pk, "message_id": item["message_id"], "in_reply_to": item["in_reply_to"],
            "references": tuple(item["references"]), "thread_id": None,
            "from_name": name.strip(), "from_addr": addr.rstrip(">").strip().lower(),
            "to": (_address(recipient(item, by_mid)),),
            "date": datetime.fromisoformat(item["date"]), "subject": item["subject"],
            "label": "unrelated" if own else item["label"], "own": own,
            "confidence": 1.0, "company": item["company"], "role": item["role"],
            "expected_by": date.fromisoformat(item["expected_by"]) if item["expected_by"] else None,
            "evidence": [] if own or item["label"] == "unrelated" else [
                {"rule": "gold", "label": item["label"], "text": item["why"], "start": -1, "end": -1,
                 "explanation": "labelled by hand"}],
        })
    return rows


def raw_message(item: dict, by_mid: dict[str, dict] | None = None) -> bytes:
    """The item as RFC 822 bytes built with the stdlib email package; To: from recipient()
    (by_mid: the items by Message-ID, default the whole timelines file)."""
    msg = EmailMessage()
    msg["From"] = item["sender"]
    msg["To"] = recipient(item, by_mid)
    msg["Subject"] = item["subject"]
    msg["Date"] = format_datetime(datetime.fromisoformat(item["date"]))
    msg["Message-ID"] = item["message_id"]
    if item["in_reply_to"]:
        msg["In-Reply-To"] = item["in_reply_to"]
    if item["references"]:
        msg["References"] = " ".join(item["references"])
    msg.set_content(item["body"])
    return bytes(msg)
