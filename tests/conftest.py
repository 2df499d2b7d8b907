import os

import pytest


@pytest.fixture(autouse=True)
def _isolated_smlift_home(tmp_path, monkeypatch):
    """Every test gets its own SMLIFT_HOME and no AWS credentials or endpoints of the machine.
    Jobs run on the local engine unless a test asks for Docker (tests/functional/
    test_docker_engine.py), so a machine's Docker engine does not change what a test means."""
    monkeypatch.setenv("SMLIFT_HOME", str(tmp_path / "smlift-home"))
    monkeypatch.setenv("SMLIFT_ENGINE", "local")
    for name in ("AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                 "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def run_cli(capsys):
    """Run `smlift ARGS...` in this process: `run_cli("jobs", "list")` -> (exit code, stdout, stderr)."""
    from smlift.cli import main

    def run(*args: str) -> tuple[int, str, str]:
        try:
            main(list(args))
            code = 0
        except SystemExit as exc:
            code = exc.code or 0
        out, err = capsys.readouterr()
        return code, out, err

    return run


@pytest.fixture
def local_engine(monkeypatch):
    """Images build and run on the local engine (never Docker). Real runtimes land in the
    user's shared cache, keyed by their requirements, as a user's would."""
    monkeypatch.setenv("SMLIFT_ENGINE", "local")


@pytest.fixture
def fake_runtimes(monkeypatch, tmp_path):
    """Runtimes built by a fake pip land in this test's folder: they must never reach the
    shared runtime cache, where a real build with the same requirements would find them."""
    monkeypatch.setenv("SMLIFT_RUNTIME_CACHE", str(tmp_path / "runtimes"))


def require(available: bool, what: str, fix: str) -> None:
    """Go on when `available`; else skip with one line, or fail under CI=true, where .ci/run
    prepares the machine so that every test runs (a skip there would hide a regression)."""
    if available:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true but {what}: {fix}")
    pytest.skip(f"{what} ({fix} to run this test)")


@pytest.fixture(name="require")
def require_fixture():
    """`require(available, what, fix)` for tests and fixtures of other files."""
    return require


@pytest.fixture
def docker_engine(monkeypatch):
    """Jobs run on the Docker engine; skipped where none answers (a failure under CI=true)."""
    from smlift.images.engine import docker_engine_available

    monkeypatch.setenv("SMLIFT_ENGINE", "docker")
    require(docker_engine_available(), "no Docker engine answers `docker info`",
            "start one, e.g. ../shared/tools/docker-standin-base")
