"""Lay out one job's root: its own `/opt/ml` tree, its inputs, the image's files, its log folder.

    home/jobs/NAME/
      opt/ml/config/processingjobconfig.json   the request with AWS's defaults (spec.config)
      opt/ml/config/resourceconfig.json        {"current_host": "algo-1", "hosts": ["algo-1"], ...}
      opt/ml/processing/<input>/...            S3 inputs staged in File mode (copies or reflinks)
      opt/ml/processing/<output>/              created empty; published when the job completes
      opt/ml/output/                           the job may write `message` here (ExitMessage)
      <container paths of the image's COPY/ADD files>, e.g. opt/program/predict.py (copies)
      logs/algo-1-<epoch>                      stdout and stderr of the job, one stream

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
    root: Path                                  # home/jobs/NAME
    outputs: tuple[tuple[OutputSpec, Path], ...]  # each output and its host folder

    @property
    def opt_ml(self) -> Path:
        return self.root / "opt" / "ml"

    @property
    def log_dir(self) -> Path:
        return self.root / "logs"

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


def create_root(root: Path, spec: JobSpec) -> StagedJob:
    """A fresh job root with the config files and empty output folders (no data yet)."""
    if root.is_symlink():
        root.unlink()  # a link planted in jobs/: it goes, its target is never entered
    elif root.exists():
        remove_tree(root.parent, root)
    staged = StagedJob(root=root, outputs=tuple(
        (output, host_path(root, output.local_path)) for output in spec.outputs))
    config = staged.opt_ml / "config"
    for folder in (config, staged.opt_ml / "output", staged.log_dir,
                   *(path for _, path in staged.outputs)):
        folder.mkdir(parents=True, exist_ok=True)
    _write_json(config / "processingjobconfig.json", spec.config)
    _write_json(config / "resourceconfig.json", resource_config(spec.instance_type))
    return staged


def resource_config(instance_type: str) -> dict:
    """resourceconfig.json as SageMaker writes it for a one-instance cluster."""
    return {"current_host": "algo-1", "current_instance_type": instance_type,
            "current_group_name": "homogeneousCluster", "hosts": ["algo-1"],
            "instance_groups": [{"instance_group_name": "homogeneousCluster",
                                 "instance_type": instance_type, "hosts": ["algo-1"]}],
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
    """Stage every S3 input in File mode; returns {InputName: object count}. A prefix with no
    objects fails the job as SageMaker does (ClientError: No S3 objects found ...)."""
    counts = {}
    for item in spec.inputs:
        dest = host_path(staged.root, item.local_path)
        dest.mkdir(parents=True, exist_ok=True)
        stage = s3.stage_manifest if item.data_type == "ManifestFile" else s3.stage_prefix
        try:
            counts[item.name] = stage(item.s3_uri, dest)
        except StorageError as exc:
            raise ClientError(f"Cannot stage input '{item.name}' from {item.s3_uri}: {exc}",
                              where=item.name) from exc
        if counts[item.name] == 0:
            raise ClientError(
                f'No S3 objects found under S3 URL "{item.s3_uri}" given in input data source '
                f"'{item.name}'. Please ensure that objects exist under that S3 prefix.",
                where=item.name, fix=f"upload the data first: smlift s3 cp FILE {item.s3_uri}")
    return counts


def stage_job(root: Path, spec: JobSpec, s3: Any, image_files=()) -> StagedJob:
    """create_root + lay_image_files + stage_inputs."""
    staged = create_root(root, spec)
    lay_image_files(staged, tuple(image_files))
    stage_inputs(staged, spec, s3)
    return staged


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
