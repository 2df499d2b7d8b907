"""The project file: what a migration is made of, read from `smlift.toml` at the project root.

A project is a folder with an `smlift.toml` (or a `pyproject.toml` with a `[tool.smlift]` table).
Every command finds it by walking up from the working directory, as git finds `.git`:

    [legacy]                        the untouched legacy program
    command = "python predict.py"   how it is run, from its folder (`python` is smlift's Python)
    folder = "legacy_src"           its folder, relative to the root
    input = "data/bookings.csv"     where it reads its input (a file or a folder), relative to folder
    results = ["output/predictions.csv", "output/segment_summary.csv"]   what it writes
    [legacy.files]                  other files it reads, staged beside it: its path = project path
    "model/model.pkl" = "containers/inference/model.pkl"

    [paths]                         the pipeline's parts (defaults: `smlift.layout`)
    data = "examples/data"          ... scripts, image_context, definition, input, local_input, iam

    [data]                          how to make more input data (`smlift data make --rows N`)
    command = "python make_data.py --rows {rows} --out {out}"   run in `folder`; {rows}, {out}
    folder = "legacy_src"           (the file to write) and {seed} are filled in
    file = "bookings.csv"           the file's name in the data folder
    batch_rows = 1000000            more rows are made in batches (seed, seed+1, ...), each
                                    appended without its header line (a CSV generator)

    [[parity.steps]]                the migrated steps `smlift parity` runs on this machine, in
    name = "preprocessing"          order, each with --input-dir (the previous one's output, or
    script = "scripts/preprocessing.py"   `input`: a folder of the scratch folder, e.g.
                                    "preprocessing/parts") and --output-dir (the scratch
                                    folder's <name>/), then `args` ("{root}" is the root,
                                    "{work}" the scratch folder holding every step's output)
    [parity]
    results = ["postprocessing/results", "summarize"]   where the steps leave the result files
                                    (folders of the scratch folder; default: the last step's)
    [parity.tolerances."predictions.csv"]
    cancel_probability = {rtol = 1e-9, atol = 0}   per result file, per column

`load_project` returns a `Project`: the parsed file (a pydantic model, so a wrong key is one
line naming the key and the fix) with every path resolved against the root. `layout` keeps the
defaults; nothing else in smlift names a project path.
"""

from __future__ import annotations

import os
import shlex
import tomllib
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from . import layout
from .errors import InputError

PROJECT_FILE = "smlift.toml"
PYPROJECT = "pyproject.toml"
NOT_IN_PROJECT_FIX = ("cd into a project (a folder with smlift.toml), or start one: "
                      "smlift init DIR --from LEGACY_DIR --command CMD --data PATH --results PATH")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _relative(value: str) -> str:
    path = PurePosixPath(value)
    if not value or path.is_absolute() or ".." in path.parts:
        raise ValueError("must be a relative path inside the folder, without '..'")
    return value


class Legacy(_Model):
    command: str
    folder: str = str(layout.LEGACY)
    input: str
    results: list[str] = Field(min_length=1)
    files: dict[str, str] = {}

    @field_validator("folder", "input")
    @classmethod
    def _path(cls, value: str) -> str:
        return _relative(value)

    @field_validator("results")
    @classmethod
    def _results(cls, values: list[str]) -> list[str]:
        names = [PurePosixPath(_relative(v)).name for v in values]
        if len(set(names)) != len(names):
            raise ValueError("two result files share a file name; each is published by its name")
        return values


class Paths(_Model):
    data: str = str(layout.DATA)
    scripts: str = str(layout.SCRIPTS)
    containers: str = str(layout.CONTAINERS)
    image_context: str = str(layout.IMAGE_CONTEXT)
    definition: str = str(layout.DEFINITION)
    input: str = str(layout.INPUT)
    local_input: str = str(layout.LOCAL_INPUT)
    iam: str = str(layout.IAM)


class Step(_Model):
    name: str
    script: str
    args: list[str] = []
    input: str | None = None  # a folder of the scratch folder; default: the previous step's output

    @field_validator("input")
    @classmethod
    def _input(cls, value: str | None) -> str | None:
        return None if value is None else _relative(value)


class Tolerance(_Model):
    rtol: float = Field(default=0.0, ge=0)
    atol: float = Field(default=0.0, ge=0)


class Parity(_Model):
    steps: list[Step] = []
    results: list[str] = []  # folders of the scratch folder holding the result files
    tolerances: dict[str, dict[str, Tolerance]] = {}

    @field_validator("results")
    @classmethod
    def _results(cls, values: list[str]) -> list[str]:
        return [_relative(value) for value in values]


class DataMaker(_Model):
    """The project's data generator: `command` run in `folder`, writing `file`."""

    command: str
    folder: str = "."
    file: str
    batch_rows: int | None = Field(default=None, ge=1)  # larger requests: batches appended

    @field_validator("folder")
    @classmethod
    def _folder(cls, value: str) -> str:
        return _relative(value)

    @field_validator("file")
    @classmethod
    def _file(cls, value: str) -> str:
        if "/" in value or value in ("", ".", ".."):
            raise ValueError("must be a file name, without a folder")
        return value

    @field_validator("command")
    @classmethod
    def _command(cls, value: str) -> str:
        if "{rows}" not in value or "{out}" not in value:
            raise ValueError("must contain {rows} and {out}, e.g. "
                             '"python make_data.py --rows {rows} --out {out}"')
        return value


