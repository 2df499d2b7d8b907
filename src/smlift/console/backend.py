"""What the console's pages read and do, as plain calls: no HTTP here.

    backend = ConsoleBackend.open(project=Path.cwd())
    backend.machines(); backend.executions(status="FAILED")
    backend.start("smlift-pipeline", input_text, name=None)   # StartRefused lists the problems
    backend.snapshot(arn, after_event=0)                      # status, states, new events, jobs

Everything goes through the library's public clients: `LocalStepFunctions` (executions),
`LocalProcessing` (jobs, logs), `LocalS3`, `images.list_images` and `validate`. The
console's executions run in its own process, on `LocalStepFunctions`'s threads, so they go on
when the browser closes; `started` remembers them so that quitting the console can wait.

State machines: the store has no list of them, so the console offers the definition files it
was given (the project's `statemachine/definition.asl.json` by default, named
`smlift-pipeline` as `smlift run` names it) and every state machine that has executions.
A definition file is (re)registered when an execution of it starts, as `smlift run` does.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from ..asl.engine import check_name, state_machine_arn
from ..asl.tasks import TaskRegistry
from ..embedded.run import STATE_MACHINE_NAME
from ..embedded.sfn import LocalStepFunctions
from ..errors import ExecutionAlreadyExists, InputError, SmliftError
from ..execute import state_machine_name_of as definition_stem  # `smlift execute`'s rule
from ..images import list_images
from ..jsontext import loads
from ..layout import DEFINITION as DEFAULT_DEFINITION
from ..layout import LOCAL_INPUT as DEFAULT_INPUT
from ..local.s3 import LocalS3, list_entries
from ..names import TERMINAL
from ..pipeline.graph import graph_of
from ..processing import integration
from ..processing.service import LocalProcessing
from ..validate import validate_pipeline
from .progress import details_of, progress_json

STATUSES = ("RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")
GENERAL = ""  # the problems key for what belongs to no one field


@dataclass(frozen=True)
class MachineSource:
    """A state machine the console can start: its name and the definition file it comes from
    (None: known only from the store); `pipeline`: the project's pipeline, checked by
    `smlift validate`'s rules before it starts."""

    name: str
    path: Path | None = None
    pipeline: bool = False

    @property
    def arn(self) -> str:
        return state_machine_arn(self.name)


class StartRefused(SmliftError):
    """The start form has problems: `problems` maps a field (input, name; "" for none) to its
    messages, shown next to that field."""

    def __init__(self, problems: dict[str, list[str]]):
        super().__init__("; ".join(m for ms in problems.values() for m in ms), where="start")
        self.problems = problems


@dataclass
class ConsoleBackend:
    project: Path
    sfn: LocalStepFunctions
    jobs: LocalProcessing
    s3: LocalS3
    sources: list[MachineSource]
    started: set[str] = field(default_factory=set)

    @classmethod
    def open(cls, home: Path | None = None, project: Path | None = None,
             definitions: list[Path] | tuple = (), *, jobs: LocalProcessing | None = None,
             engine: str | None = None) -> "ConsoleBackend":
        """The console over SMLIFT_HOME (`home`), offering the project's pipeline (when its
        definition exists) and each of `definitions`. `jobs`: the processing service the
        console's executions use (tests pass one with a fake image)."""
        project = Path(project or Path.cwd()).absolute()
        jobs = jobs or LocalProcessing(home, engine=engine)
        tasks = TaskRegistry()
        integration.register(tasks, jobs.home, service=jobs)
        sfn = LocalStepFunctions(jobs.home, tasks=tasks, store=jobs.store)
        return cls(project, sfn, jobs, LocalS3(jobs.home),
                   machine_sources(project, definitions))

    # -- state machines -------------------------------------------------------------------
    def machines(self) -> list[dict]:
        """One row per state machine: name, arn, where it comes from, execution counts."""
        counts: dict[str, dict[str, int]] = {}
        for item in self.sfn.list_executions()["executions"]:
            by_status = counts.setdefault(item["stateMachineArn"], {})
            by_status[item["status"]] = by_status.get(item["status"], 0) + 1
        rows = [{"name": s.name, "arn": s.arn, "source": str(s.path), "pipeline": s.pipeline,
                 "counts": counts.pop(s.arn, {})} for s in self.sources]
        for arn, by_status in sorted(counts.items()):
            rows.append({"name": arn.rsplit(":", 1)[1], "arn": arn, "source": "store",
                         "pipeline": False, "counts": by_status})
        return rows

    def source(self, name: str) -> MachineSource:
        for known in self.sources:
            if known.name == name:
                return known
        self.sfn.describe_state_machine(state_machine_arn(name))  # ExecutionError if none
        return MachineSource(name)

    def definition(self, name: str) -> dict:
        known = self.source(name)
        if known.path is not None:
            return loads(known.path.read_text(encoding="utf-8"))
        return loads(self.sfn.describe_state_machine(known.arn)["definition"])

    def graph(self, name: str) -> dict:
        """The definition as nodes, edges and groups (`pipeline.graph.graph_of`) for the page."""
        drawn = graph_of(self.definition(name))
        return {"nodes": [vars(n) for n in drawn.nodes], "edges": [vars(e) for e in drawn.edges],
                "groups": [{"id": g, "label": label, "nodes": ids}
                           for g, label, ids in drawn.groups]}

    def example_input(self, name: str) -> str:
        """The input the start form is prefilled with: examples/input.local.json for the
        project's pipeline when it exists, else {}."""
        example = self.project / DEFAULT_INPUT
        if self.source(name).pipeline and example.is_file():
            return example.read_text(encoding="utf-8")
        return "{}\n"

    # -- starting -------------------------------------------------------------------------
    def check_start(self, name: str, input_text: str, execution_name: str | None) -> Any:
        """The parsed input, or StartRefused with every problem next to its field."""
        known = self.source(name)
        problems: dict[str, list[str]] = {}
        if execution_name:
            try:
                check_name(execution_name)
            except InputError as exc:
                problems.setdefault("name", []).append(f"{exc.message}: {exc.fix}")
        try:
            value = loads(input_text)
        except ValueError as exc:
            problems.setdefault("input", []).append(f"not valid JSON: {exc}")
            raise StartRefused(problems) from None
        if known.pipeline:
            for where, message in pipeline_problems(known.path, input_text):
                problems.setdefault(where, []).append(message)
        if problems:
            raise StartRefused(problems)
        return value

    def start(self, name: str, input_text: str, execution_name: str | None = None) -> str:
        """Check, (re)register a file's definition, start; the execution's ARN."""
        value = self.check_start(name, input_text, execution_name)
        known = self.source(name)
        try:
            if known.path is not None:
                role = value.get("role") if known.pipeline and isinstance(value, dict) else None
                self.sfn.create_state_machine(name=name, definition=known.path.read_text(
                    encoding="utf-8"), roleArn=role)
            started = self.sfn.start_execution(stateMachineArn=known.arn,
                                               name=execution_name or None, input=input_text)
        except ExecutionAlreadyExists as exc:
            raise StartRefused({"name": [f"{exc.message} ({exc.fix})" if exc.fix
                                         else exc.message]}) from None
        except SmliftError as exc:
            raise StartRefused({GENERAL: [_said(exc)]}) from None
        self.started.add(started["executionArn"])
        return started["executionArn"]

    # -- executions -----------------------------------------------------------------------
    def executions(self, status: str | None = None, machine: str | None = None) -> list[dict]:
        arn = state_machine_arn(machine) if machine else None
        items = self.sfn.list_executions(stateMachineArn=arn, statusFilter=status or None)
        return [{**_dated(item), "duration": _duration(item)} for item in items["executions"]]

    def snapshot(self, arn: str, after_event: int = 0) -> dict:
        """The execution now: its description, each state's progress, the events after
        `after_event`, and the processing jobs its states started."""
        described = self.sfn.describe_execution(executionArn=arn)
        events = self.sfn.get_execution_history(executionArn=arn)["events"]
        return {"execution": _dated(described), "states": progress_json(events),
                "events": [_event_row(e) for e in events if e["id"] > after_event],
                "jobs": self._jobs_created(jobs_of(events)), "ended": described["status"] in TERMINAL,
                "here": described["executionArn"] in self.started,
                "pid": os.getpid()}

    def _jobs_created(self, jobs: dict[str, str]) -> dict[str, dict]:
        """State -> {name, status} of the jobs that exist (a Task schedules its job a moment
        before CreateProcessingJob makes it; a refused request never makes one)."""
        found = {}
        for state, name in jobs.items():
            try:
                status = self.jobs.job_description(name)["ProcessingJobStatus"]
            except SmliftError:
                continue
            found[state] = {"name": name, "status": status}
        return found

    def stop(self, arn: str) -> None:
        self.sfn.stop_execution(executionArn=arn, error="smlift.ConsoleStop",
                                cause="stopped from the smlift console")

    def redrive(self, arn: str) -> None:
        """RedriveExecution (AWS's rules; ExecutionNotRedrivable otherwise). The redriven run
        continues in the console's process, as executions started here do."""
        self.sfn.redrive_execution(executionArn=arn)
        self.started.add(arn)

    def running_here(self) -> list[str]:
        """The executions started from this console that have not ended."""
        return [arn for arn in sorted(self.started)
                if self.sfn.describe_execution(executionArn=arn)["status"] == "RUNNING"]

    # -- jobs, S3, images -----------------------------------------------------------------
    def job(self, name: str) -> dict:
        return _dated(self.jobs.describe_processing_job(ProcessingJobName=name))

    def follow_log(self, name: str):
        return self.jobs.follow_log(name, poll_seconds=0.3)

    def s3_entries(self, uri: str | None) -> list[dict]:
        return [{"name": e.name, "prefix": e.is_prefix, "size": e.size,
                 "modified": datetime.fromtimestamp(e.modified).isoformat(" ", "seconds")
                 if e.modified else ""} for e in list_entries(self.s3, uri or None)]

    def s3_object(self, uri: str) -> Path:
        """The file of an object of local S3 (StorageError: NoSuchKey for anything else,
        including a link or a folder: nothing outside local S3 is ever served)."""
        self.s3.stat(uri)
        return self.s3.path_for(uri)

    def images(self) -> list[dict]:
        return list_images(self.jobs.home)


