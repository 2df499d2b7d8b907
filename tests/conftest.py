import pytest


@pytest.fixture(autouse=True)
def _isolated_smlift_home(tmp_path, monkeypatch):
    """Every test gets its own SMLIFT_HOME and no AWS credentials or endpoints of the machine."""
    monkeypatch.setenv("SMLIFT_HOME", str(tmp_path / "smlift-home"))
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
def local_engine(monkeypatch, tmp_path):
    """Images run on the local engine (never Docker), and the runtimes they build land in this
    test's folder: fake runtimes must never reach the user's shared runtime cache."""
    monkeypatch.setenv("SMLIFT_ENGINE", "local")
    monkeypatch.setenv("SMLIFT_RUNTIME_CACHE", str(tmp_path / "runtimes"))
