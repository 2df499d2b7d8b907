"""`smlift data make` / `smlift run --rows`: the project's generator ([data]) makes the rows,
into the data folder or a named one, atomically; errors name the field and the fix."""

import subprocess
from pathlib import Path

import pytest

from smlift.datagen import generated_data, generator_command, make_data
from smlift.errors import InputError, ProcessingJobError
from smlift.embedded.run import RunSources
from smlift.project import read_project

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def project():
    return read_project(ROOT)


def test_the_example_generator_writes_the_rows_asked_for(project, tmp_path):
    written = make_data(project, 250, tmp_path / "data", seed=5)
    assert written == tmp_path / "data" / "bookings.csv"
    lines = written.read_text().splitlines()
    assert lines[0].startswith("booking_id,hotel,") and len(lines) == 251
    assert [p.name for p in written.parent.iterdir()] == ["bookings.csv"]  # no temporary left
    again = make_data(project, 250, tmp_path / "again", seed=5)
    assert again.read_bytes() == written.read_bytes()  # seeded: the same rows


def test_an_existing_file_is_replaced_only_when_asked(project, tmp_path):
    (tmp_path / "bookings.csv").write_text("keep me")
    with pytest.raises(InputError, match="already exists") as error:
        make_data(project, 10, tmp_path)
    assert "--force" in error.value.fix
    assert (tmp_path / "bookings.csv").read_text() == "keep me"
    make_data(project, 10, tmp_path, replace=True)
    assert len((tmp_path / "bookings.csv").read_text().splitlines()) == 11


def test_placeholders_are_filled_and_python_is_this_python(project, tmp_path):
    import sys

    args = generator_command(project, 7, 3, tmp_path / "x.csv")
    assert args == [sys.executable, "make_data.py", "--rows", "7", "--seed", "3", "--out",
                    str(tmp_path / "x.csv")]


def test_a_failing_generator_leaves_nothing_and_says_why(project, tmp_path):
    def failing(args, cwd):
        Path(args[-1]).write_text("half a file")
        return subprocess.CompletedProcess(args, 2, "", "Traceback ...\nMemoryError\n")

    with pytest.raises(ProcessingJobError, match=r"failed \(exit 2\): MemoryError"):
        make_data(project, 10, tmp_path, launcher=failing)
    assert list(tmp_path.iterdir()) == []


def test_a_project_without_a_generator_is_told_how_to_add_one(tmp_path):
    (tmp_path / "smlift.toml").write_text('[legacy]\ncommand = "python p.py"\ninput = "in.csv"\n'
                                          'results = ["out.csv"]\n')
    with pytest.raises(InputError, match=r"no \[data\] generator") as error:
        make_data(read_project(tmp_path), 10)
    assert "[data] command" in error.value.fix


def test_a_generator_command_must_take_rows_and_out(tmp_path):
    (tmp_path / "smlift.toml").write_text(
        '[legacy]\ncommand = "python p.py"\ninput = "in.csv"\nresults = ["out.csv"]\n'
        '[data]\ncommand = "python make.py"\nfile = "in.csv"\n')
    with pytest.raises(InputError, match=r"data.command: must contain \{rows\} and \{out\}"):
        read_project(tmp_path)


def test_run_rows_makes_the_data_once_under_the_home(project, tmp_path, monkeypatch):
    monkeypatch.setenv("SMLIFT_HOME", str(tmp_path / "home"))
    calls = []

    def counting(args, cwd):
        calls.append(args)
        Path(args[args.index("--out") + 1]).write_text("booking_id\n1\n")
        return subprocess.CompletedProcess(args, 0, "", "")

    folder = generated_data(project, 12, launcher=counting)
    assert folder == tmp_path / "home" / "data" / "rows-12-seed-1"
    assert generated_data(project, 12, launcher=counting) == folder and len(calls) == 1
    with pytest.raises(InputError, match="--rows and --data"):
        RunSources.of(project, rows=12, data_dir=tmp_path)


def test_a_large_request_is_made_in_batches_appended_without_their_headers(project, tmp_path):
    batched = project.file.model_copy(update={"data": project.file.data.model_copy(
        update={"batch_rows": 40})})
    from dataclasses import replace

    seeds = []

    def recording(args, cwd):
        seeds.append(args[args.index("--seed") + 1])
        return subprocess.run(args, cwd=cwd, capture_output=True, text=True)

    written = make_data(replace(project, file=batched), 100, tmp_path, seed=9, launcher=recording)
    lines = written.read_text().splitlines()
    assert len(lines) == 101 and sum(line.startswith("booking_id,") for line in lines) == 1
    assert seeds == ["9", "10", "11"]
    first_batch = make_data(project, 40, tmp_path / "one", seed=9).read_text().splitlines()
    assert lines[:41] == first_batch  # batch 0 is a plain run with the same seed
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bookings.csv", "one"]