def machine_sources(project: Path, definitions) -> list[MachineSource]:
    """The project's pipeline (when its definition exists) and each definition file, named
    by its file name without extension as `smlift execute` names it."""
    found: list[MachineSource] = []
    pipeline = project / DEFAULT_DEFINITION
    if pipeline.is_file():
        found.append(MachineSource(STATE_MACHINE_NAME, pipeline, pipeline=True))
    for path in definitions:
        path = Path(path).absolute()
        if path != pipeline:
            found.append(MachineSource(definition_stem(str(path)), path))
    return found


def pipeline_problems(definition: Path, input_text: str) -> list[tuple[str, str]]:
    """`smlift validate`'s checks of the definition against this input (contract, dry run,
    requests, hand-offs), as (field, message): an input field's problem is keyed by the
    field ("input.role"), the rest by "input" or "" (the definition). Warnings are left out."""
    with tempfile.TemporaryDirectory(prefix="smlift-console-") as folder:
        path = Path(folder) / "input.json"
        path.write_text(input_text, encoding="utf-8")
        found = validate_pipeline(definition, path)
    out = []
    for problem in (p for p in found if p.severity != "warning"):
        where = problem.where
        text = f"{problem.message} (fix: {problem.fix})".replace(str(path), "the input")
        if where.startswith(f"{path}:"):
            out.append((f"input.{where[len(str(path)) + 1:]}", text))
        elif where == str(path):
            out.append(("input", text))
        else:
            out.append((GENERAL, f"{where}: {text}"))
    return out


def jobs_of(events: list[dict]) -> dict[str, str]:
    """State name -> the ProcessingJobName its last TaskScheduled asked for."""
    owner: dict[int, str] = {}
    jobs: dict[str, str] = {}
    for event in events:
        details = details_of(event)
        if event["type"].endswith("StateEntered"):
            owner[event["id"]] = details.get("name")
            continue
        owner[event["id"]] = owner.get(event.get("previousEventId") or 0)
        if event["type"] == "TaskScheduled" and owner[event["id"]]:
            try:
                parameters = json.loads(details.get("parameters") or "{}")
            except ValueError:
                continue
            if isinstance(parameters, dict) and parameters.get("ProcessingJobName"):
                jobs[owner[event["id"]]] = str(parameters["ProcessingJobName"])
    return jobs


def _event_row(event: dict) -> dict:
    details = details_of(event)
    return {"id": event["id"], "previousEventId": event.get("previousEventId"),
            "type": event["type"], "timestamp": _iso(event.get("timestamp")),
            "details": json.dumps(details, indent=1, ensure_ascii=False) if details else ""}


def _iso(value: Any) -> Any:
    return value.isoformat(timespec="milliseconds") if isinstance(value, datetime) else value


def _dated(record: dict) -> dict:
    return {key: _iso(value) for key, value in record.items()}


def _duration(item: dict) -> str:
    """How long it ran (so far, while RUNNING), as 1.2 s, 3 min 4 s or 1 h 2 min."""
    end = item.get("stopDate") or datetime.now(item["startDate"].tzinfo)
    seconds = max(0.0, (end - item["startDate"]).total_seconds())
    if seconds < 60:
        return f"{seconds:.1f} s"
    if seconds < 3600:
        return f"{int(seconds // 60)} min {int(seconds % 60)} s"
    return f"{int(seconds // 3600)} h {int(seconds % 3600 // 60)} min"


def _said(exc: SmliftError) -> str:
    parts = [exc.message, f"where: {exc.where}" if exc.where else "",
             f"fix: {exc.fix}" if exc.fix else ""]
    return " · ".join(p for p in parts if p)
