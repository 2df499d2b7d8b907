"""`LocalProcessing`: SageMaker Processing's API, answered on this machine.

    sm = LocalProcessing()                       # state under SMLIFT_HOME
    sm.create_processing_job(**request)          # {"ProcessingJobArn": ...}; the job starts
    sm.describe_processing_job(ProcessingJobName="prep-1")
    sm.stop_processing_job(ProcessingJobName="prep-1")
    sm.list_processing_jobs(StatusEquals="Failed")

It speaks boto3's shapes, so the Step Functions integration (`integration.py`) and the CLI can use
it where they would use a SageMaker client. API errors are `ApiError`s with SageMaker's codes
(ValidationException, ResourceInUse, ResourceNotFound).

A job's life, each step committed to the store's `processing_jobs` table as a
DescribeProcessingJob-shaped description (`describe.py`):

    create: validate -> spec (spec.py); insert InProgress (name taken -> ResourceInUse)
    run, in a background thread of this process:
      resolve the image (images.py) and stage the job root (staging.py), one root per
      instance when InstanceCount > 1                                     -> Failed: ClientError
      launch and supervise the job's instances in parallel (cluster.py, runner.py); a stop
      -> Stopping; one instance failing stops the others                  -> Completed | Failed
                                                                             | Stopped
      Completed only: publish every instance's output folders to S3, all or none (two
      instances writing the same file fail the job), by rename (no link is
      followed at any level: a linked output folder fails the job, links inside it are
      skipped); a job that left less than MIN_FREE_BYTES on the disk filled it, and fails
      unpublished
      end: staged data removed first (a job that filled the disk frees it), then status,
      ExitMessage, FailureReason, ProcessingEndTime; the config and the logs kept under
      home/jobs/NAME/

A job runs in the process that created it. If that process dies, the job's record would stay
InProgress for ever; instead, a job whose runner process is gone is reported Failed
(`InternalServerError: ...`) to whoever reads it. Reads never write (they must work on a full
disk); the next CreateProcessingJob records such jobs as Failed (`reap_orphans`).
"""

from __future__ import annotations

import errno
import os
import shutil
import sys
import threading
from pathlib import Path
from typing import Any, Callable

from ..asl.clock import RealClock
from ..errors import ImageError, SmliftError, StorageError
from ..images import resolve_image
from ..local.home import smlift_home
from ..local.s3 import LocalS3
from ..local.store import open_store, process_alive
from ..prebuilt import LOOKALIKE_PYTHON, sklearn_release
from . import describe as D
from .cluster import run_cluster
from .runner import (DEFAULT_GRACE_SECONDS, DOCKER, SANDBOXED, JobControl, RunResult,
                     popen_launcher, resolve_mode)
from .sandbox import warn_unsandboxed
from .spec import ApiError, JobSpec, build_spec
from .staging import ClientError, StagedJob, cluster_layout, discard_work, job_root, stage_cluster

DEFAULT_ACCOUNT = "123456789012"
DEFAULT_REGION = "us-east-1"
MIN_FREE_BYTES = 64 * 1024  # less left after a job: it filled the disk, and fails


