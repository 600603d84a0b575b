"""Fill a store from files: `standing scan`, the bundled demo mailbox, benchmark mailboxes.

    counts = scan_path(store, "Takeout/All mail.mbox", me=["me@example.org"])
    load_demo(store)                     # the bundled demo; sets meta "now"
    fill_store(store, applications=1000, messages=20000)   # for bench/api.py

One bad message never stops a scan: it is counted in "errors" and skipped.
"""
from __future__ import annotations

import json
import mailbox
import random
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path
from typing import Callable, Iterable, Iterator

DEMO_DIR = Path(__file__).resolve().parent / "demo"
DEMO_MBOX = DEMO_DIR / "demo.mbox"
DEMO_META = DEMO_DIR / "demo.json"
# Messages per write transaction: one commit per message is ~10x slower; bigger batches
# hold the write lock longer against the API's readers.
INGEST_BATCH = 200

Progress = Callable[[int], None]


def ingest_raw(store, items: Iterable[tuple[str, bytes | None, str | None]], *,
               progress: Progress | None = None) -> dict:
    """Read and store (id, raw bytes | None, error | None) items; return counts.

    Counts: {"read", "stored", "duplicates", "errors"}. Own mail is recognised from the
    store's user addresses (set them first); refresh() is left to the caller.
    """
    from parsers import pipeline

    counts = {"read": 0, "stored": 0, "duplicates": 0, "errors": 0}
    addresses = store.user_addresses()
    batch = store.batch()
    batch.__enter__()
    try:
        for n, (_, raw, error) in enumerate(items, 1):
            counts["read"] += 1
            if error is not None or raw is None:
                counts["errors"] += 1
            else:
                try:
                    reading = pipeline.read_bytes(raw, user_addresses=addresses)
                    _, inserted = store.ingest(reading, raw=raw)
                    counts["stored" if inserted else "duplicates"] += 1
                except Exception:  # one bad message never stops a scan
                    counts["errors"] += 1
            if n % INGEST_BATCH == 0:
                batch.__exit__(None, None, None)
                batch = store.batch()
                batch.__enter__()
                if progress:
                    progress(n)
    finally:
        batch.__exit__(None, None, None)
    if progress:
        progress(counts["read"])
    return counts


def iter_mbox(path: str | Path) -> Iterator[tuple[str, bytes | None, str | None]]:
    """(id, raw, error) for each message of an mbox, with the stdlib reader (for the demo)."""
    box = mailbox.mbox(str(path), create=False)
    try:
        for n, key in enumerate(box.iterkeys()):
            try:
                yield f"{path}#{n}", box.get_bytes(key), None
            except Exception as err:  # a broken entry is reported, not fatal
                yield f"{path}#{n}", None, f"could not be read: {type(err).__name__}"
    finally:
        box.close()


def scan_path(store, path: str | Path, *, me: Iterable[str] = (), progress: Progress | None = None) -> dict:
    """Ingest an mbox, Maildir, .eml file or folder of them; regroup; return the counts.

    The user's addresses come from `me`; when none are given (and the store knows none), the
    address that received the most job mail is taken as the user's, so their replies count
    as their own mail.
    """
    from .sources import iter_raw_messages

    me = [a for a in me if a]
    if me:
        store.set_user_addresses(me)
    counts = ingest_raw(store, iter_raw_messages([path]), progress=progress)
    if not store.user_addresses():
        guess = store.guess_user_address()
        if guess:
            store.set_user_addresses([guess])
            counts["user_address"] = guess
    store.refresh()
    return counts


def demo_meta() -> dict:
    """The demo's fixed facts: {"now": ISO, "user": address, ...}."""
    return json.loads(DEMO_META.read_text(encoding="utf-8"))


def demo_now() -> datetime:
    return datetime.fromisoformat(demo_meta()["now"])


