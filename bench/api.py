"""API latency: GET /api/applications on a big mailbox vs a trivial authenticated endpoint.

    python3 bench/api.py [--applications 1000] [--messages 20000] [--requests 200]

Fills a fresh data dir with a generated mailbox (server.ingest.fill_store, readings built
from the generator's own labels so the figure is the store + standings + API, not the
classifier), starts the real `standing serve` (waitress, subprocess), pairs, then times
requests, alternating between the two, over one keep-alive http.client connection
each: GET /api/sync (one small row
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


def timed(port: int, token: str, paths: tuple[str, ...], count: int) -> tuple[dict, dict, float]:
    """Latencies in ms of `count` GETs per path, alternating between the paths (one keep-alive
    connection each) so both see the same load on this shared machine; body sizes; and the
    first request's (cold cache) latency."""
    headers = {"Host": f"127.0.0.1:{port}", "Authorization": f"Bearer {token}"}
    conns = {path: http.client.HTTPConnection("127.0.0.1", port, timeout=120) for path in paths}
    times: dict[str, list[float]] = {path: [] for path in paths}
    sizes: dict[str, int] = {}
    cold = 0.0
    try:
        for n in range(WARMUP + count):
            for path, conn in conns.items():
                start = time.perf_counter()
                conn.request("GET", path, headers=headers)
                response = conn.getresponse()
                body = response.read()
                elapsed = (time.perf_counter() - start) * 1000
                if response.status != 200:
                    raise SystemExit(f"{path}: HTTP {response.status} {body[:200]!r}")
                if n == 0 and path == paths[0]:
                    cold = elapsed
                if n >= WARMUP:
                    times[path].append(elapsed)
                sizes[path] = len(body)
        return times, sizes, cold
    finally:
        for conn in conns.values():
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
            times, sizes, cold = timed(server.port, token, ("/api/applications", "/api/sync"), args.requests)
            listing, trivial = times["/api/applications"], times["/api/sync"]
            list_size = sizes["/api/applications"]
            status, body = server.call("GET", "/api/applications", token=token)
            listed = len(body["applications"])
        finally:
            code = server.stop()
        if code != 0:
            print(f"warning: standing serve exited with {code}")

    rows = {"GET /api/applications": listing, "GET /api/sync (baseline)": trivial}
    print(f"{args.requests} requests each, alternating, one keep-alive connection each; {listed} applications listed, "
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
