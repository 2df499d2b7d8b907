"""Lay out one job's root: its own `/opt/ml` tree, its inputs, the image's files, its log folder.

    home/jobs/NAME/
      opt/ml/config/processingjobconfig.json   the request with AWS's defaults (spec.config)
      opt/ml/config/resourceconfig.json        {"current_host": "algo-1", "hosts": ["algo-1"], ...}
      opt/ml/processing/<input>/...            S3 inputs staged in File mode (copies or reflinks)
      opt/ml/processing/<output>/              created empty; published when the job completes
      opt/ml/output/                           the job may write `message` here (ExitMessage)
      <container paths of the image's COPY/ADD files>, e.g. opt/program/predict.py (copies)
      logs/algo-1-<epoch>                      stdout and stderr of the job, one stream

**Several instances** (InstanceCount N > 1): each instance `algo-i` gets a root of its own
with the same layout, and they share one log folder:

    home/jobs/NAME/algo-1/opt/ml/...           algo-1's /opt/ml (resourceconfig: current_host
    home/jobs/NAME/algo-2/opt/ml/...           algo-1, hosts [algo-1 ... algo-N]), and so on
    home/jobs/NAME/logs/algo-i-<epoch>         one stream per instance

A FullyReplicated input is staged whole on every instance. A ShardedByS3Key input gives each
instance its share (`local.s3.deal`): the objects in S3's key order, dealt round-robin, so
algo-1 gets objects 1, N+1, 2N+1, ..., and an instance may get none when there are fewer
objects than instances (its folder is then empty). One instance keeps the layout above.

Inputs go through `LocalS3.stage_prefix` / `stage_manifest`, which copy (reflink where the
filesystem can): nothing the job does to its staged inputs can change a stored object. The
image's files are copied too, never linked into the image store. The image's files are laid in
first and the inputs after, as SageMaker mounts its volumes over the image's filesystem.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..confined import remove_tree
from ..errors import ProcessingJobError, StorageError
from .spec import JobSpec, OutputSpec


class ClientError(ProcessingJobError):
    """A job failure SageMaker reports as `ClientError: ...` (bad input, unknown image)."""


@dataclass(frozen=True)
class StagedJob:
    """One instance's root (the job's root when it has one instance)."""

    root: Path                                  # home/jobs/NAME (or home/jobs/NAME/algo-i)
    outputs: tuple[tuple[OutputSpec, Path], ...]  # each output and its host folder
    host: str = "algo-1"
    hosts: tuple[str, ...] = ("algo-1",)
    logs: Path | None = None                    # the job's shared log folder, when not root/logs

    @property
    def opt_ml(self) -> Path:
        return self.root / "opt" / "ml"

    @property
    def log_dir(self) -> Path:
        return self.logs if self.logs is not None else self.root / "logs"

    @property
    def index(self) -> int:
        """0 for algo-1, 1 for algo-2, ..."""
        return self.hosts.index(self.host)

    @property
    def message_path(self) -> Path:
        return self.opt_ml / "output" / "message"


def job_root(home: Path, name: str) -> Path:
    return home / "jobs" / name


def host_path(root: Path, container_path: str) -> Path:
    """The host path under the job root of an absolute container path (no escaping the root)."""
    parts = [part for part in container_path.split("/") if part not in ("", ".")]
    if ".." in parts:
        raise ProcessingJobError(f"container path {container_path!r} may not contain '..'",
                                 fix="use an absolute path without '..'")
    return root.joinpath(*parts)


def cluster_layout(root: Path, spec: JobSpec) -> tuple[StagedJob, ...]:
    """Where each instance of the job lives (nothing is created): the job root itself for one
    instance, `root/algo-i` sharing `root/logs` for several."""
    hosts = tuple(f"algo-{i}" for i in range(1, spec.instance_count + 1))
    if len(hosts) == 1:
        return (_layout(root, spec, "algo-1", hosts, None),)
    return tuple(_layout(root / host, spec, host, hosts, root / "logs") for host in hosts)


def _layout(root: Path, spec: JobSpec, host: str, hosts: tuple[str, ...],
            logs: Path | None) -> StagedJob:
    return StagedJob(root=root, outputs=tuple(
        (output, host_path(root, output.local_path)) for output in spec.outputs),
        host=host, hosts=hosts, logs=logs)


def clear_root(root: Path) -> None:
    """Remove what a previous job of this name left (a planted link goes, never entered)."""
    if root.is_symlink():
        root.unlink()
    elif root.exists():
        remove_tree(root.parent, root)


def create_root(root: Path, spec: JobSpec, staged: StagedJob | None = None) -> StagedJob:
    """A fresh instance root (`staged`, default: a one-instance job's) with the config files
    and empty output folders (no data yet)."""
    staged = staged or _layout(root, spec, "algo-1", ("algo-1",), None)
    clear_root(staged.root)
    config = staged.opt_ml / "config"
    for folder in (config, staged.opt_ml / "output", staged.log_dir,
                   *(path for _, path in staged.outputs)):
        folder.mkdir(parents=True, exist_ok=True)
    _write_json(config / "processingjobconfig.json", spec.config)
    _write_json(config / "resourceconfig.json",
                resource_config(spec.instance_type, staged.host, staged.hosts))
    return staged


def resource_config(instance_type: str, host: str = "algo-1",
                    hosts: tuple[str, ...] = ("algo-1",)) -> dict:
    """resourceconfig.json as SageMaker writes it on instance `host` of the cluster `hosts`."""
    return {"current_host": host, "current_instance_type": instance_type,
            "current_group_name": "homogeneousCluster", "hosts": list(hosts),
            "instance_groups": [{"instance_group_name": "homogeneousCluster",
                                 "instance_type": instance_type, "hosts": list(hosts)}],
            "network_interface_name": "eth0"}


def lay_image_files(staged: StagedJob, files: tuple[tuple[Path, str], ...]) -> None:
    """Copy the image's COPY/ADD files to their container paths under the job root."""
    for source, container_path in files:
        source = Path(source)
        target = host_path(staged.root, container_path)
        if container_path.endswith("/") and source.is_file():
            target = target / source.name
        if source.is_dir():
            shutil.copytree(source, target, symlinks=True, dirs_exist_ok=True)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)


def stage_inputs(staged: StagedJob, spec: JobSpec, s3: Any) -> dict[str, int]:
    """Stage every S3 input in File mode, a ShardedByS3Key one as this instance's share;
    returns {InputName: object count}. A prefix with no objects fails the job as SageMaker does
    (ClientError: No S3 objects found ...); an empty share of a non-empty input does not."""
    counts = {}
    for item in spec.inputs:
        dest = host_path(staged.root, item.local_path)
        dest.mkdir(parents=True, exist_ok=True)
        stage = s3.stage_manifest if item.data_type == "ManifestFile" else s3.stage_prefix
        sharded = item.distribution == "ShardedByS3Key" and len(staged.hosts) > 1
        shard = (staged.index, len(staged.hosts)) if sharded else (0, 1)
        try:
            counts[item.name] = stage(item.s3_uri, dest, shard)
            # algo-1's share is empty only when the whole input is
            empty = counts[item.name] == 0 and (not sharded or staged.index == 0)
        except StorageError as exc:
            raise ClientError(f"Cannot stage input '{item.name}' from {item.s3_uri}: {exc}",
                              where=item.name) from exc
        if empty:
            raise ClientError(
                f'No S3 objects found under S3 URL "{item.s3_uri}" given in input data source '
                f"'{item.name}'. Please ensure that objects exist under that S3 prefix.",
                where=item.name, fix=f"upload the data first: smlift s3 cp FILE {item.s3_uri}")
    return counts


def stage_job(root: Path, spec: JobSpec, s3: Any, image_files=(),
              staged: StagedJob | None = None) -> StagedJob:
    """create_root + lay_image_files + stage_inputs, for one instance (`staged`, default: a
    one-instance job's)."""
    staged = create_root(root, spec, staged)
    lay_image_files(staged, tuple(image_files))
    stage_inputs(staged, spec, s3)
    return staged


def stage_cluster(instances: tuple[StagedJob, ...], spec: JobSpec, s3: Any,
                  image_files=()) -> tuple[StagedJob, ...]:
    """stage_job for every instance of `cluster_layout`, the job root cleared first."""
    if len(instances) > 1:
        clear_root(instances[0].root.parent)
    return tuple(stage_job(one.root, spec, s3, image_files, one) for one in instances)


def discard_work(staged: StagedJob) -> None:
    """After the job: drop the staged data and the runner's scratch folders; keep the config,
    the message and the logs. A link the job left in their place is unlinked, never followed
    (`confined.remove_tree`); an unreadable folder (an overlay's work folder) is made readable."""
    for folder in (staged.opt_ml / "processing", staged.root / ".smlift"):
        remove_tree(staged.root, folder)


def _write_json(path: Path, value: Any) -> None:
    temp = path.with_name(path.name + ".tmp")
    temp.write_text(json.dumps(value, indent=2, default=str), encoding="utf-8")
    os.replace(temp, path)
