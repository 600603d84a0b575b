"""API latency: GET /api/applications on a big mailbox vs a trivial authenticated endpoint.

    python3 bench/api.py [--applications 1000] [--messages 20000] [--requests 200]

Fills a fresh data dir with a generated mailbox (server.ingest.fill_store, readings built
from the generator's own labels so the figure is the store + standings + API, not the
classifier), starts the real `standing serve` (waitress, subprocess), pairs, then times
requests over one keep-alive http.client connection each: GET /api/sync (one small row
read after the same Host/Origin/token checks) is the baseline. Prints p50/p95 of both and
the p95 ratio; the target is <= 3x (DESIGN.md "Quality bars").
"""
from __future__ import annotations

import argparse
import http.client
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from server.ingest import fill_store  # noqa: E402
from server.store import Store  # noqa: E402
from tests.support.serve import start_serve  # noqa: E402

TARGET_P95_RATIO = 3.0
WARMUP = 20  # requests per endpoint before timing: fills every waitress thread's list cache


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def timed(port: int, path: str, token: str, count: int) -> tuple[list[float], int, float]:
    """Latencies in ms of `count` GETs over one keep-alive connection after a warm-up; the body
    size; and the first (cold) request's latency."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    headers = {"Host": f"127.0.0.1:{port}", "Authorization": f"Bearer {token}"}
    size = 0
    try:
        cold = time.perf_counter()
        for n in range(WARMUP):
            conn.request("GET", path, headers=headers)
            conn.getresponse().read()
            if n == 0:
                cold = (time.perf_counter() - cold) * 1000
        times = []
        for _ in range(count):
            start = time.perf_counter()
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            body = response.read()
            times.append((time.perf_counter() - start) * 1000)
            if response.status != 200:
                raise SystemExit(f"{path}: HTTP {response.status} {body[:200]!r}")
            size = len(body)
        return times, size, cold
    finally:
        conn.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--applications", type=int, default=1000)
    parser.add_argument("--messages", type=int, default=20000)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="standing-bench-api-") as tmp:
        tmp_path = Path(tmp)
        data_dir = tmp_path / "data"
        data_dir.mkdir()
        started = time.perf_counter()
        with Store.open(data_dir / "standing.sqlite3") as store:
            fill_store(store, applications=args.applications, messages=args.messages, parse=False)
            apps = store.db.execute("SELECT COUNT(*) FROM applications").fetchone()[0]
            messages = store.message_count()
        print(f"filled {messages} messages, {apps} applications in {time.perf_counter() - started:.1f} s")

        server = start_serve(tmp_path, data_dir=data_dir)
        try:
            token = server.pair()
            listing, list_size, cold = timed(server.port, "/api/applications", token, args.requests)
            trivial, _, _ = timed(server.port, "/api/sync", token, args.requests)
            status, body = server.call("GET", "/api/applications", token=token)
            listed = len(body["applications"])
        finally:
            code = server.stop()
        if code != 0:
            print(f"warning: standing serve exited with {code}")

    rows = {"GET /api/applications": listing, "GET /api/sync (baseline)": trivial}
    print(f"{args.requests} requests each, one keep-alive connection; {listed} applications listed, "
          f"{list_size / 1024:.0f} KB per list")
    for name, values in rows.items():
        print(f"  {name:28s} p50 {percentile(values, .5):7.2f} ms   p95 {percentile(values, .95):7.2f} ms   "
              f"mean {statistics.fmean(values):7.2f} ms")
    print(f"  first list after the data changed (cache rebuilt): {cold:.0f} ms")
    ratio95 = percentile(listing, .95) / percentile(trivial, .95)
    ratio50 = percentile(listing, .5) / percentile(trivial, .5)
    verdict = "meets" if ratio95 <= TARGET_P95_RATIO else "MISSES"
    print(f"ratio p50 {ratio50:.1f}x, p95 {ratio95:.1f}x ({verdict} the <= {TARGET_P95_RATIO:.0f}x target)")
    print(json.dumps({"applications": listed, "messages": messages, "p50_list_ms": round(percentile(listing, .5), 2),
                      "p95_list_ms": round(percentile(listing, .95), 2),
                      "p50_trivial_ms": round(percentile(trivial, .5), 2),
                      "p95_trivial_ms": round(percentile(trivial, .95), 2), "p95_ratio": round(ratio95, 2),
                      "cold_list_ms": round(cold, 1)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
