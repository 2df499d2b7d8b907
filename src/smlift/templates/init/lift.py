"""The lift: run the legacy program unchanged inside a SageMaker Processing job.

smlift init wrote this file and lift.json beside it; the image (containers/lift/Dockerfile)
carries both and a copy of the legacy program in /opt/program/program/. In the job:

  1. the program is copied to a scratch folder (its relative paths then work as on a desktop);
  2. the job's input (/opt/ml/processing/input/data) is staged where the program reads it;
  3. its command runs, unchanged;
  4. each declared result file is published to /opt/ml/processing/output under its name.

`smlift parity` runs this same file on this machine with --input-dir and --output-dir.
"""

import argparse
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
SPEC = json.loads((HERE / "lift.json").read_text())


def stage_input(source: Path, target: Path, is_file: bool) -> None:
    if is_file:
        files = sorted(p for p in source.rglob("*") if p.is_file())
        if len(files) != 1:
            fail(f"the legacy program reads one file ({SPEC['input']}); the input has {len(files)}")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(files[0], target)
    else:
        shutil.copytree(source, target, dirs_exist_ok=True)


def fail(message: str, code: int = 1) -> None:
    print(message, file=sys.stderr)
    path = os.environ.get("SM_OUTPUT_MESSAGE", "/opt/ml/output/message")
    try:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(message)
    except OSError:
        pass
    sys.exit(code)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input-dir", type=Path, default=Path("/opt/ml/processing/input/data"))
    parser.add_argument("--output-dir", type=Path, default=Path("/opt/ml/processing/output"))
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="lift-"))
    shutil.copytree(HERE / "program", work, dirs_exist_ok=True)
    stage_input(args.input_dir, work / SPEC["input"], SPEC["input_is_file"])
    command = shlex.split(SPEC["command"])
    if command[0] in ("python", "python3"):
        command[0] = sys.executable
    done = subprocess.run(command, cwd=work)
    if done.returncode != 0:
        fail(f"the legacy program failed: {SPEC['command']} exited {done.returncode}")
    args.output_dir.mkdir(parents=True, exist_ok=True)
    for relative in SPEC["results"]:
        if not (work / relative).is_file():
            fail(f"the legacy program did not write {relative}")
        shutil.copyfile(work / relative, args.output_dir / Path(relative).name)
    print(f"lift: published {len(SPEC['results'])} result file(s) to {args.output_dir}")


if __name__ == "__main__":
    main()
