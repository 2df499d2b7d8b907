"""Read a Dockerfile into what a local image needs, with the `dockerfile-parse` library.

`read_dockerfile(context_dir)` returns a `DockerfileSpec`: the base image, the final ENV (with
ARG and ENV substitution as Docker does it, starting from the base image's known environment),
WORKDIR, ENTRYPOINT and CMD (exec form as a list, shell form as `["/bin/sh", "-c", ...]`), and the
COPY/ADD and RUN steps in order. Only the last stage of a multi-stage file is an image; a
`COPY --from=...` cannot be honoured without Docker and is refused. Instructions with no local
meaning (USER, EXPOSE, LABEL, ...) are reported in `notes`, never silently dropped.

`warnings` holds what builds but goes against SageMaker's container contract: a WORKDIR, a
COPY/ADD destination or a RUN mkdir/cp/mv/touch/ln target under `/opt/ml`. AWS's guide for
Processing containers reserves `/opt/ml` and all its subfolders for SageMaker (it mounts the
inputs, outputs and config there), so code belongs elsewhere, e.g. `/opt/program`. `smlift build`
and `smlift validate` print them; they never fail a build.

`pip_installs(run)` splits a RUN line into its `pip install` parts (requirement files and
packages) and the parts a local build skips.
"""

from __future__ import annotations

import json
import posixpath
import shlex
import string
from dataclasses import dataclass, field
from pathlib import Path

from .errors import ImageError

# What the official base images set, so that `ENV PATH=/x:$PATH` and an inherited CMD come out
# as they would in Docker. Unknown bases get Docker's default PATH and no CMD.
_DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
BASE_IMAGES: dict[str, tuple[dict[str, str], list[str] | None]] = {
    "python": ({"PATH": "/usr/local/bin:" + _DEFAULT_PATH, "LANG": "C.UTF-8"}, ["python3"]),
    "debian": ({"PATH": _DEFAULT_PATH}, ["bash"]),
    "ubuntu": ({"PATH": _DEFAULT_PATH}, ["/bin/bash"]),
}
_ARCHIVES = (".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz")
_IGNORED = {"USER", "EXPOSE", "LABEL", "VOLUME", "HEALTHCHECK", "SHELL", "STOPSIGNAL", "ONBUILD",
            "MAINTAINER"}


@dataclass(frozen=True)
class CopyStep:
    """A COPY or ADD: context-relative sources to an absolute container destination."""

    instruction: str
    sources: tuple[str, ...]
    dest: str          # normalized, absolute
    line: int
    into_dir: bool     # the destination is a folder (trailing '/', '.', or a WORKDIR)


@dataclass(frozen=True)
class RunStep:
    command: str
    workdir: str
    env: dict[str, str]   # what the RUN's shell sees: the ARGs in scope, then the ENV over them
    line: int

    def expanded(self) -> str:
        """The command with `$NAME` and `${NAME}` of `env` expanded, as its shell would."""
        return string.Template(self.command).safe_substitute(self.env)


@dataclass(frozen=True)
class DockerfileWarning:
    """Builds, but goes against SageMaker's container contract."""

    where: str      # "<Dockerfile>:<line>"
    message: str
    fix: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message} (fix: {self.fix})"


@dataclass(frozen=True)
class DockerfileSpec:
    path: Path
    base_image: str
    env: dict[str, str]
    workdir: str
    entrypoint: list[str] | None
    cmd: list[str] | None
    steps: tuple[CopyStep | RunStep, ...]
    notes: tuple[str, ...] = field(default=())
    warnings: tuple["DockerfileWarning", ...] = field(default=())


def read_dockerfile(context_dir: Path, build_args: dict[str, str] | None = None) -> DockerfileSpec:
    """Parse `context_dir/Dockerfile`; ImageError naming the file and line on what cannot work."""
    from dockerfile_parse import DockerfileParser

    path = Path(context_dir) / "Dockerfile"
    if not path.is_file():
        raise ImageError("no Dockerfile in the build context", where=str(path),
                         fix="pass the folder that holds the Dockerfile")
    try:
        structure = DockerfileParser(path=str(path)).structure
    except Exception as exc:  # the library raises plain errors on malformed input
        raise ImageError(f"cannot parse the Dockerfile: {exc}", where=str(path),
                         fix="correct the Dockerfile syntax (docs/building.md)") from None
    return _Reader(path, build_args or {}).read(structure)


