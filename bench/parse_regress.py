"""Regression guard and timing for parser speed work: the same bytes must give the same Email and Reply.

    python3 bench/parse_regress.py record    # save every output to bench/.cache/parse_regress.pickle
    python3 bench/parse_regress.py compare   # re-run, list every difference (zero allowed), time it
    python3 bench/parse_regress.py time      # timing only

Inputs: every SpamAssassin raw message (bench/.cache, fetched by bench/classify.py) and
tests/fixtures/mail/*.eml through parsers.mime.parse_message and parsers.reply.newest_reply of
its text; the bodies of dev.jsonl through newest_reply only. Recorded per message: repr() of the
whole Email (every field, dates with their zone) and of the Reply (text and segments). Only a
message's key is printed, never its text.

Timing (median of TIMING_RUNS, CPU seconds over the SpamAssassin set): parse_message alone,
newest_reply alone over the already parsed texts, and the whole pipeline
(parsers.pipeline.read_bytes), each as a ratio to a bare email.message_from_bytes of the same bytes.
"""
from __future__ import annotations

import email
import pickle
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from classify import CACHE, DEFAULT_CORPUS, load, spam_messages  # noqa: E402

from parsers.mime import parse_message  # noqa: E402
from parsers.reply import newest_reply  # noqa: E402

BASELINE = CACHE / "parse_regress.pickle"
FIXTURES = REPO / "tests" / "fixtures" / "mail"
MAX_PRINTED = 20   # differences listed before the count
TIMING_RUNS = 3    # median of N: the machine is shared


def raw_inputs() -> list[tuple[str, bytes]]:
    paths = spam_messages()
    if isinstance(paths, str):
        raise SystemExit(paths)
    out = [(f"spam/{p.parent.name}/{p.name}", p.read_bytes()) for p in paths]
    out += [(f"fixture/{p.name}", p.read_bytes()) for p in sorted(FIXTURES.glob("*.eml"))]
    return out


def text_inputs() -> list[tuple[str, str]]:
    return [(f"{DEFAULT_CORPUS.name}#{i}", row["body"]) for i, row in enumerate(load(DEFAULT_CORPUS))]


def outputs(raws, texts) -> dict[str, tuple[str, str]]:
    result = {}
    for key, raw in raws:
        mail = parse_message(raw)
        result[key] = (repr(mail), repr(newest_reply(mail.text)))
    for key, text in texts:
        result[key] = ("", repr(newest_reply(text)))
    return result


def _cpu(fn) -> float:
    start = time.process_time()
    fn()
    return time.process_time() - start


def timing(raws) -> None:
    from parsers.pipeline import read_bytes

    blobs = [raw for key, raw in raws if key.startswith("spam/")]
    texts = [parse_message(raw).text for raw in blobs]
    runs: dict[str, list[float]] = {"bare": [], "parse": [], "reply": [], "pipeline": []}
    for _ in range(TIMING_RUNS):
        runs["bare"].append(_cpu(lambda: [email.message_from_bytes(raw) for raw in blobs]))
        runs["parse"].append(_cpu(lambda: [parse_message(raw) for raw in blobs]))
        runs["reply"].append(_cpu(lambda: [newest_reply(text) for text in texts]))
        runs["pipeline"].append(_cpu(lambda: [read_bytes(raw) for raw in blobs]))
    med = {name: statistics.median(values) for name, values in runs.items()}
    bare = med["bare"]
    print(f"timing over {len(blobs)} SpamAssassin messages, median of {TIMING_RUNS} (CPU s):")
    print(f"  bare email.message_from_bytes {bare:.2f} s")
    for name, label in (("parse", "parse_message"), ("reply", "newest_reply"),
                        ("pipeline", "pipeline.read_bytes")):
        print(f"  {label:<22}{med[name]:6.2f} s  = {med[name] / bare:.2f}x bare")


def main() -> None:
    mode = sys.argv[1] if len(sys.argv) > 1 else "compare"
    raws = raw_inputs()
    if mode == "time":
        timing(raws)
        return
    texts = text_inputs()
    if mode == "record":
        result = outputs(raws, texts)
        BASELINE.write_bytes(pickle.dumps(result))
        print(f"recorded {len(result)} outputs to {BASELINE}")
        return
    saved = pickle.loads(BASELINE.read_bytes())
    now = outputs(raws, texts)
    diffs = sorted(set(saved) ^ set(now)) + [k for k in saved if k in now and saved[k] != now[k]]
    for key in diffs[:MAX_PRINTED]:
        before, after = saved.get(key, ("missing", "missing")), now.get(key, ("missing", "missing"))
        what = [name for name, a, b in zip(("email", "reply"), before, after) if a != b]
        print(f"  {key}: {' and '.join(what) or 'missing'} differ")
    print(f"{len(now)} outputs compared, {len(diffs)} differ")
    if "--time" in sys.argv or mode == "compare":
        timing(raws)
    sys.exit(1 if diffs else 0)


if __name__ == "__main__":
    main()