class LocalProcessing:
    """The local SageMaker Processing service under `home` (default: SMLIFT_HOME)."""

    def __init__(self, home: Path | None = None, *, store: Any = None, s3: Any = None,
                 resolve_image: Callable[[str], Any] | None = None,
                 launcher: Callable = popen_launcher, clock: Any = None, mode: str | None = None,
                 grace_seconds: float = DEFAULT_GRACE_SECONDS, region: str | None = None,
                 account: str | None = None, engine: str | None = None):
        self.home = Path(home) if home is not None else smlift_home()
        self._store, self._s3, self._resolve_image = store, s3, resolve_image
        self._launcher, self._mode, self._grace = launcher, mode, grace_seconds
        self._engine = engine
        if clock is None:
            clock = RealClock()
        self._clock = clock
        self.region = region or os.environ.get("AWS_REGION") or os.environ.get(
            "AWS_DEFAULT_REGION") or DEFAULT_REGION
        self.account = account or DEFAULT_ACCOUNT
        self._controls: dict[str, JobControl] = {}
        self._unrecorded: dict[str, dict] = {}  # ends the store could not take (a full disk)
        self._done: dict[str, threading.Event] = {}
        self._lock = threading.Lock()

    # -- collaborators, opened on first use ---------------------------------------------------
    @property
    def store(self):
        if self._store is None:
            self._store = open_store(self.home)
        return self._store

    @property
    def s3(self):
        if self._s3 is None:
            self._s3 = LocalS3(self.home)
        return self._s3

    def _image(self, uri: str) -> Any:
        if self._resolve_image is not None:
            return self._resolve_image(uri)
        return resolve_image(uri, self.home, engine=self._engine)

    # -- the API --------------------------------------------------------------------------------
    def create_processing_job(self, **request: Any) -> dict:
        return self.create_job(request)

    def create_job(self, request: Any, *, region: str | None = None,
                   account: str | None = None) -> dict:
        """create_processing_job, for a request held as a dict, in a given region/account (the
        Step Functions integration creates jobs in its execution's region and account)."""
        name = request.get("ProcessingJobName") if isinstance(request, dict) else None
        arn = D.job_arn(name if isinstance(name, str) else "", region or self.region,
                        account or self.account)
        spec = build_spec(request, arn=arn)
        mode = resolve_mode(self._mode)
        root = job_root(self.home, spec.name)
        now = self._clock.now()
        description = D.new_description(spec, now, tags=list(request.get("Tags", [])),
                                        job_root=str(root))
        self.reap_orphans()
        with self._lock:
            existing = self.store.find_processing_job(spec.name)
            if existing is not None or not self.store.create_processing_job(
                    spec.name, arn, description, now):
                existing = existing or self.store.get_processing_job(spec.name) or {}
                raise ApiError("ResourceInUse", "Job name must be unique within an AWS account "
                               "and region, and a job with this name already exists "
                               f"({existing.get('ProcessingJobArn', arn)})",
                               where="ProcessingJobName",
                               fix="choose another ProcessingJobName")
            control, done = JobControl(), threading.Event()
            self._controls[spec.name], self._done[spec.name] = control, done
        threading.Thread(target=self._execute, args=(spec, root, mode, control, done),
                         name=f"smlift-job-{spec.name}", daemon=True).start()
        return {"ProcessingJobArn": arn}

    def describe_processing_job(self, ProcessingJobName: str) -> dict:  # noqa: N803 (boto3)
        return D.to_boto(self.job_description(ProcessingJobName))

    def stop_processing_job(self, ProcessingJobName: str) -> dict:  # noqa: N803
        description = self.job_description(ProcessingJobName)
        status = description["ProcessingJobStatus"]
        if status in D.TERMINAL:
            raise ApiError("ValidationException",
                           f"The processing job '{ProcessingJobName}' has already {status.lower()}"
                           " and cannot be stopped", where="ProcessingJobName")
        control = self._controls.get(ProcessingJobName)
        if control is None:
            raise ApiError("ValidationException", f"The processing job '{ProcessingJobName}' "
                           "is run by another smlift process; stop it there",
                           where="ProcessingJobName", fix="interrupt that smlift process")
        control.stop("StopRequested")
        return {}

    def list_processing_jobs(self, *, NameContains: str | None = None,  # noqa: N803
                             StatusEquals: str | None = None, SortBy: str = "CreationTime",
                             SortOrder: str = "Descending", MaxResults: int = 100,
                             NextToken: str | None = None, **_: Any) -> dict:
        jobs = [self._as_seen(d) for d in self.store.list_processing_jobs()]
        jobs = [d for d in jobs if (not StatusEquals or d["ProcessingJobStatus"] == StatusEquals)
                and (not NameContains or NameContains.lower() in d["ProcessingJobName"].lower())]
        key = {"Name": "ProcessingJobName", "Status": "ProcessingJobStatus"}.get(SortBy, SortBy)
        jobs.sort(key=lambda d: d.get(key) or 0, reverse=SortOrder == "Descending")
        start = int(NextToken or 0)
        page = jobs[start:start + MaxResults]
        answer: dict = {"ProcessingJobSummaries": [D.to_boto(D.summary(d)) for d in page]}
        if start + MaxResults < len(jobs):
            answer["NextToken"] = str(start + MaxResults)
        return answer

    def list_tags(self, ResourceArn: str) -> dict:  # noqa: N803
        for description in self.store.list_processing_jobs():
            if description["ProcessingJobArn"] == ResourceArn:
                return {"Tags": description.get("SmliftLocal", {}).get("Tags", [])}
        raise ApiError("ValidationException", f"Resource {ResourceArn} does not exist",
                       where="ResourceArn")

    # -- for the integration and the CLI -----------------------------------------------------
    def job_description(self, name: str) -> dict:
        """The stored description (timestamps as epoch seconds); ResourceNotFound if none."""
        description = self._unrecorded.get(name) or self.store.get_processing_job(name)
        if description is None:
            raise ApiError("ResourceNotFound", f"Could not find processing job '{name}'",
                           where="ProcessingJobName", fix="see `smlift jobs list`")
        return self._as_seen(description)

    def log_file(self, name: str) -> Path | None:
        """The job's (algo-1's) log stream file (stdout + stderr), once the job has started."""
        files = self.log_files(name)
        return files[0] if files else None

    def log_files(self, name: str) -> list[Path]:
        """Every instance's log stream file, algo-1's first ([] before the job has started)."""
        local = self.job_description(name).get("SmliftLocal", {})
        if local.get("LogFiles") or local.get("LogFile"):
            return [Path(path) for path in local.get("LogFiles") or [local["LogFile"]]]
        latest: dict[str, Path] = {}
        for path in sorted((job_root(self.home, name) / "logs").glob("algo-*-*")):
            latest[path.name.rpartition("-")[0]] = path  # each host's newest stream
        return [latest[host] for host in sorted(latest, key=_host_number)]

    def log_lines(self, name: str) -> list[str]:
        """The job's log streams as lines ([] before the job has started); a job of several
        instances has each line prefixed with its host (`[algo-2] ...`), stream by stream."""
        files = self.log_files(name)
        lines = []
        for path in files:
            if path.exists():
                text = path.read_text(encoding="utf-8", errors="replace")
                lines += [_tagged(path, line, len(files)) for line in text.splitlines()]
        return lines

    def follow_log(self, name: str, poll_seconds: float = 0.5):
        """Yield the logs' lines as they are written, until the job has ended (each line
        prefixed with its host when the job has several instances)."""
        positions: dict[Path, int] = {}
        pending: dict[Path, str] = {}
        while True:
            ended = self.job_description(name)["ProcessingJobStatus"] in D.TERMINAL
            files = self.log_files(name)
            for path in (p for p in files if p.exists()):
                with open(path, "rb") as handle:
                    handle.seek(positions.get(path, 0))
                    chunk = handle.read()
                positions[path] = positions.get(path, 0) + len(chunk)
                text = pending.get(path, "") + chunk.decode("utf-8", errors="replace")
                *lines, pending[path] = text.split("\n")
                yield from (_tagged(path, line, len(files)) for line in lines)
            if ended:
                yield from (_tagged(path, rest, len(files)) for path, rest in pending.items()
                            if rest)
                return
            self._clock.sleep(poll_seconds, None)

    def wait(self, name: str, cancel: threading.Event | None = None,
             poll_seconds: float = 0.5) -> dict:
        """Block until the job ends; setting `cancel` stops it (and still waits for its end)."""
        done = self._done.get(name)
        stopped = False
        while True:
            if done is not None and done.wait(0.1 if cancel is not None else poll_seconds):
                return self.job_description(name)
            description = self.job_description(name)
            if description["ProcessingJobStatus"] in D.TERMINAL:
                return description
            if cancel is not None and cancel.is_set() and not stopped:
                stopped = True
                self._stop_quietly(name)
            if done is None:
                self._clock.sleep(poll_seconds, None)

    def _stop_quietly(self, name: str) -> None:
        try:
            self.stop_processing_job(ProcessingJobName=name)
        except ApiError:
            pass  # it ended meanwhile, or runs elsewhere

    # -- running a job --------------------------------------------------------------------------
    def _execute(self, spec: JobSpec, root: Path, mode: str, control: JobControl,
                 done: threading.Event) -> None:
        staged = cluster_layout(root, spec)  # what to discard if staging fails half-way
        try:
            self._update(spec.name, "InProgress", local={"IsolationMode": mode,
                                                          "RunnerPid": os.getpid()})
            try:
                image = self._image(spec.image_uri)
                if getattr(image, "engine", "local") == "docker":
                    mode = DOCKER  # the image's files are inside it, not laid into the root
                if mode not in SANDBOXED:
                    warn_unsandboxed(mode)  # once per process, on stderr
                self._update(spec.name, "InProgress", local={
                    "IsolationMode": mode, "Sandboxed": mode in SANDBOXED,
                    "Engine": getattr(image, "engine", "local"), "Image": _image_note(image)})
                files = () if mode == DOCKER else getattr(image, "files", ())
                staged = stage_cluster(staged, spec, self.s3, files)
            except (ClientError, ImageError) as exc:
                self._finish_clean(spec.name, staged, "Failed", FailureReason=_client_error(exc))
                return
            except OSError as exc:  # e.g. the disk filled up while staging the inputs
                self._finish_clean(spec.name, staged, "Failed", FailureReason=(
                    f"ClientError: cannot stage the inputs: {_os_reason(exc)}"))
                return
            if control.stop_reason is not None:
                self._finish_clean(spec.name, staged, "Stopped")
                return
            self._update(spec.name, "InProgress", ProcessingStartTime=self._clock.now())
            result = run_cluster(spec, image, staged, mode=mode, control=control,
                                 launcher=self._launcher, clock=self._clock,
                                 grace_seconds=self._grace,
                                 on_stopping=lambda: self._update(spec.name, "Stopping"))
            self._conclude(spec, staged, result)
        except SmliftError as exc:  # e.g. no command to run, or one that cannot be started
            self._finish_clean(spec.name, staged, "Failed", FailureReason=_client_error(exc))
        except Exception as exc:  # a bug or an environment failure: the record must still end
            self._finish_clean(spec.name, staged, "Failed", FailureReason=(
                f"InternalServerError: {type(exc).__name__}: {exc}"[:1024]))
        finally:
            done.set()
            with self._lock:
                self._controls.pop(spec.name, None)

    def _conclude(self, spec: JobSpec, staged: tuple[StagedJob, ...], result: RunResult) -> None:
        """Publish a Completed job's outputs (every instance's), all or none; then discard its
        staged data and record how it ended."""
        status, reason = result.status, result.failure_reason
        free = _free_bytes(self.home)
        if free < MIN_FREE_BYTES:  # the job filled the disk: its outputs may be cut short
            status, reason = "Failed", (
                f"ClientError: the job filled the disk of SMLIFT_HOME ({free} bytes left); its "
                "outputs were not published (fix: free some space, or give the job a bigger "
                "disk)")
        if status == "Completed":
            try:
                check_distinct_outputs(staged)
                self.s3.publish_dirs([(folder, output.s3_uri) for one in staged
                                      for output, folder in one.outputs],
                                     move=True, root=job_root(self.home, spec.name))
            except SmliftError as exc:
                status, reason = "Failed", f"ClientError: cannot upload outputs: {exc}"[:1024]
            except OSError as exc:
                status, reason = "Failed", ("ClientError: cannot upload outputs: "
                                            f"{_os_reason(exc)}")[:1024]
        local: dict[str, Any] = {"LogFile": str(result.log_file), "ExitCode": result.exit_code,
                                 "LogStreamName": f"{spec.name}/{result.log_file.name}"}
        peaks = {host: peak for host, peak in result.peaks if peak is not None}
        if peaks:
            local["PeakMemoryBytes"] = peaks
        if len(staged) > 1:
            local.update(Host=result.host, LogFiles=[str(path) for path in result.log_files],
                         LogStreamNames=[f"{spec.name}/{path.name}" for path in result.log_files])
        self._finish_clean(spec.name, staged, status, ExitMessage=result.exit_message,
                           FailureReason=reason, local=local)

    def _finish_clean(self, name: str, staged: tuple[StagedJob, ...], status: str,
                      **fields: Any) -> None:
        """Discard the staged data, then record the end: a job that filled the disk frees it
        before its result has to be written. If even then the store cannot be written, this
        process still answers with the end (readers elsewhere see the job orphaned once it
        exits)."""
        try:
            for one in staged:
                discard_work(one)
        finally:
            try:
                self._finish(name, status, **fields)
            except StorageError:
                stored = self.store.get_processing_job(name)
                self._unrecorded[name] = D.with_status(
                    stored, status, self._clock.now(), ProcessingEndTime=self._clock.now(),
                    **fields)

    def _update(self, name: str, status: str, **fields: Any) -> dict:
        with self._lock:
            description = D.with_status(self.store.get_processing_job(name), status,
                                        self._clock.now(), **fields)
            self.store.update_processing_job(name, description, self._clock.now())
        return description

    def _finish(self, name: str, status: str, **fields: Any) -> dict:
        return self._update(name, status, ProcessingEndTime=self._clock.now(), **fields)

    def _as_seen(self, description: dict) -> dict:
        """The description a reader gets: an unfinished job whose runner process has died is
        reported Failed, as of its last update. Computed, never written: reading a job must work
        on a full disk or a read-only home (`reap_orphans`, a writer, records it)."""
        name = description["ProcessingJobName"]
        pid = description.get("SmliftLocal", {}).get("RunnerPid")
        if (description["ProcessingJobStatus"] in D.TERMINAL or name in self._controls
                or pid is None or pid == os.getpid() or process_alive(pid)):
            return description
        ended = description.get("LastModifiedTime") or self._clock.now()
        return D.with_status(description, "Failed", ended, ProcessingEndTime=ended,
                             FailureReason=_orphan_reason(pid))

    def reap_orphans(self) -> list[str]:
        """Record as Failed every unfinished job whose runner process has died; their names."""
        reaped = []
        with self._lock:
            for stored in self.store.list_processing_jobs():
                seen = self._as_seen(stored)
                if seen["ProcessingJobStatus"] != stored["ProcessingJobStatus"]:
                    self.store.update_processing_job(seen["ProcessingJobName"], seen,
                                                     self._clock.now())
                    reaped.append(seen["ProcessingJobName"])
        return reaped


