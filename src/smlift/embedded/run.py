"""The main job on the embedded default: `smlift run`.

It runs `statemachine/definition.asl.json` on this machine, exactly as a user would on AWS after
uploading their data and code and pushing their image:

    prepare    seed local S3 with the data and the step scripts (sync: only what changed), and
               build the inference image when it is missing or its folder changed
    preflight  everything that can be known before the first job starts: the input contract,
               the input prefix, both images, the definition
    start      one execution of `smlift-pipeline` on the local engine (`LocalStepFunctions`),
               persisted in the store; or, with `--redrive`, redrive a failed or killed one
               (only its unfinished steps run again)
    watch      poll the execution's history and its processing jobs into `StepProgress` rows,
               which the CLI renders live
    report     the final status, the output location and the first rows of the result; on
               failure, the failing step, its ExitMessage and the tail of its log
    parity     optionally, run the untouched legacy program (`legacy_src/`) on the same data and
               compare its result files with the published ones, byte for byte

`run_pipeline` is the use case: it does all of the above and returns a `RunReport`. Nothing
here renders: the CLI (`smlift.cli.run`) draws what it reports through a `RunProgress`.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, ContextManager, Protocol

from .. import layout
from ..asl.definition import load_definition
from ..asl.engine import check_name
from ..datagen import generated_data
from ..errors import DefinitionError, InputError, SmliftError
from ..images import build_image, image_is_stale, resolve_image
from ..local.home import smlift_home
from ..local.s3 import LocalS3, sync_objects
from ..names import TERMINAL
from ..parity import compare_outputs, find_project, merged_tolerances, run_legacy
from ..pipeline import read_definition as read_definition_file
from ..pipeline.contract import load_pipeline_input
from ..processing.service import LocalProcessing
from ..project import Project
from .sfn import LocalStepFunctions
from .tasks import task_registry

STATE_MACHINE_NAME = "smlift-pipeline"
# The embedded default's stand-ins for what `smlift deploy` sets up on AWS.
LOCAL_CODE_URI = "s3://smlift-local/smlift/code/"
LOCAL_ROLE = "arn:aws:iam::123456789012:role/smlift-sagemaker"


@dataclass
class RunSources:
    """Where the local files of a run come from (all relative to the project root)."""

    input_path: Path = layout.LOCAL_INPUT
    data_dir: Path = layout.DATA
    code_dir: Path = layout.SCRIPTS
    image_context: Path = layout.IMAGE_CONTEXT
    definition_path: Path = layout.DEFINITION
    project: Project | None = None  # whose legacy program `--parity` runs (default: the cwd's)

    @classmethod
    def of(cls, project: Project, rows: int | None = None,
           **given: Path | None) -> "RunSources":
        """The project's paths (its project file), where `given` names none; with `rows`, the
        data is that many rows from the project's generator (`datagen.generated_data`)."""
        if rows is not None:
            if given.get("data_dir"):
                raise InputError("--rows and --data both say where the data comes from",
                                 where="--rows", fix="pass one of them")
            given["data_dir"] = generated_data(project, rows)
        defaults = {"input_path": project.local_input, "data_dir": project.data_dir,
                    "code_dir": project.scripts, "image_context": project.image_context,
                    "definition_path": project.definition}
        return cls(**{k: given.get(k) or v for k, v in defaults.items()}, project=project)


@dataclass
class StepProgress:
    """One Task state of the run as the user sees it."""

    state: str
    status: str = "PENDING"  # PENDING, RUNNING, SUCCEEDED, FAILED, CAUGHT
    job_name: str | None = None
    job_status: str | None = None
    isolation: str | None = None  # how its job ran: bubblewrap (a sandbox), path-rewrite, ...
    started: float | None = None
    ended: float | None = None

    def elapsed(self, now: float) -> float | None:
        if self.started is None:
            return None
        return (self.ended or now) - self.started


