"""Local endpoints: a registered model version served on this machine, until deleted.

`LocalEndpoints` keeps each endpoint as a server process (`hosting_command`: a container on
the Docker engine, or the image's runtime on the local engine) listening on a loopback port, and
its record in `$SMLIFT_HOME/endpoints/NAME/endpoint.json`, shaped as `describe_endpoint` answers
on AWS (EndpointName, EndpointArn, EndpointStatus, ProductionVariants, AsyncInferenceConfig,
...), plus where it listens and what runs it (`Url`, `Engine`, `Pid`, `Container`, `Model`).

    deploy NAME MODEL[:VERSION]   choose the version (Approved only, unless allowed), resolve its
                                  image, start a server, wait for /ping, then record it. A second
                                  deploy starts the new server first and stops the old one only
                                  once the new one answers (no downtime), as UpdateEndpoint does.
    invoke NAME BODY TYPE         POST /invocations; a 4xx answer is an InputError with its reason.
                                  A serverless endpoint takes at most MaxConcurrency invocations
                                  at once, as SageMaker's runtime does: one more is refused at
                                  once with ThrottlingException (HTTP 429), counted across every
                                  process on this machine (`ConcurrencySlots`). Its server runs
                                  with MemorySizeInMB as its memory limit on the Docker engine.
    invoke_async NAME S3-URI      async endpoints: the request read from local S3, the answer
                                  written to local S3 under the endpoint's S3OutputPath
    describe / list / delete      delete stops the server and removes the record
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import signal
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any, Callable

from ..errors import InputError, SmliftError
from ..images import resolve_image
from ..local.s3 import LocalS3
from ..registry import LocalRegistry, ModelVersion, check_name, choose_version
from .host import free_port, hosting_command, invoke, ping, start, wait_until_ready

REALTIME, SERVERLESS, ASYNC = "realtime", "serverless", "async"
TYPES = (REALTIME, SERVERLESS, ASYNC)
LOCAL_ACCOUNT, LOCAL_REGION = "000000000000", "local"


class EndpointError(SmliftError):
    """An endpoint that cannot be deployed, found or invoked."""


class EndpointThrottled(EndpointError):
    """More concurrent invocations than a serverless endpoint's MaxConcurrency: SageMaker's
    runtime answers HTTP 429 with ThrottlingException, and so does a local endpoint."""

    code = "ThrottlingException"
    status = 429


def parse_model(text: str) -> tuple[str, int | None]:
    """'GROUP' -> (GROUP, None); 'GROUP:3' -> (GROUP, 3)."""
    name, _, version = text.partition(":")
    if version and not version.isdigit():
        raise InputError(f"model version {version!r} is not a number", where="--model",
                         fix="use GROUP or GROUP:VERSION, e.g. hotel-cancellation:2")
    return check_name(name), int(version) if version else None


class LocalEndpoints:
    def __init__(self, home: Path, *, registry=None, engine: str | None = None,
                 resolve: Callable[..., Any] = resolve_image, clock: Callable[[], float] = time.time):
        self.home = Path(home)
        self.root = self.home / "endpoints"
        self.registry = registry or LocalRegistry()
        self.engine = engine
        self.resolve = resolve
        self.clock = clock

    # --- deploy -----------------------------------------------------------------------------
    def deploy(self, name: str, model: str, *, endpoint_type: str = REALTIME,
               allow_unapproved: bool = False, output_uri: str | None = None,
               memory_mb: int | None = None, max_concurrency: int | None = None,
               dry_run: bool = False, echo: Callable[[str], None] | None = None,
               **aws_only: Any) -> dict:
        """Start the version's server (then stop the previous one); its record, with `Calls`:
        what was done, or with `dry_run` only what would be. `aws_only` options (instance type
        and count, autoscaling, role) have no local meaning and are not used."""
        check_name(name)
        if endpoint_type not in TYPES:
            raise InputError(f"unknown endpoint type {endpoint_type!r}", where="--type",
                             fix="one of " + ", ".join(TYPES))
        if endpoint_type == ASYNC and not output_uri:
            raise InputError("an async endpoint needs an S3 output path", where="--output-uri",
                             fix="pass --output-uri s3://BUCKET/PREFIX/")
        group, version = parse_model(model)
        chosen = choose_version(self.registry, group, version, require_approved=not allow_unapproved)
        image = self.resolve(chosen.image_uri, engine=self.engine)
        previous = self._read(name)
        config = self._type_config(endpoint_type, output_uri, memory_mb, max_concurrency)
        calls = [{"Operation": "start_server", "Description": f"start {image.uri} for "
                  f"{chosen.name}:{chosen.version} on the {image.engine} engine"}]
        if previous is not None:
            calls.append({"Operation": "stop_server", "Description": "stop the previous server "
                          f"({previous.get('Model')}) once the new one answers /ping"})
        for call in calls:
            (echo or (lambda _: None))(("would " if dry_run else "") + call["Description"])
        if dry_run:
            return {"EndpointName": name, "DryRun": True, "Calls": calls}
        limit = config.get("ServerlessConfig", {}).get("MemorySizeInMB")
        record = self._start(name, chosen, image, memory_mb=limit)
        record.update(config)
        if previous is not None:
            record["CreationTime"] = previous["CreationTime"]
        self._write(name, record)
        if previous is not None:
            stop_server(previous)
        return {**record, "DryRun": False, "Calls": calls}

    def _start(self, name: str, version: ModelVersion, image, memory_mb: int | None = None) -> dict:
        folder = self.root / name
        serial = uuid.uuid4().hex[:8]
        command = hosting_command(image, free_port(), folder / "root" / serial,
                                  name=f"smlift-endpoint-{name.lower()}-{serial}",
                                  memory_mb=memory_mb)
        log = folder / f"server-{serial}.log"
        process = start(command, log)
        if not wait_until_ready(command.url, lambda: process.poll() is None):
            stop_server({"Pid": process.pid, "Container": command.container})
            tail = log.read_text(errors="replace").strip().splitlines()[-1:] or ["no output"]
            raise EndpointError(f"endpoint {name}: the server for {image.uri} did not answer "
                                f"/ping ({tail[0]})", where=str(log),
                                fix="run it in the foreground with `smlift serve --image "
                                    f"{image.uri}` to see why")
        now = self.clock()
        return {
            "EndpointName": name,
            "EndpointArn": f"arn:aws:sagemaker:{LOCAL_REGION}:{LOCAL_ACCOUNT}:endpoint/{name.lower()}",
            "EndpointConfigName": f"{name}-{serial}",
            "EndpointStatus": "InService",
            "ProductionVariants": [{"VariantName": "AllTraffic", "CurrentInstanceCount": 1,
                                    "DeployedImages": [{"SpecifiedImage": image.uri}]}],
            "CreationTime": now, "LastModifiedTime": now,
            "Model": f"{version.name}:{version.version}", "ModelStatus": version.status,
            "Url": command.url, "Engine": image.engine, "Pid": process.pid,
            "Container": command.container, "Log": str(log),
        }

    @staticmethod
    def _type_config(endpoint_type: str, output_uri: str | None, memory_mb: int | None,
                     max_concurrency: int | None) -> dict:
        config: dict[str, Any] = {"EndpointType": endpoint_type}
        if endpoint_type == SERVERLESS:
            config["ServerlessConfig"] = {"MemorySizeInMB": memory_mb or 2048,
                                          "MaxConcurrency": max_concurrency or 5}
        if endpoint_type == ASYNC:
            config["AsyncInferenceConfig"] = {"OutputConfig": {"S3OutputPath": output_uri}}
        return config

    # --- invoke -----------------------------------------------------------------------------
    def invoke(self, name: str, body: bytes, content_type: str, accept: str | None = None) -> bytes:
        record = self.describe(name)
        if record["EndpointStatus"] != "InService":
            raise EndpointError(f"endpoint {name} is {record['EndpointStatus']}", where=name,
                                fix=f"redeploy it: `smlift endpoints deploy {name} --model "
                                    f"{record['Model']} --local`")
        limit = record.get("ServerlessConfig", {}).get("MaxConcurrency")
        with ConcurrencySlots(self.root / name / "slots", limit).take(name):
            status, _, answer = invoke(record["Url"], body, content_type, accept)
        if status >= 400:
            reason = answer.decode(errors="replace").strip() or f"HTTP {status}"
            raise InputError(f"endpoint {name} refused the request ({status}): {reason}",
                             where="--body", fix="send bookings rows with their header row")
        return answer

    def invoke_async(self, name: str, input_location: str, content_type: str,
                     s3: LocalS3 | None = None) -> dict:
        """InvokeEndpointAsync: the request from local S3, the answer to local S3."""
        record = self.describe(name)
        config = record.get("AsyncInferenceConfig")
        if not config:
            raise EndpointError(f"endpoint {name} is not asynchronous", where=name,
                                fix="invoke it with --body, or deploy it with --type async")
        s3 = s3 or LocalS3(self.home)
        body = s3.get_bytes(input_location)
        inference_id = str(uuid.uuid4())
        output = config["OutputConfig"]["S3OutputPath"].rstrip("/") + f"/{inference_id}.out"
        s3.put_bytes(self.invoke(name, body, content_type), output)
        return {"InferenceId": inference_id, "OutputLocation": output}

    # --- read and delete --------------------------------------------------------------------
    def describe(self, name: str) -> dict:
        record = self._read(name)
        if record is None:
            raise EndpointError(f"no local endpoint named {name!r}", where=name,
                                fix="list them with `smlift endpoints list --local`")
        if not server_alive(record):
            record = {**record, "EndpointStatus": "Failed",
                      "FailureReason": f"the server process is gone (see {record.get('Log')})"}
        return record

    def list(self) -> list[dict]:
        if not self.root.is_dir():
            return []
        return [self.describe(p.name) for p in sorted(self.root.iterdir())
                if (p / "endpoint.json").is_file()]

    def delete(self, name: str, *, dry_run: bool = False,
               echo: Callable[[str], None] | None = None) -> dict:
        """Stop the server and remove the record; what was done (`Calls`)."""
        record = self.describe(name)
        calls = [{"Operation": "stop_server", "Description": f"stop the server of {name} "
                  f"({record.get('Model')}, pid {record.get('Pid')})"},
                 {"Operation": "delete_record", "Description": f"remove {self.root / name}"}]
        for call in calls:
            (echo or (lambda _: None))(("would " if dry_run else "") + call["Description"])
        if not dry_run:
            stop_server(record)
            shutil.rmtree(self.root / name, ignore_errors=True)
        return {"EndpointName": name, "DryRun": dry_run, "Calls": calls}

    def _read(self, name: str) -> dict | None:
        path = self.root / name / "endpoint.json"
        return json.loads(path.read_text()) if path.is_file() else None

    def _write(self, name: str, record: dict) -> None:
        path = self.root / name / "endpoint.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        temp = path.with_suffix(".tmp")
        temp.write_text(json.dumps(record, indent=2))
        os.replace(temp, path)


class ConcurrencySlots:
    """At most `limit` holders at once across processes: one lock file per slot, taken with a
    non-blocking flock (released by the kernel if the holder dies). No limit: no files."""

    def __init__(self, folder: Path, limit: int | None):
        self.folder, self.limit = Path(folder), limit

    @contextlib.contextmanager
    def take(self, name: str):
        if not self.limit:
            yield
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        for slot in range(self.limit):
            handle = open(self.folder / f"slot-{slot}", "a+b")
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.close()
                continue
            try:
                yield
            finally:
                handle.close()      # closing releases the lock
            return
        raise EndpointThrottled(
            f"endpoint {name}: {self.limit} invocation(s) already in flight, its MaxConcurrency "
            "(ThrottlingException, HTTP 429)", where=name,
            fix="retry with backoff, or redeploy with a higher --max-concurrency")


def server_alive(record: dict) -> bool:
    pid = record.get("Pid")
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return ping(record["Url"]) if record.get("Url") else True


def stop_server(record: dict, grace: float = 20) -> None:
    """SIGTERM to the server's process group, SIGKILL after `grace`; the container removed."""
    pid = record.get("Pid")
    if pid:
        try:
            os.killpg(pid, signal.SIGTERM)
            deadline = time.monotonic() + grace
            while time.monotonic() < deadline:
                os.kill(pid, 0)
                _reap(pid)
                time.sleep(0.1)
            os.killpg(pid, signal.SIGKILL)
        except OSError:
            pass
    if record.get("Container"):
        subprocess.run(["docker", "rm", "-f", record["Container"]], capture_output=True)


def _reap(pid: int) -> None:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass
