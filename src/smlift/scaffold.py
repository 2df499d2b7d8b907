"""`smlift init`: start a migration of any legacy program, lift first, then split.

    plan_init(...)   -> {relative path: bytes or a source file}: everything the project holds
    init_project(...) -> the paths written (refusing to overwrite any existing file);
                         `dry_run=True`: the paths it would write, and nothing written

The lift runs the program unchanged: one Processing job in a custom image
(`containers/lift/`: the program copied to /opt/program/program/, `lift.py` staging the data
where the program reads it and publishing its result files), so `smlift run --parity` is green
on day one for any program that reads and writes through relative paths. Beside it, the split:
skeletons of the three steps with the /opt/ml/processing contract and TODOs, the three-step
definition (`statemachine/split.asl.json`), and `smlift.toml` saying which one runs. The
templates ship in the package (`smlift/templates/init/`).
"""

from __future__ import annotations

import ast
import importlib.metadata
import json
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from . import layout
from .errors import InputError

TEMPLATES = Path(__file__).parent / "templates" / "init"
LIFT = Path("containers/lift")
SKIP = {"__pycache__", ".git", ".venv", ".smlift", ".ipynb_checkpoints"}


@dataclass(frozen=True)
class InitRequest:
    target: Path
    legacy: Path
    command: str
    data: str
    results: tuple[str, ...]
    requirements: Path | None = None


def init_project(request: InitRequest, *, dry_run: bool = False) -> list[Path]:
    """Write the project; an InputError before anything is written when a file exists.
    With `dry_run`, the same checks, and the paths it would write: nothing is written."""
    plan = plan_init(request)
    existing = [rel for rel in plan if (request.target / rel).exists()]
    if existing:
        raise InputError(f"{len(existing)} file(s) already exist, e.g. {existing[0]}",
                         where=str(request.target),
                         fix="choose a new DIR (smlift init never overwrites)")
    if dry_run:
        return sorted(Path(rel) for rel in plan)
    for rel, content in plan.items():
        path = request.target / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else Path(content).read_bytes())
    return sorted(Path(rel) for rel in plan)


def plan_init(request: InitRequest) -> dict[str, bytes | Path]:
    legacy = _check(request)
    program = _program_files(legacy)
    data = legacy / request.data
    requirements = (Path(request.requirements).read_bytes() if request.requirements
                    else guess_requirements(legacy).encode())
    plan: dict[str, bytes | Path] = {}
    for rel, source in program.items():
        plan[f"{layout.LEGACY.as_posix()}/{rel}"] = source
        plan[f"{LIFT.as_posix()}/program/{rel}"] = source
    for rel, source in _data_files(data).items():
        plan[f"{layout.DATA.as_posix()}/{rel}"] = source
    spec = {"command": request.command, "input": request.data, "input_is_file": data.is_file(),
            "results": list(request.results)}
    plan.update({
        f"{LIFT.as_posix()}/lift.json": _json(spec),
        f"{LIFT.as_posix()}/lift.py": TEMPLATES / "lift.py",
        f"{LIFT.as_posix()}/Dockerfile": TEMPLATES / "Dockerfile.lift",
        f"{LIFT.as_posix()}/requirements.txt": requirements,
        f"{layout.IMAGE_CONTEXT.as_posix()}/Dockerfile": TEMPLATES / "Dockerfile.inference",
        f"{layout.IMAGE_CONTEXT.as_posix()}/predict.py": TEMPLATES / "predict.py",
        f"{layout.IMAGE_CONTEXT.as_posix()}/requirements.txt": requirements,
        f"{layout.SCRIPTS.as_posix()}/preprocessing.py": TEMPLATES / "preprocessing.py",
        f"{layout.SCRIPTS.as_posix()}/postprocessing.py": TEMPLATES / "postprocessing.py",
        layout.DEFINITION.as_posix(): TEMPLATES / "lift.asl.json",
        "statemachine/split.asl.json": TEMPLATES / "split.asl.json",
        layout.INPUT.as_posix(): _json(_aws_input()),
        layout.LOCAL_INPUT.as_posix(): _json(_local_input()),
        "tests/test_parity.py": TEMPLATES / "test_parity.py",
        "smlift.toml": project_file(request).encode(),
        ".gitignore": b".smlift/\n__pycache__/\n",
    })
    for policy in sorted(TEMPLATES.joinpath("iam").glob("*.json")):
        plan[f"{layout.IAM.as_posix()}/{policy.name}"] = policy
    return plan