@dataclass
class RunOutcome:
    execution: dict  # describe_execution
    steps: list[StepProgress]
    output_uri: str | None = None  # where the final result was published
    preview: list[str] = field(default_factory=list)  # first lines of the result
    failed_step: str | None = None
    exit_message: str | None = None
    log_tail: list[str] = field(default_factory=list)

    @property
    def succeeded(self) -> bool:
        return self.execution["status"] == "SUCCEEDED"


# -- the use case -------------------------------------------------------------------------------
class RunProgress(Protocol):
    """What `run_pipeline` tells its caller as it goes (the CLI draws it live)."""

    def checked(self) -> None:
        """The input, the folders and the definition are valid: the run begins."""

    def line(self, text: str) -> None:
        """One line about preparing the run (uploads, builds, images)."""

    def started(self, arn: str) -> None:
        """The execution has started."""

    def watching(self) -> ContextManager[Callable[[list[StepProgress], dict], None]]:
        """Around the watch: gives the callback that sees each update of the steps."""

    def stopping(self) -> ContextManager[None]:
        """Around stopping an interrupted execution (its running job gets its grace period)."""


class QuietProgress:
    """A RunProgress that shows nothing."""

    def checked(self) -> None:
        pass

    def line(self, text: str) -> None:
        pass

    def started(self, arn: str) -> None:
        pass

    def watching(self):
        return contextlib.nullcontext(lambda steps, execution: None)

    def stopping(self):
        return contextlib.nullcontext()


@dataclass
class RunReport:
    """What `smlift run` did: the outcome and, when asked for, the parity report."""

    outcome: RunOutcome
    parity: Any = None  # smlift.parity.ParityReport

    @property
    def ok(self) -> bool:
        return self.outcome.succeeded and (self.parity is None or self.parity.ok)


def run_pipeline(sources: RunSources | None = None, *, name: str | None = None,
                 build: bool = True, engine: str | None = None, parity: bool = False,
                 home: Path | None = None, progress: RunProgress | None = None,
                 redrive: str | None = None) -> RunReport:
    """Run the whole pipeline on the embedded default (the steps in the module docstring), its
    jobs on `engine` (chosen already: `images.engine.choose_engine`). The input and definition
    are read and validated once, before anything is uploaded; the home's run lock is held from
    the upload to the end of the execution. Interrupted (KeyboardInterrupt), the execution is
    stopped (it ends ABORTED) and the interrupt goes on.

    With `redrive` (an execution's ARN or name), the same preparation re-uploads changed step
    code and rebuilds a changed image, as a fix pushed to AWS would be; then that execution is
    redriven (`redrive_run`) instead of a new one started: its finished steps are not run
    again."""
    sources, progress = sources or RunSources(), progress or QuietProgress()
    run_input = load_run_input(sources.input_path)
    definition = check_run(sources, name=name, home=home)
    progress.checked()
    with run_lock(home):
        prepare_run(run_input, sources, home=home, build=build, engine=engine,
                    echo=progress.line)
        check_local_resources(run_input, home, engine=engine, echo=progress.line)
        if redrive is None:
            sfn, arn = start_run(run_input, definition, name=name, home=home, engine=engine)
        else:
            sfn, arn = redrive_run(redrive, home=home, engine=engine)
        progress.started(arn)
        try:
            with progress.watching() as on_update:
                outcome = watch_run(sfn, arn, definition, home=home, on_update=on_update)
        except KeyboardInterrupt:
            with progress.stopping():
                abort_run(sfn, arn, "smlift run was interrupted")
            raise
    report = RunReport(outcome)
    if parity and outcome.succeeded:
        report.parity = check_run_parity(outcome, sources, home=home)
    return report


# -- prepare ------------------------------------------------------------------------------------
def image_tag(uri: str) -> str:
    """`123.dkr.ecr.r.amazonaws.com/name:tag` and `name:tag` both build as `name:tag`."""
    last = uri.rsplit("/", 1)[-1]
    return last if ":" in last else f"{last}:latest"


