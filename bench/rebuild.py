"""Time `standing rebuild` (and the store around it) on a generated 1,000-application, 20,000-message mailbox.

    python3 bench/rebuild.py [--applications 1000] [--messages 20000]

Prints: fill time, rebuild time beside a bare `email.message_from_bytes` of the same stored
bytes (the baseline, same run) as a ratio, the regrouping (refresh) time, and the latency of
`standings(now)` (what GET /api/applications calls) over repeated calls.

bench/api.py can reuse the filler: `server.ingest.fill_store(store, 1000, 20000, parse=False)`.
"""
from __future__ import annotations

import argparse
import email
import statistics
import sys
import tempfile
import time
import zlib
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from server.ingest import fill_store  # noqa: E402
from server.store import Store  # noqa: E402

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--applications", type=int, default=1000)
    ap.add_argument("--messages", type=int, default=20000)
    ap.add_argument("--calls", type=int, default=50, help="standings(now) calls to time")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-rebuild-") as tmp:
        store = Store.open(Path(tmp) / "bench.sqlite3")
        t0 = time.perf_counter()
        fill_store(store, args.applications, args.messages, parse=False)
        fill = time.perf_counter() - t0

        raws = [zlib.decompress(r[0]) for r in store.db.execute("SELECT raw FROM messages")]
        t0 = time.perf_counter()
        for raw in raws:
            email.message_from_bytes(raw)
        baseline = time.perf_counter() - t0
        size = sum(map(len, raws))
        del raws

        t0 = time.perf_counter()
        counts = store.rebuild()
        rebuild = time.perf_counter() - t0

        t0 = time.perf_counter()
        store.refresh(force=True)
        refresh = time.perf_counter() - t0

        latencies = []
        for _ in range(args.calls):
            t0 = time.perf_counter()
            apps = store.standings(NOW)
            latencies.append(time.perf_counter() - t0)
        cold = []
        for _ in range(args.calls):  # first call of the day or after a regroup: no cached standings
            store._standings_cache = None
            t0 = time.perf_counter()
            store.standings(NOW)
            cold.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        for _ in range(args.calls):
            store.sync_status()
        trivial = (time.perf_counter() - t0) / args.calls
        store.close()

    latencies.sort()
    p95 = latencies[int(0.95 * (len(latencies) - 1))]
    n = counts["messages"]
    print(f"mailbox: {n} messages ({size / 1e6:.1f} MB), {counts['applications']} applications")
    print(f"fill (store + group, parsers skipped): {fill:.2f} s")
    print(f"rebuild (parse, clean, classify, extract, store, regroup): {rebuild:.2f} s "
          f"({n / rebuild:,.0f} msg/s), {counts['changed']} changed, {counts['errors']} errors")
    print(f"baseline email.message_from_bytes of the same bytes: {baseline:.2f} s; "
          f"ratio rebuild/baseline: {rebuild / baseline:.1f}x")
    print(f"refresh (regroup every application from stored readings): {refresh:.2f} s")
    print(f"standings(now) for {len(apps)} applications: p50 {statistics.median(latencies) * 1e3:.1f} ms, "
          f"p95 {p95 * 1e3:.1f} ms (a trivial sync_status() read: {trivial * 1e3:.2f} ms)")
    cold.sort()
    print(f"standings(now) uncached (cached summaries, now-dependent parts computed): "
          f"p50 {statistics.median(cold) * 1e3:.1f} ms, p95 {cold[int(0.95 * (len(cold) - 1))] * 1e3:.1f} ms")


if __name__ == "__main__":
    main()