def check_distinct_outputs(instances: tuple[StagedJob, ...]) -> None:
    """Two instances that wrote the same file under the same output would overwrite each
    other's object on SageMaker, in an order no one chooses; locally the job fails instead
    (docs/fidelity.md). Each instance should name its files after its host."""
    if len(instances) < 2:
        return
    seen: dict[tuple[str, str], str] = {}
    for one in instances:
        for output, folder in one.outputs:
            for rel in _files_under(folder):
                key = (output.s3_uri, rel)
                if key in seen:
                    raise ClientError(
                        f"{seen[key]} and {one.host} both wrote {key[1]!r} to output "
                        f"'{output.name}': on SageMaker one object would overwrite the other",
                        where=output.name, fix="name each instance's files after its host "
                        "(current_host in /opt/ml/config/resourceconfig.json)")
                seen[key] = one.host


def _files_under(folder: Path) -> list[str]:
    """The relative paths of the files under `folder` (links not followed)."""
    found = []
    for where, dirs, files in os.walk(folder, followlinks=False):
        found += [(Path(where) / name).relative_to(folder).as_posix() for name in files]
    return sorted(found)


def _host_number(host: str) -> int:
    return int(host.rpartition("-")[2]) if host.rpartition("-")[2].isdigit() else 0


def _tagged(path: Path, line: str, streams: int) -> str:
    """`[algo-2] line` when the job has several streams; the line itself otherwise."""
    return f"[{path.name.rpartition('-')[0]}] {line}" if streams > 1 else line