def load_run_input(path: Path) -> dict:
    """The execution input, checked against the pipeline contract (InputError names fields)."""
    if not Path(path).is_file():
        raise InputError("is a folder, not an input file" if Path(path).is_dir()
                         else "no such input file", where=str(path),
                         fix="run from the project root, or pass --input with an execution input "
                             "JSON (see examples/)")
    return load_pipeline_input(path).model_dump(exclude_none=True)


def check_run(sources: RunSources, *, name: str | None = None,
              home: Path | None = None) -> dict:
    """Everything about the local files and the name that is knowable before `prepare_run`
    touches local S3 or builds: the two folders, the definition, the execution name. Returns
    the definition, read and validated (the one time a run reads it)."""
    for folder, option in ((sources.data_dir, "--data"), (sources.code_dir, "--code")):
        if not Path(folder).is_dir():
            raise InputError("is a file, not a folder" if Path(folder).exists()
                             else "folder not found", where=str(folder),
                             fix=f"run from the project root, or pass {option} FOLDER")
    definition = check_definition(sources.definition_path, home)
    if name is not None:
        check_name(name)
    return definition


def check_definition(path: Path, home: Path | None = None) -> dict:
    """The definition in `path`, checked to load with the embedded default's Task handlers
    (DefinitionError with the file name and a JSON pointer otherwise)."""
    definition = read_definition(path)
    try:
        load_definition(definition, tasks=task_registry(home))
    except DefinitionError as exc:
        exc.fix = exc.fix or "correct the definition (`smlift validate` lists every problem)"
        raise exc.with_context(f"{path}#") from None
    return definition


def prepare_run(run_input: dict, sources: RunSources, *, home: Path | None = None,
                echo: Callable[[str], None] = print, build: bool = True,
                engine: str | None = None) -> None:
    """Seed local S3 with the data and code, and (unless `build` is off) build the inference
    image for `engine` when it is missing or its folder changed."""
    s3 = LocalS3(home)
    for folder, uri in ((sources.data_dir, run_input["input_uri"]),
                        (sources.code_dir, run_input["code_uri"])):
        # the prefix then holds exactly the folder: objects of an earlier run are removed, so
        # an emptied data folder cannot silently run old data again
        done = sync_objects(s3, str(folder), uri, delete=True)
        removed = sum(1 for t in done if t.action == "delete")
        echo(f"local S3: {uri} ({len(done) - removed} file(s) updated from {folder}"
             + (f", {removed} removed" if removed else "") + ")")
    tag = image_tag(run_input["custom_image_uri"])
    if build and image_is_stale(sources.image_context, tag, home, engine=engine):
        echo(f"building image {tag} from {sources.image_context} ...")
        build_image(sources.image_context, tag, home, echo=echo, engine=engine)
        if tag != run_input["custom_image_uri"]:
            echo(f"image {tag} also answers to {run_input['custom_image_uri']}")


