"""`smlift init`: a project for any legacy program, lift first; never overwrites; the wheel
carries the templates, and an installed smlift lifts the second example to green parity."""

import json
import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from smlift.cli import main
from smlift.project import load_project
from smlift.scaffold import InitRequest, guess_requirements, init_project

ROOT = Path(__file__).resolve().parents[2]
SECOND = ROOT / "examples" / "second-legacy"
REQUEST = dict(command="python run_valuation.py", data="input/houses.json",
               results=("results/valuations.json", "results/model_report.csv"))


def test_init_copies_the_program_untouched_and_writes_a_project(tmp_path):
    written = init_project(InitRequest(tmp_path / "p", SECOND, **REQUEST))
    project = load_project(tmp_path / "p")
    assert project.results == ["valuations.json", "model_report.csv"]
    assert project.file.legacy.command == "python run_valuation.py"
    for rel in ("run_valuation.py", "lib/features.py", "input/houses.json"):
        assert (tmp_path / "p/legacy_src" / rel).read_bytes() == (SECOND / rel).read_bytes()
        assert Path("legacy_src") / rel in written
    assert json.loads((tmp_path / "p/containers/lift/lift.json").read_text())["input_is_file"]
    assert (tmp_path / "p/examples/data/houses.json").is_file()
    for skeleton in ("scripts/preprocessing.py", "scripts/postprocessing.py",
                     "containers/inference/predict.py"):
        text = (tmp_path / "p" / skeleton).read_text()
        assert "/opt/ml/processing" in text and "TODO" in text
    dockerfile = (tmp_path / "p/containers/lift/Dockerfile").read_text()
    assert "/opt/program" in dockerfile and "COPY program/" in dockerfile


def test_init_refuses_to_overwrite_and_writes_nothing(tmp_path):
    (tmp_path / "p").mkdir()
    (tmp_path / "p/smlift.toml").write_text("mine\n")
    with pytest.raises(SystemExit) as exited:
        main(["init", str(tmp_path / "p"), "--from", str(SECOND), "--command", REQUEST["command"],
              "--data", REQUEST["data"], "--results", REQUEST["results"][0]])
    assert exited.value.code == 1
    assert (tmp_path / "p/smlift.toml").read_text() == "mine\n"
    assert sorted(p.name for p in (tmp_path / "p").iterdir()) == ["smlift.toml"]


def test_init_lists_what_it_wrote(tmp_path, capsys):
    main(["init", str(tmp_path / "p"), "--from", str(SECOND), "--command", REQUEST["command"],
          "--data", REQUEST["data"], "--results", REQUEST["results"][0]])
    listed = capsys.readouterr().out.splitlines()
    assert str(tmp_path / "p" / "smlift.toml") in listed
    assert all(Path(line).is_file() for line in listed)


def _init_args(target):
    return ["init", str(target), "--from", str(SECOND), "--command", REQUEST["command"],
            "--data", REQUEST["data"], *(a for r in REQUEST["results"] for a in ("--results", r))]


def test_dry_run_lists_what_init_would_write_and_writes_nothing(tmp_path, run_cli):
    code, out, err = run_cli(*_init_args(tmp_path / "p"), "--dry-run")
    assert code == 0, err
    listed = out.splitlines()
    assert not (tmp_path / "p").exists()
    assert "nothing was written" in err
    code, out, err = run_cli(*_init_args(tmp_path / "p"))
    assert code == 0, err
    assert out.splitlines() == listed  # exactly what the dry run said
    assert all(Path(line).is_file() for line in listed)


def test_dry_run_refuses_an_existing_file_as_init_does(tmp_path, run_cli):
    (tmp_path / "p").mkdir()
    (tmp_path / "p/smlift.toml").write_text("mine\n")
    code, _, err = run_cli(*_init_args(tmp_path / "p"), "--dry-run")
    assert code == 1 and "already exist" in err
    assert sorted(p.name for p in (tmp_path / "p").iterdir()) == ["smlift.toml"]


