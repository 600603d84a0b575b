"""Accuracy of company / role / expected_by extraction on the labelled sets.

    python3 bench/extract.py [--corpus PATH ...] [--misses] [--deadline-misses]

For each corpus (default: dev.jsonl, timelines.jsonl without the user's own mail
and unrelated mail, then bench/fresh.jsonl, bench/fresh2.jsonl, bench/fresh3.jsonl, bench/fresh4.jsonl and bench/fresh5.jsonl
without unrelated mail, when present) prints company and role accuracy
(case-insensitive exact, and by company_key / role_key) over messages whose gold
value is non-null, the ceiling (gold values that never appear in the sender,
subject or body, case-insensitively, cannot be extracted), expected_by exact-day
accuracy where gold is non-null, and false positives where gold is null.

The sets in BLIND are held out for employer work: their misses are never printed,
even with --misses (only their figures are). --deadline-misses prints the expected_by misses
(with the newest reply) for the sets deadlines are developed on, DEADLINE_DEV (not fresh4).
"""
from __future__ import annotations

import argparse
import json
import re
import sys
import time
from datetime import date, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from parsers.deadlines import expected_by  # noqa: E402
from parsers.employer import ROLE_ABBREVIATIONS, company_key, identify_employer, role_key  # noqa: E402
from parsers.reply import newest_reply  # noqa: E402

CORPUS_DIR = REPO.parent / "shared" / "corpus"
BENCH_DIR = REPO / "bench"
DEFAULT_CORPORA = [CORPUS_DIR / "dev.jsonl", CORPUS_DIR / "timelines.jsonl", BENCH_DIR / "fresh.jsonl",
                   BENCH_DIR / "fresh2.jsonl", BENCH_DIR / "fresh3.jsonl", BENCH_DIR / "fresh4.jsonl", BENCH_DIR / "fresh5.jsonl"]
BLIND = frozenset({"fresh4.jsonl", "fresh5.jsonl"})  # held out: figures only, never their misses (fresh2/3 are development data now)
DEADLINE_DEV = frozenset({"dev.jsonl", "timelines.jsonl", "fresh.jsonl", "fresh2.jsonl", "fresh3.jsonl"})  # not fresh4
SKIPPED_LABELS = ("own", "unrelated")  # the user's own mail and interleaved noise (no gold employer)


def split_sender(sender: str) -> tuple[str, str]:
    from parsers.mime import parse_address
    return parse_address(sender)


def _fold_text(text: str) -> str:
    return " ".join(text.casefold().split())


def _words(text: str) -> str:
    """The text as role_key / company_key spell words: ' senior data engineer at northwind '."""
    text = re.sub(r"['’]s\b", "", text.casefold().replace("&", " and "))
    words = re.sub(r"[^\w\s]", " ", text).split()
    return " " + " ".join(ROLE_ABBREVIATIONS.get(w, w) for w in words) + " "


def load(path: str) -> list[dict]:
    rows = [json.loads(line) for line in open(path, encoding="utf-8") if line.strip()]
    if not Path(path).name.startswith("dev"):
        rows = [r for r in rows if r.get("label") not in SKIPPED_LABELS]
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", action="append", help="a labelled .jsonl (repeatable; default both sets)")
    ap.add_argument("--misses", action="store_true", help="print every miss")
    ap.add_argument("--deadline-misses", action="store_true",
                    help="print expected_by misses with their reply (development sets only, never fresh4)")
    args = ap.parse_args()
    paths = args.corpus or [str(p) for p in DEFAULT_CORPORA if p.exists()]
    for i, path in enumerate(paths):
        if i:
            print()
        blind = Path(path).name in BLIND
        print(f"== {Path(path).name}" + ("  (BLIND: misses not shown)" if blind else ""))
        measure(load(path), misses_too=args.misses and not blind,
                deadline_misses=args.deadline_misses and Path(path).name in DEADLINE_DEV)


