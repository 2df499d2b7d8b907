"""The inference server under load on loopback, against the in-process cost of the same call.

    .venv/bin/python bench/endpoint_load.py [--requests 800] [--concurrency 1,8,32] [--rounds 3]
                                            [--workers CPU-COUNT] [--threads 8]

Each round measures, in this order and on this machine as it is:
1. The limit: `online.invoke` (the code behind POST /invocations) called in this process on one
   booking row at a time, back to back: requests per second and p50/p99. Also the same call on
   eight rows at once, the most a worker can get out of scoring concurrent requests together.
2. The server: `containers/inference/predict.py serve` (gunicorn with the image's defaults: one
   worker per CPU, eight threads each) on 127.0.0.1, started from this checkout with this venv.
3. A bounded load generator: CONCURRENCY threads, each with one keep-alive connection, send
   REQUESTS single-row text/csv requests in all (never more in flight than CONCURRENCY), each a
   different booking of examples/data/bookings.csv, after 4 warm-up requests per thread on the
   same connections that are not counted (connecting is not part of a request's latency).
   Latency is per request, client side. The generator's own CPU time per request and the
   server's are measured too (they share the cores).
4. One request of 10,000 rows (bookings.csv five times), timed three times.

Every answer is checked (200 and one line per row). The table shows each case's median over the
rounds, with its share of the in-process single-row requests per second of the same round; every
round's figures go to bench/results/endpoint_load.json.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import resource
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
BATCH_ROWS = 8


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def summary(latencies: list[float], wall: float) -> dict:
    return {"requests": len(latencies), "rps": len(latencies) / wall,
            "p50_ms": percentile(latencies, 0.50) * 1000, "p99_ms": percentile(latencies, 0.99) * 1000}


def load_model():
    sys.path.insert(0, str(INFERENCE))
    import online
    import predict

    return online, predict.load_model(predict.DEFAULT_MODEL)


def in_process(count: int, rows: int = 1) -> dict:
    """`count` calls of `online.invoke` on `rows` bookings each, back to back (requests = calls)."""
    online, model = load_model()
    times = []
    for i in range(count):
        body = b"\n".join([HEADER, *(ROWS[(i * rows + j) % len(ROWS)] for j in range(rows))]) + b"\n"
        start = time.perf_counter()
        online.invoke(body, "text/csv", "", model)
        times.append(time.perf_counter() - start)
    return {"rows_per_call": rows, **summary(times, sum(times))}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int, workers: int | None, threads: int) -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, str(INFERENCE / "predict.py"), "serve", "--host", "127.0.0.1",
         "--port", str(port), "--threads", str(threads),
         *(["--workers", str(workers)] if workers else [])],
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


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU so far of a process and all its descendants (gunicorn's workers), from
    Linux /proc; None elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
            total += cpu_seconds(int(child)) or 0.0
        return total
    except (OSError, ValueError):
        return None


def own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def post(connection: http.client.HTTPConnection, body: bytes) -> bytes:
    connection.request("POST", "/invocations", body=body, headers={"Content-Type": "text/csv"})
    response = connection.getresponse()
    answer = response.read()
    if response.status != 200:
        raise SystemExit(f"HTTP {response.status}: {answer[:200]!r}")
    return answer


def load(port: int, total: int, concurrency: int, warmup: int = 0, on_warm=None) -> list[float]:
    """Latencies of `total` single-row requests from `concurrency` threads, at most that many in
    flight. Each thread first sends its share of `warmup` requests on the same connection, not
    counted; when all have, `on_warm()` runs and the counted requests start."""
    bodies = [HEADER + b"\n" + row + b"\n" for row in ROWS]
    latencies: list[float] = []
    lock = threading.Lock()
    counter = iter(range(total))
    warm = threading.Barrier(concurrency, action=on_warm)

    def client(number: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        for i in range(number, warmup, concurrency):
            check(post(connection, bodies[i % len(bodies)]))
        warm.wait()
        while True:
            with lock:
                i = next(counter, None)
            if i is None:
                break
            start = time.perf_counter()
            answer = post(connection, bodies[(warmup + i) % len(bodies)])
            elapsed = time.perf_counter() - start
            check(answer)
            with lock:
                latencies.append(elapsed)
        connection.close()

    threads = [threading.Thread(target=client, args=(n,)) for n in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies


def check(answer: bytes) -> None:
    assert answer.count(b"\n") == 2, answer


def measured_load(port: int, server_pid: int, total: int, concurrency: int) -> dict:
    """One concurrency level: warm up, then time `total` requests, with both sides' CPU."""
    before = {}

    def warmed() -> None:
        before.update(client=own_cpu(), server=cpu_seconds(server_pid), start=time.perf_counter())

    latencies = load(port, total, concurrency, warmup=4 * concurrency, on_warm=warmed)
    wall = time.perf_counter() - before["start"]
    client, server = own_cpu() - before["client"], before["server"]
    server_after = cpu_seconds(server_pid)
    return {"concurrency": concurrency, **summary(latencies, wall),
            "client_cpu_ms_per_request": 1000 * client / total,
            "server_cpu_ms_per_request": None if server is None or server_after is None
            else 1000 * (server_after - server) / total}


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


