"""Regression guard for classifier speed work: the same inputs must give the same verdicts.

    python3 bench/classify_regress.py record    # save inputs + verdicts to bench/.cache/
    python3 bench/classify_regress.py compare   # re-classify the saved inputs, print differences

Inputs are every message of dev.jsonl, timelines.jsonl, bench/fresh*.jsonl (newest reply of the
body) and the SpamAssassin set (parsed and cleaned by parsers.mime / parsers.reply at record
time, so a later change to those modules does not show up as a classifier difference). Recorded
per message: label, confidence and the evidence (rule id, start, end). Nothing is printed of
the texts themselves beyond a message's index.
"""
from __future__ import annotations

import pickle
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from classify import CACHE, DEFAULT_CORPUS, TIMELINES, load, newest, spam_messages  # noqa: E402

from parsers.classify import classify  # noqa: E402

BASELINE = CACHE / "classify_regress.pickle"
MAX_PRINTED = 20  # differences listed before the count


def inputs() -> list[tuple[str, str, str, object]]:
    """(key, subject, cleaned text, calendar) for every message of every set."""
    from parsers.mime import parse_message
    from parsers.reply import newest_reply

    out = []
    sets = [DEFAULT_CORPUS, TIMELINES, *sorted((REPO / "bench").glob("fresh*.jsonl"))]
    for path in sets:
        for i, row in enumerate(load(path)):
            out.append((f"{path.name}#{i}", row["subject"], newest(row["body"]), None))
    paths = spam_messages()
    if isinstance(paths, str):
        raise SystemExit(paths)
    for path in paths:
        mail = parse_message(path.read_bytes())
        out.append((f"spam/{path.parent.name}/{path.name}", mail.subject,
                    newest_reply(mail.text).text, mail.calendar))
    return out


def verdicts(items) -> dict[str, tuple]:
    result = {}
    for key, subject, text, cal in items:
        v = classify(subject, text, calendar=cal)
        result[key] = (v.label, v.confidence, tuple((e.rule, e.start, e.end) for e in v.evidence))
    return result


def main() -> None:
    mode = sys.argv[1] if len(sys.argv) > 1 else "compare"
    if mode == "record":
        items = inputs()
        BASELINE.write_bytes(pickle.dumps({"inputs": items, "verdicts": verdicts(items)}))
        print(f"recorded {len(items)} messages to {BASELINE}")
        return
    saved = pickle.loads(BASELINE.read_bytes())
    start = time.process_time()  # CPU: the machine's cores are shared
    now = verdicts(saved["inputs"])
    took = time.process_time() - start
    diffs = [k for k in saved["verdicts"] if saved["verdicts"][k] != now[k]]
    labels = sum(saved["verdicts"][k][0] != now[k][0] for k in diffs)
    for k in diffs[:MAX_PRINTED]:
        print(f"  {k}: {saved['verdicts'][k]} -> {now[k]}")
    print(f"{len(now)} messages, {len(diffs)} differ ({labels} in label); classify {took:.2f} s CPU")
    sys.exit(1 if diffs else 0)


if __name__ == "__main__":
    main()