def dockerfile_warnings(context_dir: Path) -> tuple[DockerfileWarning, ...]:
    """What in `context_dir/Dockerfile` builds but goes against SageMaker's container contract."""
    return read_dockerfile(context_dir).warnings


class _Reader:
    """Walks the instructions of the last stage, keeping ARG/ENV/WORKDIR state as Docker does."""

    def __init__(self, path: Path, build_args: dict[str, str]):
        self.path = path
        self.build_args = build_args

    def fail(self, line: int, message: str, fix: str | None = None) -> ImageError:
        return ImageError(message, where=f"{self.path}:{line}", fix=fix)

    def read(self, structure: list[dict]) -> DockerfileSpec:
        froms = [i for i, ins in enumerate(structure) if ins["instruction"] == "FROM"]
        if not froms:
            raise ImageError("the Dockerfile has no FROM instruction", where=str(self.path),
                             fix="start it with FROM <base image>")
        global_args = self._args(structure[:froms[0]], {})
        base = self._base_image(structure[froms[-1]], global_args)
        base_env, base_cmd = BASE_IMAGES.get(_image_name(base), ({"PATH": _DEFAULT_PATH}, None))
        self.env, self.cmd = dict(base_env), base_cmd
        self.args: dict[str, str] = {}
        self.workdir, self.entrypoint, self.own_cmd = "/", None, None
        self.dirs = {"/"}
        self.steps: list[CopyStep | RunStep] = []
        self.notes: list[str] = [f"multi-stage Dockerfile: only the last stage ({base}) is "
                                 "built"] if len(froms) > 1 else []
        self.warnings: list[DockerfileWarning] = []
        for ins in structure[froms[-1] + 1:]:
            handler = _HANDLERS.get(ins["instruction"])
            if handler:
                handler(self, ins["value"], ins["startline"] + 1)
            elif ins["instruction"] in _IGNORED:
                self.notes.append(f"line {ins['startline'] + 1}: {ins['instruction']} has no "
                                  "effect locally")
        # Docker: setting ENTRYPOINT resets a CMD inherited from the base image.
        cmd = self.own_cmd if self.own_cmd is not None else (None if self.entrypoint else self.cmd)
        return DockerfileSpec(self.path, base, self.env, self.workdir, self.entrypoint, cmd,
                              tuple(self.steps), tuple(self.notes), tuple(self.warnings))

    def warn_if_opt_ml(self, line: int, what: str, container_path: str) -> None:
        """A warning when `container_path` is /opt/ml or below it."""
        if under_opt_ml(container_path):
            self.warnings.append(DockerfileWarning(
                f"{self.path}:{line}", f"{what} writes {container_path}, under /opt/ml, which "
                "SageMaker reserves with all its subfolders", OPT_ML_FIX))

    def _args(self, instructions: list[dict], known: dict[str, str]) -> dict[str, str]:
        args = dict(known)
        for ins in instructions:
            if ins["instruction"] == "ARG":
                name, _, default = ins["value"].partition("=")
                args[name.strip()] = self.build_args.get(name.strip(), _dequote(default))
        return args

    def _base_image(self, ins: dict, args: dict[str, str]) -> str:
        words = self.substitute(ins["value"], args, {}).split()
        words = [w for w in words if not w.startswith("--")]
        if not words:
            raise self.fail(ins["startline"] + 1, "FROM names no image",
                            fix="write FROM <base image>, e.g. FROM python:3.11-slim")
        return words[0]

    def substitute(self, text: str, args: dict[str, str] | None = None,
                   env: dict[str, str] | None = None) -> str:
        from dockerfile_parse.util import WordSplitter

        args = self.args if args is None else args
        env = self.env if env is None else env
        return " ".join(WordSplitter(word, args=args, envs=env).dequote()
                        for word in WordSplitter(text).split(dequote=False))

    # -- one method per instruction (dispatched through _HANDLERS) ------------------------
    def on_arg(self, value: str, line: int) -> None:
        self.args = self._args([{"instruction": "ARG", "value": value}], self.args)

    def on_env(self, value: str, line: int) -> None:
        from dockerfile_parse.util import extract_key_values

        try:
            pairs = extract_key_values(True, self.args, self.env, value)
        except ValueError as exc:
            raise self.fail(line, f"ENV: {exc}", fix="write ENV NAME=value") from exc
        for key, val in pairs:
            self.env[key] = val

    def on_workdir(self, value: str, line: int) -> None:
        self.workdir = posixpath.normpath(posixpath.join(self.workdir, self.substitute(value)))
        self.warn_if_opt_ml(line, "WORKDIR", self.workdir)
        folder = self.workdir
        while folder not in self.dirs:
            self.dirs.add(folder)
            folder = posixpath.dirname(folder)

    def on_copy(self, value: str, line: int, instruction: str = "COPY") -> None:
        words = shlex.split(value) if not value.lstrip().startswith("[") else json.loads(value)
        flags = [w for w in words if w.startswith("--")]
        words = [self.substitute(w) for w in words if not w.startswith("--")]
        if any(f.startswith("--from") for f in flags):
            raise self.fail(line, f"{instruction} --from needs Docker's multi-stage build",
                            fix="copy from the build context, or build with a Docker engine")
        if len(words) < 2:
            raise self.fail(line, f"{instruction} needs at least one source and a destination",
                            fix=f"write {instruction} <source>... <destination>")
        for src in words[:-1]:
            self._check_source(instruction, src, line)
        raw = words[-1]
        dest = posixpath.normpath(posixpath.join(self.workdir, raw))
        into_dir = raw.endswith(("/", "/.")) or raw == "." or dest in self.dirs
        self.steps.append(CopyStep(instruction, tuple(words[:-1]), dest, line, into_dir))
        self.warn_if_opt_ml(line, instruction, dest)

    def _check_source(self, instruction: str, src: str, line: int) -> None:
        if instruction == "ADD" and ("://" in src or src.startswith("git@")):
            raise self.fail(line, f"ADD of a URL ({src}) is not done by a local build",
                            fix="download it into the build context and COPY it")
        if instruction == "ADD" and src.endswith(_ARCHIVES):
            raise self.fail(line, f"ADD {src} would unpack an archive, which a local build does "
                                  "not do", fix="COPY the unpacked files instead")

    def on_add(self, value: str, line: int) -> None:
        self.on_copy(value, line, "ADD")

    def on_run(self, value: str, line: int) -> None:
        command = " ".join(json.loads(value)) if value.lstrip().startswith("[") else value
        # Docker: a RUN's shell sees the ARGs in scope as variables, with ENV taking precedence
        self.steps.append(RunStep(command, self.workdir, {**self.args, **self.env}, line))
        for verb, target in file_writes(command):
            self.warn_if_opt_ml(line, f"RUN {verb}", posixpath.normpath(
                posixpath.join(self.workdir, target)))

    def on_entrypoint(self, value: str, line: int) -> None:
        self.entrypoint = _command_form(value, self, line)

    def on_cmd(self, value: str, line: int) -> None:
        self.own_cmd = _command_form(value, self, line)