def one_round(args: argparse.Namespace, levels: list[int]) -> dict:
    limit = in_process(args.requests // 2)
    batched = in_process(args.requests // (2 * BATCH_ROWS), rows=BATCH_ROWS)
    port = free_port()
    server = start_server(port, args.workers, args.threads)
    try:
        runs = [measured_load(port, server.pid, args.requests, c) for c in levels]
        big = big_request(port)
    finally:
        server.terminate()
        server.wait(timeout=30)
    for run in runs:
        run["share_of_in_process_rps"] = run["rps"] / limit["rps"]
    return {"load_average": os.getloadavg(), "in_process": limit, "in_process_8_rows": batched,
            "loopback": runs, "rows_10000": big}


def median_of(rounds: list[dict], pick, field: str) -> float:
    return statistics.median(pick(r)[field] for r in rounds)


def report(rounds: list[dict], levels: list[int]) -> None:
    print("| case | requests/s | p50 ms | p99 ms | share of in-process rps | "
          "client / server CPU ms per request |\n|---|---|---|---|---|---|")
    for name, key in [("in process, 1 row per call", "in_process"),
                      (f"in process, {BATCH_ROWS} rows per call", "in_process_8_rows")]:
        pick = lambda r, key=key: r[key]
        share = statistics.median(r[key]["rps"] / r["in_process"]["rps"] for r in rounds)
        print(f"| {name} | {median_of(rounds, pick, 'rps'):.1f} | {median_of(rounds, pick, 'p50_ms'):.1f} "
              f"| {median_of(rounds, pick, 'p99_ms'):.1f} | {100 * share:.0f}% | |")
    for i, level in enumerate(levels):
        pick = lambda r, i=i: r["loopback"][i]
        cpu = [median_of(rounds, pick, f) if all(pick(r)[f] is not None for r in rounds) else float("nan")
               for f in ("client_cpu_ms_per_request", "server_cpu_ms_per_request")]
        print(f"| loopback, concurrency {level} | {median_of(rounds, pick, 'rps'):.1f} | "
              f"{median_of(rounds, pick, 'p50_ms'):.1f} | {median_of(rounds, pick, 'p99_ms'):.1f} | "
              f"{100 * median_of(rounds, pick, 'share_of_in_process_rps'):.0f}% | "
              f"{cpu[0]:.2f} / {cpu[1]:.2f} |")
    big = [r["rows_10000"] for r in rounds]
    print(f"\none request of {big[0]['rows']} rows ({big[0]['bytes']} bytes): median of the rounds' "
          f"best {statistics.median(b['best_s'] for b in big):.2f} s")
    loads = ", ".join(f"{r['load_average'][0]:.2f}" for r in rounds)
    print(f"rounds: {len(rounds)}; 1-minute load average at the start of each: {loads}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=800, help="per concurrency level and round")
    parser.add_argument("--concurrency", default="1,8,32")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=None,
                        help="default: the server's own (the CPU count)")
    parser.add_argument("--threads", type=int, default=8, help="per worker")
    args = parser.parse_args()
    levels = [int(c) for c in args.concurrency.split(",")]
    rounds = [one_round(args, levels) for _ in range(args.rounds)]
    results = {"cpus": os.cpu_count(), "workers": args.workers, "threads": args.threads,
               "requests": args.requests, "rounds": rounds}
    out = REPO / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "endpoint_load.json").write_text(json.dumps(results, indent=2))
    report(rounds, levels)


if __name__ == "__main__":
    main()
