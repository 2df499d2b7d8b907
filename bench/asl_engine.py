"""Benchmark: smlift's States Language engine against moto's executing mode, in one run.

    .venv/bin/python bench/asl_engine.py            # everything (moto's 10,000-item Map is slow)
    .venv/bin/python bench/asl_engine.py --quick    # smaller Map for moto, fewer repeats

Workloads (the same definitions on both engines):
- `single`:  one Pass state: the fixed cost of an execution (start, history, end).
- `chain`:   1,000 Pass states in a row. Per-transition overhead = (chain - single) / 999.
Definitions are loaded and validated before the clock starts (moto's CreateStateMachine is
outside its timing too). Wall time and this process's CPU time are both printed: on a loaded
machine the CPU time says what the engine costs.
- `map`:     an inline Map over 10,000 items, each iteration one Pass state.

smlift runs with its SQLite store (history persisted, as `smlift execute` does) and without
(engine only). moto runs in `mock_aws(config={"stepfunctions": {"execute_state_machine": True}})`:
start_execution, then describe_execution every 10 ms until the status leaves RUNNING. Each
smlift figure is the best of `--repeat` runs; moto runs once per workload (it is slow). The
machine's load average is printed too: other processes on a 2-core machine skew every number.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from smlift.asl.definition import load_definition  # noqa: E402
from smlift.asl.engine import run_execution  # noqa: E402
from smlift.asl.tasks import TaskRegistry  # noqa: E402
from smlift.local.store import Store  # noqa: E402


def chain(length: int) -> dict:
    states = {f"S{i}": {"Type": "Pass", "Next": f"S{i + 1}"} for i in range(length - 1)}
    states[f"S{length - 1}"] = {"Type": "Pass", "End": True}
    return {"StartAt": "S0", "States": states}


MAP = {"StartAt": "M", "States": {"M": {
    "Type": "Map", "ItemProcessor": {"ProcessorConfig": {"Mode": "INLINE"}, "StartAt": "P",
                                     "States": {"P": {"Type": "Pass", "End": True}}},
    "End": True}}}


def workloads(map_items: int) -> dict:
    return {"single": (chain(1), {}), "chain": (chain(1000), {}),
            "map": (MAP, list(range(map_items)))}


def time_smlift(definition, input_, *, store, repeat: int) -> tuple[float, float]:
    """Best (wall, CPU) seconds of `repeat` runs. The definition is loaded and validated
    beforehand, as CreateStateMachine does before moto's clock starts too."""
    machine = load_definition(definition, TaskRegistry())
    best, best_cpu = float("inf"), float("inf")
    for _ in range(repeat):
        started, cpu = time.perf_counter(), time.process_time()
        result = run_execution(machine, input_, store=store, tasks=TaskRegistry())
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        assert result.status == "SUCCEEDED", result.summary()
        best, best_cpu = min(best, elapsed), min(best_cpu, cpu)
    return best, best_cpu


def time_moto(definition, input_, timeout: float) -> float | None:
    """Seconds from start_execution to a terminal status in moto (None: over `timeout`)."""
    import boto3
    from moto import mock_aws

    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        client = boto3.client("stepfunctions", region_name="us-east-1")
        arn = client.create_state_machine(
            name="bench", definition=json.dumps(definition),
            roleArn="arn:aws:iam::123456789012:role/bench")["stateMachineArn"]
        started = time.perf_counter()
        execution = client.start_execution(stateMachineArn=arn,
                                           input=json.dumps(input_))["executionArn"]
        while time.perf_counter() - started < timeout:
            status = client.describe_execution(executionArn=execution)["status"]
            if status != "RUNNING":
                assert status == "SUCCEEDED", status
                return time.perf_counter() - started
            time.sleep(0.01)
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="moto's Map over 1,000 items instead of 10,000; 2 repeats")
    parser.add_argument("--repeat", type=int, default=5, help="smlift runs per workload")
    parser.add_argument("--moto-timeout", type=float, default=600.0)
    parser.add_argument("--skip-moto", action="store_true")
    args = parser.parse_args()
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        os.environ.setdefault(name, "testing")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    repeat = 2 if args.quick else args.repeat

    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.2f} at start")
    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "bench.db")
        for name, (definition, input_) in workloads(10_000).items():
            store_wall, store_cpu = time_smlift(definition, input_, store=store, repeat=repeat)
            memory_wall, memory_cpu = time_smlift(definition, input_, store=None, repeat=repeat)
            rows[name] = {"smlift_store": store_wall, "smlift_memory": memory_wall,
                          "cpu_store": store_cpu, "cpu_memory": memory_cpu}
    if not args.skip_moto:
        moto_map_items = 1_000 if args.quick else 10_000
        for name, (definition, input_) in workloads(moto_map_items).items():
            seconds = time_moto(definition, input_, args.moto_timeout)
            if seconds is not None and name == "map" and moto_map_items != 10_000:
                seconds *= 10_000 / moto_map_items  # extrapolated, said below
            rows[name]["moto"] = seconds
        rows["map"]["moto_note"] = ("extrapolated from 1,000 items" if args.quick
                                    else "measured")
    report(rows, args)


def _fmt(seconds: float | None) -> str:
    return "n/a" if seconds is None else f"{seconds:.4f} s"


def report(rows: dict, args) -> None:
    print(f"\n{'workload':<26}{'smlift (store)':>15}{'(memory)':>12}{'CPU store':>12}"
          f"{'CPU mem':>12}{'moto':>13}{'ratio':>9}")
    for name, label in (("single", "1 Pass state"), ("chain", "1,000 Pass states"),
                        ("map", "Map over 10,000 items")):
        row = rows[name]
        moto = row.get("moto")
        ratio = f"{moto / row['smlift_store']:7.1f}x" if moto else "    n/a"
        print(f"{label:<26}{_fmt(row['smlift_store']):>15}{_fmt(row['smlift_memory']):>12}"
              f"{_fmt(row['cpu_store']):>12}{_fmt(row['cpu_memory']):>12}{_fmt(moto):>13}"
              f"{ratio:>9}")
    per = {key: (rows["chain"][key] - rows["single"][key]) / 999
           for key in ("smlift_store", "smlift_memory", "moto")
           if rows["chain"].get(key) is not None and rows["single"].get(key) is not None}
    line = (f"\nper transition: smlift {per['smlift_store'] * 1e6:.1f} us with the store, "
            f"{per['smlift_memory'] * 1e6:.1f} us engine only")
    if "moto" in per:
        line += (f"; moto {per['moto'] * 1e6:.0f} us; ratio "
                 f"{per['moto'] / per['smlift_store']:.0f}x")
    print(line)
    if "moto_note" in rows["map"]:
        print(f"moto Map figure: {rows['map']['moto_note']}")
    target = rows["map"]["smlift_store"]
    print(f"10,000-item Map target (< 2 s wall, history persisted): "
          f"{'met' if target < 2 else 'MISSED'} ({target:.2f} s wall, "
          f"{rows['map']['cpu_store']:.2f} s CPU)")
    print(f"load average {os.getloadavg()[0]:.2f} at end")


if __name__ == "__main__":
    main()