_HANDLERS = {"ARG": _Reader.on_arg, "ENV": _Reader.on_env, "WORKDIR": _Reader.on_workdir,
             "COPY": _Reader.on_copy, "ADD": _Reader.on_add, "RUN": _Reader.on_run,
             "ENTRYPOINT": _Reader.on_entrypoint, "CMD": _Reader.on_cmd}


def _command_form(value: str, reader: _Reader, line: int) -> list[str]:
    """Exec form `["a", "b"]` -> the list; shell form `a b` -> `["/bin/sh", "-c", "a b"]`."""
    text = value.strip()
    if text.startswith("["):
        try:
            parsed = json.loads(text)
        except ValueError:
            parsed = None
        if isinstance(parsed, list) and all(isinstance(p, str) for p in parsed):
            return parsed
        raise reader.fail(line, f"not a JSON array of strings: {text}",
                          fix='write it as ["executable", "arg"]')
    return ["/bin/sh", "-c", text]


def _dequote(text: str) -> str:
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    return text


def _image_name(reference: str) -> str:
    """`docker.io/library/python:3.11-slim` -> `python`."""
    name = reference.split("@")[0].rsplit("/", 1)[-1]
    return name.split(":")[0]


# -- /opt/ml ---------------------------------------------------------------------------------
OPT_ML_FIX = "put code in /opt/program"
_WRITERS = {"mkdir", "cp", "mv", "touch", "ln", "install"}


