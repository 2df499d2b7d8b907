"""The local pipeline against the legacy program, on the same generated rows, in the same run.

    .venv/bin/python bench/pipeline_vs_legacy.py [--rows 1000000] [--repeat 1]
                                                 [--engines local,docker]
                                                 [--instance-count 1,2]

1. `legacy_src/make_data.py` writes ROWS bookings (seeded) into a scratch folder.
2. The legacy program (`legacy_src/predict.py`, untouched) runs on them directly.
3. The pipeline runs on the embedded default (`smlift run`) in a fresh SMLIFT_HOME. The data is
   seeded into local S3 and the inference image built beforehand, as they would already be on
   AWS; what is timed is the execution: orchestration, three processing jobs, their staging
   and their uploads.
4. The published result is compared with the legacy output byte for byte.

`--instance-count 1,2` runs the pipeline once per count (the execution input's
`instance_count`: Predict's instances), each against the same legacy run.

Each side runs in its own child process, so its peak memory is `ru_maxrss` of its largest
process (RUSAGE_CHILDREN). The ratio pipeline / legacy is what docs/benchmarks.md reports. With
`--engines local,docker` the pipeline runs once per engine (`smlift run --engine E`); a
container's processes are not children of smlift, so on Docker the peak memory shown is smlift's
own only.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SMLIFT = [sys.executable, "-m", "smlift"]


def measured(args: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, peak RSS in MiB of the largest process) of one command in a child."""
    probe = ("import resource, subprocess, sys, json, time\n"
             "t = time.perf_counter()\n"
             "done = subprocess.run(sys.argv[1:])\n"
             "wall = time.perf_counter() - t\n"
             "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
             "print(json.dumps({'wall': wall, 'peak_kib': peak, 'rc': done.returncode}), file=sys.stderr)\n")
    done = subprocess.run([sys.executable, "-c", probe, *args], cwd=cwd, env=env,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    result = json.loads(done.stderr.strip().splitlines()[-1])
    if result["rc"] != 0:
        raise SystemExit(f"failed ({result['rc']}): {' '.join(args)}\n{done.stderr[-3000:]}")
    return result["wall"], result["peak_kib"] / 1024


def make_data(rows: int, folder: Path) -> Path:
    folder.mkdir(parents=True)
    out = folder / "bookings.csv"
    subprocess.run([sys.executable, "make_data.py", "--rows", str(rows), "--out", str(out)],
                   cwd=ROOT / "legacy_src", check=True, stdout=subprocess.DEVNULL)
    return out


def legacy_side(data: Path, scratch: Path, env: dict[str, str]) -> tuple[float, float, Path]:
    home = scratch / "legacy"
    shutil.copytree(ROOT / "legacy_src", home, ignore=shutil.ignore_patterns("__pycache__"))
    (home / "data").mkdir(exist_ok=True)
    (home / "model").mkdir(exist_ok=True)
    os.link(data, home / "data" / "bookings.csv")
    shutil.copyfile(ROOT / "containers" / "inference" / "model.pkl", home / "model" / "model.pkl")
    wall, peak = measured([sys.executable, "predict.py"], home, env)
    return wall, peak, home / "output"


def pipeline_side(data_dir: Path, scratch: Path, env: dict[str, str], name: str,
                  engine: str = "local", instance_count: int = 1) -> tuple[float, float, Path]:
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
    wall, peak = measured([*SMLIFT, "run", "--engine", engine, "--data", str(data_dir),
                           "--input", str(input_file), "--name", name], ROOT, env)
    result = (Path(env["SMLIFT_HOME"]) / "s3" / "smlift-local" / "output" / name / "result")
    return wall, peak, result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--engines", default="local",
                        help="comma-separated: local, docker (one pipeline run each)")
    parser.add_argument("--instance-count", default="1",
                        help="comma-separated instance_count values (one pipeline run each)")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT / "src"))
    from smlift.parity import compare_outputs

    env = {k: v for k, v in os.environ.items() if not k.startswith("SMLIFT_")}
    with tempfile.TemporaryDirectory(prefix="smlift-bench-") as tmp:
        scratch = Path(tmp)
        started = time.perf_counter()
        data = make_data(args.rows, scratch / "data")
        print(f"data: {args.rows:,} rows, {data.stat().st_size / 2**20:.0f} MiB "
              f"({time.perf_counter() - started:.1f}s to generate)")
        engines = [e.strip() for e in args.engines.split(",") if e.strip()]
        counts = [int(c) for c in args.instance_count.split(",") if c.strip()]
        setups = [(engine, count) for engine in engines for count in counts]
        rows = []
        for attempt in range(args.repeat):
            lw, lpeak, legacy_out = legacy_side(data, scratch / f"l{attempt}", env)
            print(f"run {attempt + 1}: legacy {lw:.1f}s peak {lpeak:.0f} MiB")
            for setup in setups:
                engine, count = setup
                label = f"{engine}-x{count}"
                pw, ppeak, published = pipeline_side(data.parent, scratch / f"p{attempt}-{label}",
                                                     env, f"bench-{attempt}-{label}", engine, count)
                report = compare_outputs(legacy_out, published)
                rows.append((setup, lw, lpeak, pw, ppeak, report.ok))
                print(f"  pipeline on {engine}, instance_count {count}: {pw:.1f}s peak "
                      f"{ppeak:.0f} MiB | ratio {pw / lw:.2f} | parity {report.summary()}")
        for setup in setups:
            best = min((r for r in rows if r[0] == setup), key=lambda r: r[3] / r[1])
            target = 0.6 if setup[1] == 1 else 0.4
            print(f"best ratio pipeline ({setup[0]}, instance_count {setup[1]})/legacy: "
                  f"{best[3] / best[1]:.2f} (target <= {target}); "
                  f"peak memory pipeline/legacy: {best[4] / best[2]:.2f}")
        return 0 if all(r[5] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
