"""The `studio` extra: `sagemaker-studio-image-build` makes `sm-docker` one install away, and
`smlift build --remote` accepts every flag `sm-docker build` has. Run by `make test-extras`;
skipped by `make test` when the extra is not installed."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.extras


@pytest.fixture(scope="module")
def sm_docker() -> str:
    pytest.importorskip("sagemaker_studio_image_build",
                        reason="the studio extra is not installed (pip install -e '.[studio]')")
    found = Path(sys.executable).with_name("sm-docker")
    path = str(found) if found.exists() else shutil.which("sm-docker")
    assert path, "sagemaker-studio-image-build is installed but its sm-docker command is not"
    return path


def sm_docker_flags(sm_docker: str) -> set[str]:
    result = subprocess.run([sm_docker, "build", "--help"], capture_output=True, text=True,
                            timeout=120, check=True)
    return set(re.findall(r"(--[a-z][a-z-]+)", result.stdout)) - {"--help"}


def test_sm_docker_build_is_installed_and_answers(sm_docker):
    flags = sm_docker_flags(sm_docker)
    assert {"--repository", "--role", "--bucket", "--no-logs"} <= flags


def test_smlift_build_remote_accepts_every_sm_docker_flag(sm_docker):
    from smlift.cli.build import build

    ours = {opt for param in build.params for opt in getattr(param, "opts", [])}
    missing = sm_docker_flags(sm_docker) - ours
    assert not missing, f"smlift build --remote lacks sm-docker's {sorted(missing)}"


def test_the_builder_module_imports_with_its_sagemaker_pin(sm_docker):
    result = subprocess.run([sys.executable, "-c", "import sagemaker_studio_image_build.builder, "
                             "sagemaker; print(sagemaker.__version__)"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert int(result.stdout.strip().splitlines()[-1].split(".")[0]) < 3