def under_opt_ml(container_path: str) -> bool:
    path = posixpath.normpath(container_path)
    return path == "/opt/ml" or path.startswith("/opt/ml/")


def file_writes(command: str) -> list[tuple[str, str]]:
    """(command, path) for what the RUN line's mkdir/touch create and cp/mv/ln/install write
    to; paths as written (relative to the WORKDIR when not absolute)."""
    writes = []
    for part in split_run(command):
        try:
            words = shlex.split(part)
        except ValueError:
            continue
        words = words[1:] if words[:1] == ["sudo"] else words
        if not words or posixpath.basename(words[0]) not in _WRITERS:
            continue
        verb = posixpath.basename(words[0])
        args = [w for w in words[1:] if not w.startswith("-")]
        target_dir = next((words[i + 1] for i, w in enumerate(words[:-1])
                           if w in ("-t", "--target-directory")), None)
        if target_dir is not None:
            writes.append((verb, target_dir))
        elif verb in ("mkdir", "touch") or (verb == "install" and "-d" in words):
            writes.extend((verb, arg) for arg in args)
        elif args:
            writes.append((verb, args[-1]))   # cp/mv/ln/install SOURCE... DEST
    return writes


# -- RUN lines --------------------------------------------------------------------------------
@dataclass(frozen=True)
class PipInstall:
    requirement_files: tuple[str, ...]   # as written (container paths, maybe relative)
    packages: tuple[str, ...]            # "name==1.2" etc.


_PIP_VALUE_OPTIONS = {"-i", "--index-url", "--extra-index-url", "-f", "--find-links", "-c",
                      "--constraint", "--trusted-host", "-t", "--target", "--prefix", "--root",
                      "--platform", "--python-version", "--implementation", "--abi",
                      "--progress-bar", "--cache-dir", "--src", "--upgrade-strategy",
                      "--only-binary", "--no-binary", "--timeout", "--retries"}


def split_run(command: str) -> list[str]:
    """`a && b; c || d` -> ["a", "b", "c", "d"] (quotes respected)."""
    try:
        lexer = shlex.shlex(command, posix=True, punctuation_chars=";&|")
        lexer.whitespace_split = True
        tokens = list(lexer)
    except ValueError:
        return [command.strip()]
    parts, current = [], []
    for token in tokens:
        if token in ("&&", ";", "||", "&", "|"):
            if current:
                parts.append(current)
            current = []
        else:
            current.append(token)
    if current:
        parts.append(current)
    return [shlex.join(p) for p in parts]


def pip_installs(command: str) -> tuple[list[PipInstall], list[str]]:
    """The `pip install` parts of a RUN command, and the other parts (skipped locally)."""
    installs, skipped = [], []
    for part in split_run(command):
        words = shlex.split(part)
        install = _pip_install(words)
        if install is None:
            skipped.append(part)
        else:
            installs.append(install)
    return installs, skipped


def _pip_install(words: list[str]) -> PipInstall | None:
    for i, word in enumerate(words):
        is_pip = posixpath.basename(word) in ("pip", "pip3") or (
            word == "-m" and i + 1 < len(words) and words[i + 1] == "pip")
        if is_pip:
            rest = words[i + 1:] if word != "-m" else words[i + 2:]
            if rest[:1] == ["install"]:
                return _pip_arguments(rest[1:])
            return None
    return None


def _pip_arguments(words: list[str]) -> PipInstall:
    files, packages, i = [], [], 0
    while i < len(words):
        word = words[i]
        if word in ("-r", "--requirement") and i + 1 < len(words):
            files.append(words[i + 1])
            i += 2
            continue
        if word.startswith("--requirement="):
            files.append(word.split("=", 1)[1])
        elif word in _PIP_VALUE_OPTIONS:
            i += 1
        elif not word.startswith("-"):
            packages.append(word)
        i += 1
    return PipInstall(tuple(files), tuple(packages))