class ProjectFile(_Model):
    legacy: Legacy
    paths: Paths = Paths()
    parity: Parity = Parity()
    data: DataMaker | None = None


@dataclass(frozen=True)
class Project:
    """A project: its root and its file, with every path resolved against the root."""

    root: Path
    file: ProjectFile

    def path(self, relative: str | Path) -> Path:
        return self.root / relative

    @property
    def legacy_dir(self) -> Path:
        return self.path(self.file.legacy.folder)

    @property
    def legacy_command(self) -> list[str]:
        return shlex.split(self.file.legacy.command)

    @property
    def results(self) -> list[str]:
        """The names the result files are compared (and published) under."""
        return [PurePosixPath(r).name for r in self.file.legacy.results]

    @property
    def data_dir(self) -> Path:
        return self.path(self.file.paths.data)

    @property
    def scripts(self) -> Path:
        return self.path(self.file.paths.scripts)

    @property
    def image_context(self) -> Path:
        return self.path(self.file.paths.image_context)

    @property
    def definition(self) -> Path:
        return self.path(self.file.paths.definition)

    @property
    def local_input(self) -> Path:
        return self.path(self.file.paths.local_input)

    @property
    def home(self) -> Path:
        return self.root / ".smlift"

    def step_args(self, step: Step, work: Path | None = None) -> list[str]:
        """The step's `args` with "{root}" (and "{work}", the scratch folder) filled in."""
        args = [arg.replace("{root}", str(self.root)) for arg in step.args]
        return [arg.replace("{work}", str(work)) for arg in args] if work is not None else args

    def with_step(self, name: str, script: Path | None = None,
                  args: list[str] | None = None) -> "Project":
        """The same project with one migrated step's script or arguments swapped (tests)."""
        names = [s.name for s in self.file.parity.steps]
        if name not in names:
            raise InputError(f"no parity step named {name!r}", where="parity.steps",
                             fix=f"use one of {names}")
        steps = [s.model_copy(update={k: v for k, v in (("script", str(script) if script else None),
                                                         ("args", args)) if v is not None})
                 if s.name == name else s for s in self.file.parity.steps]
        parity = self.file.parity.model_copy(update={"steps": steps})
        return replace(self, file=self.file.model_copy(update={"parity": parity}))


def find_root(start: Path | None = None) -> Path | None:
    """The nearest folder, from `start` (the cwd) upwards, with a project file; else None."""
    here = Path(start or Path.cwd()).absolute()
    for folder in (here, *here.parents):
        if (folder / PROJECT_FILE).is_file():
            return folder
        pyproject = folder / PYPROJECT
        if pyproject.is_file() and "smlift" in _read_toml(pyproject).get("tool", {}):
            return folder
    return None


def load_project(start: Path | None = None) -> Project:
    """The project around `start` (the cwd); an `InputError` in one line outside any."""
    root = find_root(start)
    if root is None:
        raise InputError("not inside an smlift project (no smlift.toml here or in any parent folder)",
                         where=str(Path(start or Path.cwd()).absolute()), fix=NOT_IN_PROJECT_FIX)
    return read_project(root)


def read_project(root: Path) -> Project:
    """The project file at `root`, parsed and checked."""
    root = Path(root).absolute()
    path = root / PROJECT_FILE
    if path.is_file():
        data = _read_toml(path)
    else:
        path = root / PYPROJECT
        data = _read_toml(path).get("tool", {}).get("smlift", {})
    try:
        return Project(root, ProjectFile.model_validate(data))
    except ValidationError as exc:
        error = exc.errors()[0]
        key = ".".join(str(part) for part in error["loc"])
        raise InputError(f"{key}: {_message(error)}", where=str(path),
                         fix=_fix(error, key)) from None


def project_home(start: Path | None = None) -> Path:
    """Where the embedded default keeps its state: $SMLIFT_HOME, else `<root>/.smlift/`, else
    `.smlift/` in the working directory (outside any project)."""
    if os.environ.get("SMLIFT_HOME"):
        return Path(os.environ["SMLIFT_HOME"]).absolute()
    root = find_root(start)
    return (root / ".smlift") if root else Path(".smlift").absolute()


def _read_toml(path: Path) -> dict:
    try:
        with open(path, "rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"not valid TOML: {exc}", where=str(path),
                         fix="fix the syntax (https://toml.io)") from None
    except OSError as exc:
        raise InputError(f"cannot read the project file: {exc.strerror}", where=str(path),
                         fix="make it readable") from None


def _message(error: dict) -> str:
    if error["type"] == "missing":
        return "is missing"
    if error["type"] == "extra_forbidden":
        return "is not a known key"
    return error["msg"].removeprefix("Value error, ")


def _fix(error: dict, key: str) -> str:
    if error["type"] == "missing":
        return f"add {key} (see docs/migrating.md, the project file)"
    if error["type"] == "extra_forbidden":
        return f"remove or rename {key} (see docs/migrating.md, the project file)"
    return f"correct {key} (see docs/migrating.md, the project file)"