def _orphan_reason(pid: int) -> str:
    return (f"InternalServerError: the smlift process that ran this job (pid {pid}) ended "
            "before the job did")


def _free_bytes(path: Path) -> int:
    try:
        return shutil.disk_usage(path).free
    except OSError:
        return MIN_FREE_BYTES  # unknown: assume the job did not fill it


def _os_reason(exc: OSError) -> str:
    if exc.errno == errno.ENOSPC:
        return "no space left on the disk of SMLIFT_HOME"
    return f"{exc.strerror or exc}" + (f": {exc.filename}" if exc.filename else "")


def _image_note(image: Any) -> str:
    """What stood for the job's image, for its description (`SmliftLocal.Image`); for the
    prebuilt scikit-learn image, also where its Python differs from the real image's."""
    kind, engine = getattr(image, "kind", "built"), getattr(image, "engine", "local")
    if engine == "docker":
        origin = getattr(image, "origin", "")
        what = "the image" if kind == "built" else f"the prebuilt image ({origin or 'as found'})"
        note = f"{what} {getattr(image, 'docker_ref', '')} on the Docker engine"
        python = LOOKALIKE_PYTHON if origin == "smlift look-alike" else None
    else:
        note = f"a local runtime ({getattr(image, 'bin_dir', '')}) with the image's packages"
        python = f"{sys.version_info.major}.{sys.version_info.minor}"
    release = sklearn_release(getattr(image, "uri", "")) if kind == "prebuilt" else None
    if release is not None and python is not None and python != release.python:
        note += f"; Python {python}, where the real image has Python {release.python}"
    return note


def _client_error(exc: SmliftError) -> str:
    """SageMaker's `ClientError: ...` FailureReason, with our fix appended (at most 1 KB)."""
    text = f"ClientError: {exc.message}" + (f" (fix: {exc.fix})" if exc.fix else "")
    return text[:1024]