@contextlib.contextmanager
def run_lock(home: Path | None = None):
    """Hold the home's run lock for the whole of one `smlift run`: two runs on one home share
    its input and code prefixes, so a second one is refused while the first runs (the lock
    dies with its process, even on kill -9)."""
    path = (home or smlift_home()) / "run.lock"
    with open(path, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "?"
            raise InputError(f"another `smlift run` (pid {holder}) is running on this home; "
                             "two runs would share its input and code prefixes",
                             where=str(path.parent),
                             fix="wait for it to end, or give this run its own SMLIFT_HOME") \
                from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def check_local_resources(run_input: dict, home: Path | None = None, *,
                          engine: str | None = None, echo: Callable[[str], None] = print) -> None:
    """The input and code prefixes hold objects and both images resolve on `engine`, in local
    S3 and the local image registry (the prebuilt image's runtime or look-alike is made here,
    once, rather than in the middle of the run)."""
    s3 = LocalS3(home)
    for name in ("input_uri", "code_uri"):
        if not s3.list_keys(run_input[name]):
            raise InputError(f"no objects under {run_input[name]}", where=name,
                             fix=f"upload them first: smlift s3 sync DIR {run_input[name]}")
    for name in ("custom_image_uri", "scikit_image_uri"):
        try:
            resolve_image(run_input[name], home, echo, engine=engine)
        except SmliftError as exc:
            raise exc.with_context(f"{name}: ")


def read_definition(path: Path) -> dict:
    """The definition file as JSON (InputError naming the file when it cannot be read)."""
    return read_definition_file(path)[1]


# -- start and watch ----------------------------------------------------------------------------
def start_run(run_input: dict, definition: dict, *, name: str | None = None,
              home: Path | None = None, sfn: Any = None,
              engine: str | None = None) -> tuple[Any, str]:
    """Start one execution of the pipeline on the local engine, its jobs on `engine`; returns
    (service, executionArn)."""
    sfn = sfn or LocalStepFunctions(home=home, engine=engine)
    machine_arn = create_pipeline(sfn, definition)
    started = sfn.start_execution(stateMachineArn=machine_arn, name=name,
                                  input=json.dumps(run_input))
    return sfn, started["executionArn"]


def redrive_run(execution: str, *, home: Path | None = None, sfn: Any = None,
                engine: str | None = None) -> tuple[Any, str]:
    """Redrive a local execution of the pipeline (RedriveExecution's rules: ExecutionNotRedrivable
    when it succeeded or is too old). The jobs a killed smlift left unfinished are recorded
    Failed first (their processes died with it; nothing of theirs was published), and the
    execution itself, left RUNNING, is ended FAILED by the redrive. Returns (service, arn)."""
    sfn = sfn or LocalStepFunctions(home=home, engine=engine)
    LocalProcessing(home=home).reap_orphans()
    arn = sfn.store.get_execution(execution)["arn"]
    sfn.redrive_execution(executionArn=arn)
    return sfn, arn


def create_pipeline(sfn: Any, definition: str | dict) -> str:
    """Create (or update) the pipeline's one local state machine, `smlift-pipeline`, as
    `smlift deploy` leaves it on AWS; its ARN. `smlift run` and `smlift start --local` both
    come here, so neither overwrites the other's record with different settings."""
    machine = sfn.create_state_machine(name=STATE_MACHINE_NAME, definition=definition,
                                       roleArn=LOCAL_ROLE)
    return machine["stateMachineArn"]


def step_progress(events: list[dict], describe_job: Callable[[str], dict | None],
                  task_states: list[str]) -> list[StepProgress]:
    """Fold history events (and live job descriptions) into one row per Task state."""
    steps = {name: StepProgress(name) for name in task_states}
    current: StepProgress | None = None
    for event in events:
        kind, details = event["type"], event.get("details") or {}
        if kind == "TaskStateEntered" and details.get("name") in steps:
            current = steps[details["name"]]
            current.status, current.started, current.ended = "RUNNING", event["timestamp"], None
        elif current is None:
            continue
        elif kind == "TaskScheduled":
            params = json.loads(details.get("parameters") or "{}")
            current.job_name = params.get("ProcessingJobName", current.job_name)
        elif kind in ("TaskSucceeded", "TaskStateExited"):
            current.status = "SUCCEEDED" if kind == "TaskSucceeded" else current.status
            current.ended = current.ended or event["timestamp"]
        elif kind in ("TaskFailed", "TaskTimedOut", "TaskStartFailed", "TaskSubmitFailed"):
            current.status, current.ended = "FAILED", event["timestamp"]
    for step in steps.values():
        if step.job_name:
            job = describe_job(step.job_name)
            step.job_status = job["ProcessingJobStatus"] if job else step.job_status
            step.isolation = (job or {}).get("SmliftLocal", {}).get("IsolationMode",
                                                                     step.isolation)
    return list(steps.values())


def task_state_names(definition: dict) -> list[str]:
    return [name for name, state in definition["States"].items() if state.get("Type") == "Task"]


def watch_run(sfn: Any, arn: str, definition: dict, *, home: Path | None = None,
              on_update: Callable[[list[StepProgress], dict], None] = lambda steps, ex: None,
              poll_seconds: float = 0.25) -> RunOutcome:
    """Poll until the execution ends, reporting progress; then gather the outcome."""
    jobs = LocalProcessing(home=home)
    names = task_state_names(definition)

    def describe_job(name: str) -> dict | None:
        try:
            return jobs.describe_processing_job(ProcessingJobName=name)
        except SmliftError:
            return None

    while True:
        execution = sfn.describe_execution(executionArn=arn)
        events = sfn.get_execution_history(executionArn=arn)["events"]
        steps = step_progress([_flat_event(e) for e in events], describe_job, names)
        on_update(steps, execution)
        if execution["status"] in TERMINAL:
            return _outcome(execution, steps, jobs, home)
        time.sleep(poll_seconds)


def abort_run(sfn: Any, arn: str, reason: str) -> None:
    """Stop the execution (it ends ABORTED and its running job is stopped)."""
    sfn.stop_execution(executionArn=arn, error="smlift.RunInterrupted", cause=reason)


def _flat_event(event: dict) -> dict:
    """AWS history event -> {type, timestamp (float), details} regardless of the details key."""
    details = next((v for k, v in event.items() if k.endswith("EventDetails")), None)
    stamp = event.get("timestamp")
    if hasattr(stamp, "timestamp"):
        stamp = stamp.timestamp()
    return {"type": event["type"], "timestamp": stamp, "details": details}


# -- report -------------------------------------------------------------------------------------
def _outcome(execution: dict, steps: list[StepProgress], jobs: Any,
             home: Path | None) -> RunOutcome:
    outcome = RunOutcome(execution=execution, steps=steps)
    if outcome.succeeded:
        output = json.loads(execution.get("output") or "null")
        outcome.output_uri = _result_uri(output)
        outcome.preview = result_preview(outcome.output_uri, home) if outcome.output_uri else []
        return outcome
    failed = next((s for s in steps if s.status == "FAILED"), None)
    if failed:
        outcome.failed_step = failed.state
        if failed.job_name:
            job = jobs.describe_processing_job(ProcessingJobName=failed.job_name)
            outcome.exit_message = job.get("ExitMessage") or job.get("FailureReason")
            outcome.log_tail = jobs.log_lines(failed.job_name)[-20:]
    return outcome


def _result_uri(output: Any) -> str | None:
    """The pipeline's output names where the final result was published."""
    if isinstance(output, dict):
        for key in ("result_uri", "output_uri", "ResultUri"):
            if isinstance(output.get(key), str):
                return output[key]
    return None


def result_preview(uri: str, home: Path | None = None, rows: int = 5) -> list[str]:
    """The first lines of the first CSV under `uri` in local S3."""
    s3 = LocalS3(home)
    csvs = [key for key in s3.list_keys(uri) if key.endswith(".csv")]
    if not csvs:
        return []
    with s3.path_for(csvs[0]).open() as handle:
        return [line.rstrip("\n") for _, line in zip(range(rows + 1), handle)]


# -- parity -------------------------------------------------------------------------------------
def check_run_parity(outcome: RunOutcome, sources: RunSources, *, home: Path | None = None,
                     workdir: Path | None = None) -> Any:
    """Run the legacy program on the run's data and compare its declared result files with
    the published ones."""
    if not outcome.succeeded or not outcome.output_uri:
        raise InputError("the run did not publish a result to compare", where="--parity",
                         fix="fix the failing step first")
    project = sources.project or find_project()
    published = LocalS3(home).path_for(outcome.output_uri)
    with tempfile.TemporaryDirectory(prefix="smlift-parity-", dir=workdir) as scratch:
        legacy = run_legacy(Path(sources.data_dir), Path(scratch), project)
        return compare_outputs(legacy, published, project.results,
                               merged_tolerances(project, None))