def test_init_output_json_is_one_document_of_the_files(tmp_path, run_cli):
    code, out, err = run_cli(*_init_args(tmp_path / "p"), "--output", "json", "--dry-run")
    assert code == 0, err
    document = json.loads(out)
    assert document["dryRun"] is True and not (tmp_path / "p").exists()
    assert str(tmp_path / "p" / "smlift.toml") in document["files"]


def test_a_missing_input_is_refused_before_anything_is_written(tmp_path):
    with pytest.raises(Exception, match="the input is not in the legacy folder"):
        init_project(InitRequest(tmp_path / "p", SECOND, "python x.py", "nope.csv", ("out.csv",)))
    assert not (tmp_path / "p").exists()


def test_requirements_are_pinned_from_the_imports_not_the_local_modules():
    lines = guess_requirements(SECOND).splitlines()[1:]
    assert sorted(line.split("==")[0] for line in lines) == ["numpy", "scikit-learn"]
    assert all("==" in line for line in lines)


@pytest.mark.slow
def test_the_wheel_lifts_the_second_example_to_green_parity(tmp_path):
    """python -m build, the wheel into a clean venv, smlift init --from, smlift run --parity."""
    dist = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--outdir", str(dist), str(ROOT)],
                   check=True, capture_output=True)
    wheel = next(dist.glob("smlift-*.whl"))
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    constraints = ROOT / "containers" / "inference" / "requirements.txt"
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", str(wheel), "-c", str(constraints)],
                   check=True, capture_output=True)
    smlift = env_dir / "bin" / "smlift"
    env = {k: v for k, v in os.environ.items() if k != "SMLIFT_HOME"} | {"SMLIFT_ENGINE": "local"}
    subprocess.run([str(smlift), "init", "valuation", "--from", str(SECOND),
                    "--command", REQUEST["command"], "--data", REQUEST["data"],
                    *[arg for r in REQUEST["results"] for arg in ("--results", r)]],
                   cwd=tmp_path, env=env, check=True, capture_output=True)
    done = subprocess.run([str(smlift), "run", "--parity"], cwd=tmp_path / "valuation", env=env,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "parity with the legacy program: 49 of 49 rows identical across 2 files" in done.stdout
    assert (tmp_path / "valuation" / ".smlift").is_dir()  # state at the project root


def test_changed_intermediates_are_listed_but_not_the_results(tmp_path):
    from smlift.baseline import changed_files

    for run, value in (("a", "1"), ("b", "2")):
        for rel, text in (("preprocessed/part-0.csv", f"x\n{value}\n"), ("same/x.csv", "x\n1\n"),
                          ("result/out.csv", f"x\n{value}\n")):
            (tmp_path / run / rel).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / run / rel).write_text(text)
    (tmp_path / "b" / "extra.json").write_text("{}")
    assert changed_files(tmp_path / "a", tmp_path / "b", skip="result") == (
        "extra.json", "preprocessed/part-0.csv")


@pytest.mark.slow
def test_baseline_compares_two_runs_column_by_column(tmp_path):
    smlift = Path(sys.executable).with_name("smlift")
    env = {k: v for k, v in os.environ.items() if k != "SMLIFT_HOME"} | {"SMLIFT_ENGINE": "local"}
    init_project(InitRequest(tmp_path / "p", SECOND, **REQUEST))
    project = tmp_path / "p"

    def run(*args):
        return subprocess.run([str(smlift), *args], cwd=project, env=env, capture_output=True, text=True)

    assert run("run", "--name", "before").returncode == 0
    data = project / "examples/data/houses.json"
    houses = json.loads(data.read_text())
    houses[0]["price"] *= 3  # an intended change: one sale recorded at three times its price
    data.write_text(json.dumps(houses))
    assert run("run", "--name", "after").returncode == 0
    done = run("parity", "--baseline", "before")
    assert done.returncode == 1
    assert "valuations.json: DIFFERENT" in done.stdout
    assert "valuations.json column 'value':" in done.stdout and "row 1: legacy" in done.stdout
    assert run("parity", "--baseline", "before", "--rtol", "value=1", "--rtol",
               "coefficient=10", "--atol", "coefficient=1").returncode == 0