def load_demo(store) -> dict:
    """Ingest the bundled demo mailbox, set meta "now" (and "demo"), regroup; return counts."""
    meta = demo_meta()
    store.set_user_addresses([meta["user"]])
    counts = ingest_raw(store, iter_mbox(DEMO_MBOX))
    store.set_meta("now", meta["now"])
    store.set_meta("demo", "1")
    store.refresh()
    return counts


# --------------------------------------------------------------------------- benchmarks
_COMPANIES = ("Northwind", "Bramble", "Quartzline", "Heliotrope", "Ironbark", "Juniper", "Kestrel",
              "Lumen", "Marigold", "Nimbus", "Ostrava", "Pallas", "Quokka", "Rowan", "Sable", "Tamarind")
_ROLES = ("Backend Engineer", "Data Engineer", "Platform Engineer", "Product Designer", "SRE",
          "Frontend Engineer", "Engineering Manager", "QA Analyst")
_STEPS = (
    ("acknowledgement", "Thanks for applying to {c}",
     "Hi Alex,\n\nThank you for applying for the {r} position at {c}. We have received your application "
     "and our team will review it.\n\n{c} Recruiting"),
    ("advancing", "{c}: interview for {r}",
     "Hi Alex,\n\nWe enjoyed reading your application for the {r} role and would like to invite you to "
     "a video interview with the hiring manager. Could you share your availability for next week?\n\nBest,\nDana\n{c}"),
    ("noncommittal", "Re: {c}: interview for {r}",
     "Hi Alex,\n\nThanks for your patience. We are still meeting other candidates for the {r} role and "
     "have not made a decision on next steps yet.\n\nBest,\nDana\n{c}"),
    ("rejected", "Your application to {c}",
     "Hi Alex,\n\nThank you for your interest in the {r} role. After careful consideration we have "
     "decided not to move forward with your application.\n\nKind regards,\n{c} Recruiting"),
)
_NOISE = ("Your weekly digest", "Order confirmed", "New jobs for you", "Team lunch on Friday")


def generate_mailbox(applications: int = 1000, messages: int = 20000, *, seed: int = 7) -> Iterator[bytes]:
    """Raw RFC 822 messages: `applications` threads of employer mail, padded with unrelated mail."""
    for fact in _generate(applications, messages, seed=seed):
        yield fact["raw"]


_RAW = ("From: {sender}\r\nTo: Alex Kim <alex@example.org>\r\nSubject: {subject}\r\nDate: {date}\r\n"
        "Message-ID: {mid}\r\n{thread}MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
        "Content-Transfer-Encoding: 8bit\r\n\r\n{body}\r\n")
# Application histories: the labels of its employer messages, oldest first.
_HISTORIES = (("acknowledgement",), ("acknowledgement", "advancing"),
              ("acknowledgement", "advancing", "noncommittal"), ("acknowledgement", "rejected"),
              ("acknowledgement", "advancing", "advancing", "offer"), ("advancing", "rejected"))
_STEP_OF = {label: (subject, body) for label, subject, body in _STEPS}
_STEP_OF["offer"] = ("Offer: {r} at {c}", "Hi Alex,\n\nWe are delighted to offer you the {r} position at {c}. "
                     "The offer letter is attached.\n\nBest,\nDana\n{c}")


