"""Images of the Docker engine: look one up by name, and make the prebuilt scikit-learn image.

`docker_image(uri)` answers for any image the engine holds under that name, however it got there
(`smlift build`, `docker build -t`, `sm-docker`, a pull). `sklearn_lookalike(uri, release)` makes
sure the engine holds an image under the exact URI an execution input names for the prebuilt
`sagemaker-scikit-learn` image, so the same input runs unchanged:

1. the image is already there (pulled earlier, or a look-alike built earlier): use it;
2. the real image can be pulled, where AWS credentials reach its ECR registry
   (`aws ecr get-login-password | docker login`, then `docker pull`): use it;
3. else build a look-alike once (`prebuilt.lookalike_dockerfile`) and tag it with the URI.

The image's label `org.smlift.prebuilt` tells a look-alike from the real image, and the job's
description records which one ran (`SmliftLocal.Image`).
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path
from typing import Callable

from ..errors import ImageError
from ..prebuilt import SklearnRelease, lookalike_dockerfile
from .engine import docker_build, inspect_image, pull_with_ecr_login
from .image import LocalImage

LOOKALIKE_LABEL = "org.smlift.prebuilt"


def docker_image(uri: str):
    """The LocalImage of an image the engine holds under `uri`, or None."""
    config = inspect_image(uri)
    if config is None:
        return None
    return LocalImage(uri=uri, bin_dir=Path("/usr/local/bin"), entrypoint=config["Entrypoint"],
                      cmd=config["Cmd"], env=config["Env"], workdir=config["WorkingDir"],
                      files=(), kind="built", engine="docker", digest=config["Id"],
                      docker_ref=uri)


def sklearn_lookalike(uri: str, release: SklearnRelease, echo: Callable[[str], None],
                      run: Callable[..., subprocess.CompletedProcess] = subprocess.run):
    """The prebuilt scikit-learn image under `uri` on the engine: present, pulled, or built."""
    config = inspect_image(uri)
    if config is None and pull_with_ecr_login(uri, echo, run):
        echo(f"pulled the real image {uri}")
        config = inspect_image(uri)
    if config is None:
        echo(f"building a local look-alike of {uri} (once; docs/fidelity.md lists what differs "
             "from the real image) ...")
        with tempfile.TemporaryDirectory(prefix="smlift-sklearn-") as context:
            Path(context, "Dockerfile").write_text(lookalike_dockerfile(release))
            docker_build(Path(context), uri, echo, run)
        config = inspect_image(uri)
        if config is None:
            raise ImageError(f"the look-alike of {uri} was built but the engine does not show it",
                             fix="check `docker images`, then run again")
    origin = "smlift look-alike" if LOOKALIKE_LABEL in config["Labels"] else "AWS image"
    return LocalImage(uri=uri, bin_dir=Path("/usr/local/bin"), entrypoint=config["Entrypoint"],
                      cmd=config["Cmd"], env=config["Env"], workdir=config["WorkingDir"],
                      files=(), kind="prebuilt", engine="docker", digest=config["Id"],
                      docker_ref=uri, origin=origin)