def _check(request: InitRequest) -> Path:
    legacy = Path(request.legacy)
    if not legacy.is_dir():
        raise InputError("the legacy folder does not exist", where=str(legacy),
                         fix="pass --from the folder the program is run from")
    if not (legacy / request.data).exists():
        raise InputError("the input is not in the legacy folder", where=str(legacy / request.data),
                         fix="pass --data as a path relative to --from")
    for value in (request.data, *request.results):
        path = PurePosixPath(value)
        if path.is_absolute() or ".." in path.parts:
            raise InputError("must be a path relative to the legacy folder", where=value,
                             fix="the lift runs the program in a copy of its folder")
    if not request.results:
        raise InputError("no result files named", where="--results", fix="pass --results PATH")
    if not shlex.split(request.command):
        raise InputError("the command is empty", where="--command", fix='e.g. --command "python main.py"')
    if Path(request.target).resolve() == legacy.resolve():
        raise InputError("DIR is the legacy folder", where=str(request.target),
                         fix="start the project in a new folder")
    return legacy


def _program_files(legacy: Path) -> dict[str, Path]:
    """Every file of the legacy folder (its data too: the program is copied untouched)."""
    return {p.relative_to(legacy).as_posix(): p for p in sorted(legacy.rglob("*"))
            if p.is_file() and not SKIP & set(p.relative_to(legacy).parts)}


def _data_files(data: Path) -> dict[str, Path]:
    if data.is_file():
        return {data.name: data}
    return {p.relative_to(data).as_posix(): p for p in sorted(data.rglob("*")) if p.is_file()}


def project_file(request: InitRequest) -> str:
    results = ", ".join(json.dumps(r) for r in request.results)
    return f"""# The project file (docs/migrating.md). smlift init wrote it; every smlift command finds
# it by walking up from the working directory.

[legacy]
command = {json.dumps(request.command)}
folder = "{layout.LEGACY.as_posix()}"
input = {json.dumps(request.data)}
results = [{results}]

[paths]
data = "{layout.DATA.as_posix()}"
scripts = "{layout.SCRIPTS.as_posix()}"
# The lift runs now. To switch to the split pipeline, once its steps are filled in:
#   image_context = "containers/inference"
#   definition = "statemachine/split.asl.json"
# and set custom_image_uri in examples/input.local.json to "smlift-inference:latest".
image_context = "{LIFT.as_posix()}"
definition = "{layout.DEFINITION.as_posix()}"
input = "{layout.INPUT.as_posix()}"
local_input = "{layout.LOCAL_INPUT.as_posix()}"

# What `smlift parity` runs here, in order, each step with --input-dir and --output-dir.
# After the split: preprocessing (scripts/), predict (containers/inference/), postprocessing.
[[parity.steps]]
name = "lift"
script = "{LIFT.as_posix()}/lift.py"

# Per result file and column, numeric tolerances (exact when absent):
# [parity.tolerances."{PurePosixPath(request.results[0]).name}"]
# score = {{rtol = 1e-9, atol = 0}}
"""


def guess_requirements(legacy: Path) -> str:
    """Pins for what the program imports, from this environment's installed versions."""
    modules = set()
    local = {p.stem for p in legacy.rglob("*.py")} | {p.name for p in legacy.iterdir() if p.is_dir()}
    for path in legacy.rglob("*.py"):
        try:
            tree = ast.parse(path.read_text(errors="replace"))
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                modules.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                modules.add(node.module.split(".")[0])
    distributions = importlib.metadata.packages_distributions()
    pins = set()
    for module in sorted(modules - local - set(sys.stdlib_module_names)):
        for dist in distributions.get(module, []):
            pins.add(f"{dist}=={importlib.metadata.version(dist)}")
    header = "# What the legacy program imports, pinned to this environment's versions (smlift init).\n"
    return header + "".join(f"{pin}\n" for pin in sorted(pins, key=str.lower))


def _json(value: dict) -> bytes:
    return (json.dumps(value, indent=2) + "\n").encode()


def _local_input() -> dict:
    return {"input_uri": "s3://smlift-local/input/", "output_uri": "s3://smlift-local/output/",
            "code_uri": "s3://smlift-local/code/", "custom_image_uri": "smlift-lift:latest",
            "scikit_image_uri": "683313688378.dkr.ecr.us-east-1.amazonaws.com/"
                                "sagemaker-scikit-learn:1.4-2-cpu-py3",
            "role": "arn:aws:iam::123456789012:role/smlift-sagemaker"}


def _aws_input() -> dict:
    return {"input_uri": "s3://your-bucket-name/smlift/input/",
            "output_uri": "s3://your-bucket-name/smlift/output/",
            "code_uri": "s3://your-bucket-name/smlift/code/",
            "custom_image_uri": "111122223333.dkr.ecr.us-east-1.amazonaws.com/smlift-lift:latest",
            "scikit_image_uri": "683313688378.dkr.ecr.us-east-1.amazonaws.com/"
                                "sagemaker-scikit-learn:1.4-2-cpu-py3",
            "role": "arn:aws:iam::111122223333:role/smlift-sagemaker"}