class FieldTally:
    """Exact, by-key and never-in-the-mail counts of one gold field (company or role)."""

    def __init__(self, name: str, key, *, context):
        self.name, self.key, self.context = name, key, context
        self.total = self.exact = self.by_key = self.absent = self.key_absent = 0

    def add(self, row: dict, gold: str | None, got: str | None, seen: str, seen_words: str,
            misses: list[str]) -> None:
        if not gold:
            return
        self.total += 1
        self.absent += _fold_text(gold) not in seen
        self.key_absent += f" {self.key(gold)} " not in seen_words
        got = got or ""
        self.exact += got.casefold() == gold.casefold()
        ok = self.key(got) == self.key(gold)
        self.by_key += ok
        if ok and got.casefold() != gold.casefold():
            misses.append(f"{self.name}-form {row['id']}: got {got!r} want {gold!r}")
        if not ok:
            misses.append(f"{self.name.upper()} {row['id']}: got {got!r} want {gold!r} [{self.context(row)}]")

    def report(self, pct, *, key_label: str) -> None:
        print(f"{self.name} exact (casefold):".ljust(26) + pct(self.exact, self.total))
        print(f"{self.name} by {key_label}:".ljust(26) + pct(self.by_key, self.total))
        print(f"  gold {self.name} never in sender/subject/body:".ljust(45) + f"{self.absent}  (exact ceiling "
              f"{pct(self.total - self.absent, self.total)}; key never there: {self.key_absent})")


def measure(rows: list[dict], *, misses_too: bool, deadline_misses: bool = False) -> None:

    company = FieldTally("company", company_key, context=lambda row: f"{row['sender']} | {row['subject']}")
    role = FieldTally("role", role_key, context=lambda row: row["subject"])
    e_total = e_ok = e_null = e_fp = e_fp_job = e_null_job = 0
    misses: list[str] = []
    due_misses: list[str] = []
    employer_seconds = 0.0
    started = time.perf_counter()
    for row in rows:
        name, addr = split_sender(row["sender"])
        text = newest_reply(row["body"]).text
        t0 = time.perf_counter()
        who = identify_employer(name, addr, row["subject"], text, full_text=row["body"])
        employer_seconds += time.perf_counter() - t0
        sent = datetime.fromisoformat(row["date"])
        due = expected_by(text, sent)
        seen = _fold_text(" ".join((row["sender"], row["subject"], row["body"])))
        seen_words = _words(seen)
        company.add(row, row["company"], who.company, seen, seen_words, misses)
        role.add(row, row["role"], who.role, seen, seen_words, misses)
        if row.get("expected_by"):
            e_total += 1
            ok = due == date.fromisoformat(row["expected_by"])
            e_ok += ok
            if not ok:
                misses.append(f"DUE {row['id']}: got {due} want {row['expected_by']} (sent {row['date']})")
                due_misses.append(f"DUE {row['id']}: got {due} want {row['expected_by']} "
                                  f"(sent {row['date']}, {sent:%a})\n    {' '.join(text.split())}")
        else:
            e_null += 1
            e_fp += due is not None
            if row["label"] != "unrelated":
                e_null_job += 1
                e_fp_job += due is not None
            if due is not None:
                misses.append(f"DUE-FP {row['id']}: got {due} want None (sent {row['date']})")
                due_misses.append(f"DUE-FP {row['id']}: got {due} want None (sent {row['date']}, {sent:%a})"
                                  f"\n    {' '.join(text.split())}")
    elapsed = time.perf_counter() - started

    def pct(a: int, b: int) -> str:
        return f"{a}/{b} = {a / b:.3f}" if b else "n/a"

    print(f"messages: {len(rows)}  ({elapsed * 1000 / len(rows):.2f} ms each incl. reply cleaning + deadlines;"
          f" identify_employer alone {employer_seconds * 1000 / len(rows):.2f} ms)")
    company.report(pct, key_label="company_key")
    role.report(pct, key_label="role_key")
    print(f"expected_by exact day:    {pct(e_ok, e_total)}")
    print(f"expected_by false positives where gold is null: {pct(e_fp, e_null)}"
          f"  (job mail only: {pct(e_fp_job, e_null_job)})")
    if misses_too and misses:
        print()
        print("\n".join(misses))
    if deadline_misses and due_misses:
        print()
        print("\n".join(due_misses))


if __name__ == "__main__":
    main()
