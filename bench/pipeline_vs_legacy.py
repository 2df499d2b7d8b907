"""The local pipeline against the legacy program: the scaling curve, on the same generated rows,
in the same run, on the same machine.

    .venv/bin/python bench/pipeline_vs_legacy.py [--rows 100000,1000000,10000000]
                                                 [--instance-count 1,2] [--engines local]
                                                 [--repeat 1] [--legacy-memory-cap-gib 12]
                                                 [--batch-rows N] [--json FILE]

For each size in `--rows`:
1. The project's data generator (`smlift data make`: legacy_src/make_data.py, in batches of
   `[data] batch_rows`, or `--batch-rows`) writes ROWS bookings (seeded) into a scratch folder.
2. The legacy program (`legacy_src/predict.py`, untouched) runs on them, under a memory cap
   (RLIMIT_AS, `--legacy-memory-cap-gib`, default 12 GiB) so that a size it cannot hold makes
   it fail instead of taking the machine down: then it "could not finish", and that size has
   no parity to check.
3. The pipeline runs on the embedded default (`smlift run --engine E`) in a fresh SMLIFT_HOME,
   once per engine and `instance_count`. The data is seeded into local S3 and the inference
   image built beforehand, as they would already be on AWS; what is timed is the execution:
   orchestration, four processing jobs, their staging and their uploads.
4. The published result (its parts read in key order) is compared with the legacy output byte
   for byte, wherever the legacy program finished.

Memory: the legacy program's peak is `ru_maxrss` of its process (RUSAGE_CHILDREN of a small
probe). Each job's peak is what smlift records per instance (`SmliftLocal.PeakMemoryBytes`:
the largest VmHWM of the instance's processes on smlift's runner, sampled; the container's
resident memory on Docker, sampled; docs/local.md); the table shows, per job, the largest of
its instances. The issue's target is <= 1 GiB per instance at 10,000,000 rows.

The ratio pipeline / legacy at 1,000,000 rows is what docs/benchmarks.md reports (targets 0.6
with instance_count 1, 0.4 with 2). `--json FILE` writes every measurement.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SMLIFT = [sys.executable, "-m", "smlift"]
RESULTS = ["predictions.csv", "segment_summary.csv"]
STEPS = ("preprocess", "predict", "postprocess", "summarize")
GIB = 2**30

PROBE = """\
import json, resource, subprocess, sys, time
cap = int(sys.argv[1])
if cap:
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))  # inherited by the command
t = time.perf_counter()
done = subprocess.run(sys.argv[2:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
wall = time.perf_counter() - t
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
tail = done.stderr.decode(errors="replace")[-2000:]
print(json.dumps({"wall": wall, "peak_kib": peak, "rc": done.returncode, "tail": tail}),
      file=sys.stderr)
"""


@dataclass
class Side:
    """One measured run: wall seconds, peak MiB of its largest process, how it ended."""

    wall: float
    peak_mib: float
    ok: bool
    tail: str = ""


def measured(args: list[str], cwd: Path, env: dict[str, str], cap_bytes: int = 0) -> Side:
    done = subprocess.run([sys.executable, "-c", PROBE, str(cap_bytes), *args], cwd=cwd, env=env,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    result = json.loads(done.stderr.strip().splitlines()[-1])
    return Side(result["wall"], result["peak_kib"] / 1024, result["rc"] == 0, result["tail"])


def make_data(rows: int, folder: Path, batch_rows: int | None) -> Path:
    from smlift.datagen import make_data as generate
    from smlift.project import read_project

    project = read_project(ROOT)
    if batch_rows:
        maker = project.file.data.model_copy(update={"batch_rows": batch_rows})
        project = replace(project, file=project.file.model_copy(update={"data": maker}))
    return generate(project, rows, folder, seed=1)


def legacy_side(data: Path, scratch: Path, env: dict[str, str], cap_gib: float) -> tuple[Side, Path]:
    home = scratch / "legacy"
    shutil.copytree(ROOT / "legacy_src", home, ignore=shutil.ignore_patterns("__pycache__"))
    (home / "data").mkdir(exist_ok=True)
    (home / "model").mkdir(exist_ok=True)
    os.link(data, home / "data" / "bookings.csv")
    shutil.copyfile(ROOT / "containers" / "inference" / "model.pkl", home / "model" / "model.pkl")
    side = measured([sys.executable, "predict.py"], home, env, int(cap_gib * GIB))
    return side, home / "output"


@dataclass
class Pipeline:
    engine: str
    instance_count: int
    side: Side
    jobs: dict = field(default_factory=dict)  # step -> {"seconds": s, "peak_mib": {host: MiB}}
    parity: str = ""
    identical: bool | None = None


def pipeline_side(data_dir: Path, scratch: Path, env: dict[str, str], name: str,
                  engine: str, instance_count: int) -> tuple[Pipeline, Path]:
    env = {**env, "SMLIFT_HOME": str(scratch / "smlift-home")}
    run_input = json.loads((ROOT / "examples" / "input.local.json").read_text())
    run_input["instance_count"] = instance_count
    scratch.mkdir(parents=True, exist_ok=True)
    input_file = scratch / "input.json"
    input_file.write_text(json.dumps(run_input))
    # Seed local S3 and build the image first: on AWS both are there before an execution starts.
    for folder, uri in ((data_dir, run_input["input_uri"]), (ROOT / "scripts", run_input["code_uri"])):
        subprocess.run([*SMLIFT, "s3", "sync", str(folder), uri], cwd=ROOT, env=env, check=True,
                       stdout=subprocess.DEVNULL)
    subprocess.run([*SMLIFT, "build", "containers/inference", "--engine", engine, "--tag",
                    run_input["custom_image_uri"]], cwd=ROOT, env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if engine == "docker":  # the prebuilt image's look-alike exists before an execution, too
        subprocess.run([*SMLIFT, "images", "build-sklearn"], cwd=ROOT, env=env, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    side = measured([*SMLIFT, "run", "--engine", engine, "--data", str(data_dir),
                     "--input", str(input_file), "--name", name], ROOT, env)
    result = Path(env["SMLIFT_HOME"]) / "s3" / "smlift-local" / "output" / name / "result"
    return Pipeline(engine, instance_count, side, job_records(Path(env["SMLIFT_HOME"]))), result


def job_records(home: Path) -> dict:
    """Per step: the job's seconds (start to end) and each instance's peak memory in MiB."""
    from smlift.processing.service import LocalProcessing

    jobs = LocalProcessing(home)
    found = {}
    for summary in jobs.list_processing_jobs()["ProcessingJobSummaries"]:
        described = jobs.job_description(summary["ProcessingJobName"])
        step = next((s for s in STEPS if summary["ProcessingJobName"].startswith(f"smlift-{s}-")),
                    summary["ProcessingJobName"])
        seconds = (described.get("ProcessingEndTime") or 0) - (
            described.get("ProcessingStartTime") or 0)
        peaks = described.get("SmliftLocal", {}).get("PeakMemoryBytes", {})
        found[step] = {"seconds": round(seconds, 2),
                       "peak_mib": {host: round(b / 2**20) for host, b in sorted(peaks.items())}}
    return dict(sorted(found.items(), key=lambda item: STEPS.index(item[0])
                       if item[0] in STEPS else len(STEPS)))


def compare(legacy_out: Path, published: Path) -> tuple[bool, str]:
    from smlift.parity import compare_outputs

    report = compare_outputs(legacy_out, published, RESULTS)
    return report.ok, report.summary()


def run_size(rows: int, args, scratch: Path, env: dict[str, str]) -> dict:
    started = time.perf_counter()
    data = make_data(rows, scratch / "data", args.batch_rows)
    print(f"\n== {rows:,} rows: {data.stat().st_size / 2**20:.0f} MiB of CSV "
          f"({time.perf_counter() - started:.1f}s to generate)", flush=True)
    setups = [(e, c) for e in args.engines for c in args.instance_count]
    runs = []
    for attempt in range(args.repeat):
        legacy, legacy_out = legacy_side(data, scratch / f"l{attempt}", env, args.legacy_memory_cap_gib)
        if legacy.ok:
            print(f"run {attempt + 1}: legacy {legacy.wall:.1f}s peak {legacy.peak_mib:.0f} MiB",
                  flush=True)
        else:
            print(f"run {attempt + 1}: legacy could not finish under a "
                  f"{args.legacy_memory_cap_gib:g} GiB cap after {legacy.wall:.1f}s (peak "
                  f"{legacy.peak_mib:.0f} MiB): {legacy.tail.strip().splitlines()[-1:]}", flush=True)
        for engine, count in setups:
            label = f"{engine}-x{count}"
            pipeline, published = pipeline_side(data.parent, scratch / f"p{attempt}-{label}", env,
                                                f"bench-{attempt}-{label}", engine, count)
            if pipeline.side.ok and legacy.ok:
                pipeline.identical, pipeline.parity = compare(legacy_out, published)
            elif not pipeline.side.ok:
                pipeline.parity = "pipeline failed: " + pipeline.side.tail.strip()[-300:]
            else:
                pipeline.parity = "no legacy output to compare"
            ratio = f"ratio {pipeline.side.wall / legacy.wall:.2f}" if legacy.ok else "ratio n/a"
            print(f"  pipeline {engine} instance_count {count}: {pipeline.side.wall:.1f}s | "
                  f"{ratio} | {pipeline.parity}", flush=True)
            for step, job in pipeline.jobs.items():
                peaks = ", ".join(f"{h} {m} MiB" for h, m in job["peak_mib"].items())
                print(f"    {step:<12} {job['seconds']:6.1f}s  peak {peaks}", flush=True)
            runs.append({"attempt": attempt, "legacy": asdict(legacy), **asdict(pipeline)})
            shutil.rmtree(scratch / f"p{attempt}-{label}", ignore_errors=True)
        shutil.rmtree(scratch / f"l{attempt}", ignore_errors=True)
    shutil.rmtree(scratch / "data", ignore_errors=True)
    return {"rows": rows, "runs": runs}


def summary(results: list[dict]) -> list[str]:
    """One line per size and setup: best ratio, parity, largest job peak per instance."""
    lines = ["", "rows | setup | legacy s (peak MiB) | pipeline s | ratio | parity | largest job peak per instance"]
    for size in results:
        for run in size["runs"]:
            legacy = run["legacy"]
            legacy_text = (f"{legacy['wall']:.1f} ({legacy['peak_mib']:.0f})" if legacy["ok"]
                           else f"could not finish (peak {legacy['peak_mib']:.0f})")
            ratio = f"{run['side']['wall'] / legacy['wall']:.2f}" if legacy["ok"] else "n/a"
            peaks = [m for job in run["jobs"].values() for m in job["peak_mib"].values()]
            parity = {True: "identical", False: "DIFFERENT", None: "n/a"}[run["identical"]]
            lines.append(f"{size['rows']:,} | {run['engine']} x{run['instance_count']} | "
                         f"{legacy_text} | {run['side']['wall']:.1f} | {ratio} | {parity} | "
                         f"{max(peaks) if peaks else '?'} MiB")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default="100000,1000000,10000000",
                        help="comma-separated sizes (default: the issue's curve)")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--engines", default="local",
                        help="comma-separated: local, docker (one pipeline run each)")
    parser.add_argument("--instance-count", default="1,2",
                        help="comma-separated instance_count values (one pipeline run each)")
    parser.add_argument("--legacy-memory-cap-gib", type=float, default=12.0,
                        help="address-space cap of the legacy program (0: none)")
    parser.add_argument("--batch-rows", type=int, default=None,
                        help="generate the data in batches of this many rows (default: the "
                             "project file's [data] batch_rows)")
    parser.add_argument("--json", type=Path, default=None, help="write every measurement here")
    args = parser.parse_args(argv)
    args.engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    args.instance_count = [int(c) for c in args.instance_count.split(",") if c.strip()]
    sizes = [int(r.replace("_", "")) for r in args.rows.split(",") if r.strip()]
    sys.path.insert(0, str(ROOT / "src"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMLIFT_")}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT / "src"), env.get("PYTHONPATH")) if p)
    results = []
    with tempfile.TemporaryDirectory(prefix="smlift-bench-") as tmp:
        for rows in sizes:
            results.append(run_size(rows, args, Path(tmp) / f"rows-{rows}", env))
    print("\n".join(summary(results)))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    finished = [run for size in results for run in size["runs"]]
    return 0 if all(run["side"]["ok"] and run["identical"] is not False for run in finished) else 1


if __name__ == "__main__":
    sys.exit(main())
