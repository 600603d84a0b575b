"""Regression guard for employer / deadline speed work: the same inputs must give the same output.

    python3 bench/extract_regress.py record    # save inputs + outputs to bench/.cache/
    python3 bench/extract_regress.py compare   # re-run the saved inputs, print differences

Inputs are every message of dev.jsonl, timelines.jsonl, bench/fresh*.jsonl and the SpamAssassin
set. Each is parsed (parsers.mime) and cleaned (parsers.reply) at record time, so a later change to those
modules does not show up as a difference here. Recorded per message: repr of
identify_employer(from_name, from_addr, subject, cleaned text, full_text=text), and the output of
deadlines.expected_by and deadlines.promised_dates on the cleaned text and the message's Date
(FIXED_DATE when it has none). Nothing is printed of the texts themselves beyond a message's key.
"""
from __future__ import annotations

import pickle
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from classify import CACHE, DEFAULT_CORPUS, TIMELINES, load, spam_messages  # noqa: E402
from extract import DEFAULT_CORPORA  # noqa: E402

from parsers import deadlines  # noqa: E402
from parsers.employer import identify_employer  # noqa: E402

BASELINE = CACHE / "extract_regress.pickle"
FIXED_DATE = datetime(2026, 3, 4, 10, 30, tzinfo=timezone.utc)  # a Wednesday, for mail without a Date
MAX_PRINTED = 20  # differences listed before the count


def _from_raw(key: str, raw: bytes) -> tuple:
    from parsers.mime import parse_message
    from parsers.reply import newest_reply

    mail = parse_message(raw)
    return (key, mail.from_name, mail.from_addr, mail.subject, newest_reply(mail.text).text, mail.text,
            mail.date or FIXED_DATE)


def inputs() -> list[tuple]:
    """(key, from_name, from_addr, subject, cleaned text, full text, date) for every message."""
    from parsers.mime import parse_address
    from parsers.reply import newest_reply

    out = []
    sets = list(dict.fromkeys([DEFAULT_CORPUS, TIMELINES, *DEFAULT_CORPORA,
                               *sorted((REPO / "bench").glob("fresh*.jsonl"))]))
    for path in (p for p in sets if p.exists()):
        for i, row in enumerate(load(path)):
            name, addr = parse_address(row["sender"])
            date = datetime.fromisoformat(row["date"]) if row.get("date") else FIXED_DATE
            out.append((f"{path.name}#{i}", name, addr, row["subject"], newest_reply(row["body"]).text,
                        row["body"], date))
    paths = spam_messages()
    if isinstance(paths, str):
        raise SystemExit(paths)
    for path in paths:
        out.append(_from_raw(f"spam/{path.parent.name}/{path.name}", path.read_bytes()))
    return out


def outputs(items) -> tuple[dict[str, tuple], float, float]:
    """Per key (employer repr, expected_by, promised_dates); and the seconds of each module."""
    result = {}
    employer_s = deadline_s = 0.0
    for key, name, addr, subject, text, full, date in items:
        t0 = time.process_time()
        who = repr(identify_employer(name, addr, subject, text, full_text=full))
        t1 = time.process_time()
        due = (deadlines.expected_by(text, date), tuple(deadlines.promised_dates(text, date)))
        t2 = time.process_time()
        employer_s += t1 - t0
        deadline_s += t2 - t1
        result[key] = (who, *due)
    return result, employer_s, deadline_s


def main() -> None:
    mode = sys.argv[1] if len(sys.argv) > 1 else "compare"
    if mode == "record":
        items = inputs()
        now, _, _ = outputs(items)
        BASELINE.write_bytes(pickle.dumps({"inputs": items, "outputs": now}))
        print(f"recorded {len(items)} messages to {BASELINE}")
        return
    saved = pickle.loads(BASELINE.read_bytes())
    now, employer_s, deadline_s = outputs(saved["inputs"])
    diffs = [k for k in saved["outputs"] if saved["outputs"][k] != now[k]]
    fields = ("employer", "expected_by", "promised_dates")
    for k in diffs[:MAX_PRINTED]:
        changed = [f for f, a, b in zip(fields, saved["outputs"][k], now[k]) if a != b]
        print(f"  {k}: {', '.join(changed)} differ")
    print(f"{len(now)} messages, {len(diffs)} differ; CPU identify_employer {employer_s:.2f} s, "
          f"deadlines {deadline_s:.2f} s")
    sys.exit(1 if diffs else 0)


if __name__ == "__main__":
    main()