def _generate(applications: int, messages: int, *, seed: int = 7,
              start: datetime = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)) -> Iterator[dict]:
    """Facts of each generated message: raw bytes plus the label, company and role it was made with.

    Built from string templates: the stdlib's EmailMessage costs ~1 ms a message.
    """
    rng = random.Random(seed)
    budget = max(applications, messages - messages // 10)  # ~10% of the mailbox is unrelated
    made = 0
    for a in range(applications):
        company = f"{_COMPANIES[a % len(_COMPANIES)]} {a // len(_COMPANIES)}"
        role = _ROLES[rng.randrange(len(_ROLES))]
        domain = f"{company.lower().replace(' ', '')}.example"
        history = list(_HISTORIES[rng.randrange(len(_HISTORIES))])
        want = max(1, (budget - made) // max(1, applications - a))
        while len(history) < want:  # pad long threads with more interview rounds
            history.insert(-1 if len(history) > 1 else 1, "advancing")
        when = start + timedelta(hours=rng.randrange(24 * 300))
        previous = None
        for step, label in enumerate(history):
            subject, body = _STEP_OF[label]
            mid = f"<app{a}.step{step}@{domain}>"
            thread = f"In-Reply-To: {previous}\r\nReferences: {previous}\r\n" if previous else ""
            raw = _RAW.format(sender=f"Dana Reyes <dana@{domain}>", subject=subject.format(c=company, r=role),
                              date=format_datetime(when), mid=mid, thread=thread,
                              body=body.format(c=company, r=role).replace("\n", "\r\n"))
            yield {"raw": raw.encode("utf-8"), "label": label, "company": company, "role": role,
                   "message_id": mid, "in_reply_to": previous, "from_addr": f"dana@{domain}",
                   "date": when, "subject": subject.format(c=company, r=role), "body": body.format(c=company, r=role)}
            previous = mid
            when += timedelta(days=rng.randrange(2, 12))
            made += 1
    n = 0
    while made < messages:
        when = start + timedelta(minutes=37 * n)
        mid = f"<noise{n}@list.example>"
        subject = f"{_NOISE[n % len(_NOISE)]} #{n}"
        body = f"Hello,\n\nHere is issue {n} of our newsletter with the latest articles.\n\nUnsubscribe"
        raw = _RAW.format(sender=f"News <news{n % 50}@list{n % 50}.example>", subject=subject,
                          date=format_datetime(when), mid=mid, thread="", body=body.replace("\n", "\r\n"))
        yield {"raw": raw.encode("utf-8"), "label": "unrelated", "company": None, "role": None,
               "message_id": mid, "in_reply_to": None, "from_addr": f"news{n % 50}@list{n % 50}.example",
               "date": when, "subject": subject, "body": body}
        made += 1
        n += 1


def fill_store(store, applications: int = 1000, messages: int = 20000, *, parse: bool = True,
               progress: Progress | None = None) -> dict:
    """Fill a store with a generated mailbox (for bench/api.py and bench/rebuild.py); regroup.

    With parse=False the readings are built directly from the generator's own labels,
    skipping the parsers (fast; the store, grouping and standings are the same).
    """
    store.set_user_addresses(["alex@example.org"])
    if parse:
        raws = generate_mailbox(applications, messages)
        counts = ingest_raw(store, ((str(i), raw, None) for i, raw in enumerate(raws)), progress=progress)
    else:
        counts = _fill_unparsed(store, _generate(applications, messages))
    store.refresh()
    return counts


def _fill_unparsed(store, generated) -> dict:
    from parsers.model import Email, Employer, Evidence, Reading, Reply, Verdict

    stored = 0
    with store.batch():
        for f in generated:
            email_obj = Email(message_id=f["message_id"], in_reply_to=f["in_reply_to"],
                              references=(f["in_reply_to"],) if f["in_reply_to"] else (),
                              from_addr=f["from_addr"], to=("alex@example.org",), date=f["date"],
                              subject=f["subject"], text=f["body"])
            label = f["label"]
            evidence = () if label == "unrelated" else (
                Evidence(rule="bench", label=label, text=f["body"][6:60], start=6, end=60, explanation="generated"),)
            reading = Reading(email=email_obj, reply=Reply(text=f["body"]), employer=Employer(f["company"], f["role"]),
                              verdict=Verdict(label=label, confidence=0.9, evidence=evidence))
            store.ingest(reading, raw=f["raw"])
            stored += 1
    return {"read": stored, "stored": stored, "duplicates": 0, "errors": 0}


__all__ = ["scan_path", "ingest_raw", "load_demo", "demo_now", "demo_meta", "iter_mbox",
           "generate_mailbox", "fill_store", "DEMO_MBOX", "DEMO_META"]
