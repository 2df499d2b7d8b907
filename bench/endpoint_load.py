"""The inference server under load on loopback, against the in-process cost of the same call.

    .venv/bin/python bench/endpoint_load.py [--requests 400] [--concurrency 1,8,32]
                                            [--workers CPU-COUNT]

1. The limit: `online.invoke` (the code behind POST /invocations) called in this process on one
   booking row, back to back: rows per second and its p50/p99.
2. The server: `containers/inference/predict.py serve` (gunicorn, one worker per CPU, as in the
   image) on 127.0.0.1, started from this checkout with this venv (the image's pins).
3. A bounded load generator: CONCURRENCY threads, each with one keep-alive connection, send
   REQUESTS single-row text/csv requests in all (never more in flight than CONCURRENCY), each
   row a different booking of examples/data/bookings.csv. Latency is per request, client side.
4. One request of 10,000 rows (bookings.csv five times), timed three times.

Every answer is checked (200 and one line per row). Results go to stdout as a Markdown table and
to bench/results/endpoint_load.json.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
INFERENCE = REPO / "containers" / "inference"
BOOKINGS = REPO / "examples" / "data" / "bookings.csv"
HEADER, *ROWS = [line for line in BOOKINGS.read_bytes().split(b"\n") if line]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def in_process(count: int) -> dict:
    sys.path.insert(0, str(INFERENCE))
    import online
    import predict

    model = predict.load_model(predict.DEFAULT_MODEL)
    times = []
    for i in range(count):
        body = HEADER + b"\n" + ROWS[i % len(ROWS)] + b"\n"
        start = time.perf_counter()
        online.invoke(body, "text/csv", "", model)
        times.append(time.perf_counter() - start)
    return summary(times, sum(times))


def summary(latencies: list[float], wall: float) -> dict:
    return {"requests": len(latencies), "rps": len(latencies) / wall,
            "p50_ms": percentile(latencies, 0.50) * 1000, "p99_ms": percentile(latencies, 0.99) * 1000}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int, workers: int) -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, str(INFERENCE / "predict.py"), "serve", "--host", "127.0.0.1",
         "--port", str(port), "--workers", str(workers)],
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")}, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=2)
            return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("the server never answered /ping")


def post(connection: http.client.HTTPConnection, body: bytes) -> bytes:
    connection.request("POST", "/invocations", body=body, headers={"Content-Type": "text/csv"})
    response = connection.getresponse()
    answer = response.read()
    if response.status != 200:
        raise SystemExit(f"HTTP {response.status}: {answer[:200]!r}")
    return answer


def load(port: int, total: int, concurrency: int) -> dict:
    """`total` single-row requests from `concurrency` threads, at most that many in flight."""
    latencies: list[float] = []
    lock = threading.Lock()
    counter = iter(range(total))

    def client() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        while True:
            with lock:
                i = next(counter, None)
            if i is None:
                break
            start = time.perf_counter()
            answer = post(connection, HEADER + b"\n" + ROWS[i % len(ROWS)] + b"\n")
            elapsed = time.perf_counter() - start
            assert answer.count(b"\n") == 2, answer
            with lock:
                latencies.append(elapsed)
        connection.close()

    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {"concurrency": concurrency, **summary(latencies, time.perf_counter() - start)}


def big_request(port: int, repeat: int = 3) -> dict:
    body = b"\n".join([HEADER, *(ROWS * 5)]) + b"\n"
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        answer = post(connection, body)
        times.append(time.perf_counter() - start)
        assert answer.count(b"\n") == len(ROWS) * 5 + 1
    return {"rows": len(ROWS) * 5, "bytes": len(body), "best_s": min(times),
            "median_s": statistics.median(times)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--concurrency", default="1,8,32")
    parser.add_argument("--workers", type=int, default=len(os.sched_getaffinity(0)))
    args = parser.parse_args()
    limit = in_process(args.requests)
    port = free_port()
    server = start_server(port, args.workers)
    try:
        load(port, 50, 4)  # warm every worker
        runs = [load(port, args.requests, int(c)) for c in args.concurrency.split(",")]
        big = big_request(port)
    finally:
        server.terminate()
        server.wait(timeout=30)
    results = {"cpus": os.cpu_count(), "workers": args.workers, "in_process": limit,
               "loopback": runs, "rows_10000": big}
    out = REPO / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "endpoint_load.json").write_text(json.dumps(results, indent=2))
    print(f"| case | requests/s | p50 ms | p99 ms | share of in-process rps |\n|---|---|---|---|---|")
    print(f"| in process, 1 row per call | {limit['rps']:.1f} | {limit['p50_ms']:.1f} | "
          f"{limit['p99_ms']:.1f} | 100% |")
    for r in runs:
        print(f"| loopback, concurrency {r['concurrency']} | {r['rps']:.1f} | {r['p50_ms']:.1f} | "
              f"{r['p99_ms']:.1f} | {100 * r['rps'] / limit['rps']:.0f}% |")
    print(f"\none request of {big['rows']} rows ({big['bytes']} bytes): best {big['best_s']:.2f} s, "
          f"median {big['median_s']:.2f} s")


if __name__ == "__main__":
    main()
