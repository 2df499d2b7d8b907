"""Parity: the migrated steps reproduce the legacy program's result files byte for byte,
and the comparison is sharp enough to notice when any step changes a single value."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from smlift.errors import ProcessingJobError
from smlift.cli import main
from smlift.cli.output import parity_text
from smlift.parity import (FileParity, ParityReport, check_parity, compare_outputs,
                           find_project, run_legacy, run_migrated)

ROOT = Path(__file__).resolve().parents[2]
ROWS = 3000

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def bookings(tmp_path_factory) -> Path:
    """A few thousand freshly generated dirty bookings (a seed neither the model nor the example uses)."""
    path = tmp_path_factory.mktemp("data") / "bookings.csv"
    subprocess.run([sys.executable, "make_data.py", "--rows", str(ROWS), "--seed", "123", "--out", str(path)],
                   cwd=ROOT / "legacy_src", check=True, capture_output=True)
    return path


@pytest.fixture(scope="module")
def legacy_output(bookings, tmp_path_factory) -> Path:
    return run_legacy(bookings, tmp_path_factory.mktemp("legacy"), find_project(ROOT))


@pytest.fixture(scope="module")
def migrated_output(bookings, tmp_path_factory) -> Path:
    return run_migrated(bookings, tmp_path_factory.mktemp("migrated"), find_project(ROOT))


def test_dirty_input_really_is_dirty(bookings):
    text = bookings.read_text()
    assert ", " in text or " ," in text          # padded numbers
    assert "unknown" in text or "n/a" in text    # text in number columns
    assert ",," in text                          # empty cells
    assert "online ta" in text and "ONLINE TA" in text and "NULL" in text


def test_migrated_steps_reproduce_the_legacy_files_byte_for_byte(legacy_output, migrated_output):
    report = compare_outputs(legacy_output, migrated_output)
    assert [f.name for f in report.files] == ["predictions.csv", "segment_summary.csv"]
    assert report.ok, report.files
    predictions = report.files[0]
    assert predictions.legacy_rows == predictions.identical_rows == ROWS
    assert report.summary().startswith(f"parity: {report.rows} of {report.rows} rows identical across 2 files")


def test_one_changed_byte_is_caught_and_located(legacy_output, migrated_output, tmp_path):
    changed = tmp_path / "changed"
    shutil.copytree(migrated_output, changed)
    lines = (changed / "predictions.csv").read_text().splitlines(keepends=True)
    row = lines[1234]
    digit = next(i for i in range(len(row) - 1, -1, -1) if row[i].isdigit())
    lines[1234] = row[:digit] + str((int(row[digit]) + 1) % 10) + row[digit + 1:]
    (changed / "predictions.csv").write_text("".join(lines))
    report = compare_outputs(legacy_output, changed)
    assert not report.ok
    predictions = report.files[0]
    assert not predictions.identical and predictions.first_difference == 1235
    assert predictions.identical_rows == ROWS - 1
    assert report.files[1].identical


def test_a_missing_or_extra_result_file_is_a_mismatch(legacy_output, migrated_output, tmp_path):
    changed = tmp_path / "changed"
    shutil.copytree(migrated_output, changed)
    (changed / "segment_summary.csv").rename(changed / "summary.csv")
    report = compare_outputs(legacy_output, changed)
    assert not report.ok
    by_name = {f.name: f for f in report.files}
    assert "only the legacy side" in by_name["segment_summary.csv"].detail
    assert "only the migrated side" in by_name["summary.csv"].detail


def changed_copy(script: Path, folder: Path, old: str, new: str) -> Path:
    text = script.read_text()
    assert text.count(old) == 1, f"{old!r} not found once in {script}"
    copy = folder / script.name
    copy.write_text(text.replace(old, new))
    return copy


# Each change is small: a rounding-level difference in one feature, one ulp on the probability,
# a business threshold moved by a hundredth.
STEP_CHANGES = {
    "preprocessing": ("scripts/preprocessing.py",
                      'df["adr"] / df["total_guests"].replace(0, np.nan)',
                      'df["adr"] * (1 / df["total_guests"].replace(0, np.nan))'),
    "predict": ("containers/inference/predict.py",
                "model.predict_proba(features[model_features(model)])[:, 1]",
                "np.nextafter(model.predict_proba(features[model_features(model)])[:, 1], 2)"),
    "postprocessing": ("scripts/postprocessing.py", "THRESHOLD = 0.5", "THRESHOLD = 0.51"),
}


@pytest.mark.parametrize("step", STEP_CHANGES)
def test_parity_fails_when_a_step_changes_a_value(step, bookings, legacy_output, tmp_path):
    relative, old, new = STEP_CHANGES[step]
    changed = changed_copy(ROOT / relative, tmp_path, old, new)
    project = find_project(ROOT).with_step(step, script=changed)
    report = compare_outputs(legacy_output, run_migrated(bookings, tmp_path / "run", project))
    assert not report.ok
    assert not report.files[0].identical  # predictions.csv shows it
    assert report.identical_rows < report.rows


def test_a_failing_step_is_reported_with_its_reason(bookings, tmp_path):
    project = find_project(ROOT).with_step("predict", args=["--model", str(tmp_path / "corrupt.pkl")])
    (tmp_path / "corrupt.pkl").write_bytes(b"garbage")
    with pytest.raises(ProcessingJobError, match="predict step failed .*cannot load model"):
        run_migrated(bookings, tmp_path / "run", project)


# --- smlift parity, with a fake launcher standing in for the processes -------------------------

class FakeLauncher:
    """Writes fixed result files where the legacy program, the postprocessing step (results/)
    and the summary (its output folder) would."""

    def __init__(self, migrated_summary: str):
        self.migrated_summary = migrated_summary
        self.calls: list[list[str]] = []

    def __call__(self, args, cwd, env):
        self.calls.append(list(args))
        if args[-1] == "predict.py":
            self.write(Path(cwd) / "output", "s,1\n")
            return subprocess.CompletedProcess(args, 0, "", "")
        output = Path(args[args.index("--output-dir") + 1])
        output.mkdir(parents=True, exist_ok=True)
        if "--summarize" in args:
            (output / "segment_summary.csv").write_text("segment,n\n" + self.migrated_summary)
        elif args[1].endswith("postprocessing.py"):
            (output / "results").mkdir()
            (output / "results" / "predictions.csv").write_text(PREDICTIONS)
        return subprocess.CompletedProcess(args, 0, "", "")

    @staticmethod
    def write(folder: Path, summary: str) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "predictions.csv").write_text(PREDICTIONS)
        (folder / "segment_summary.csv").write_text("segment,n\n" + summary)


PREDICTIONS = "id,p\n1,0.5\n2,0.25\n"


def test_the_report_gives_the_rows_matched_after_running_legacy_then_the_four_steps(bookings):
    launcher = FakeLauncher("s,1\n")
    report = check_parity(bookings, project=find_project(ROOT), launcher=launcher)
    assert report.ok
    assert parity_text(report).splitlines()[0] == "parity: 3 of 3 rows identical across 2 files"
    assert [call[1].rsplit("/", 1)[-1] for call in launcher.calls] == [
        "predict.py", "preprocessing.py", "predict.py", "postprocessing.py", "postprocessing.py"]
    preprocess, predict, postprocess, summarize = launcher.calls[1:]
    work = Path(preprocess[preprocess.index("--output-dir") + 1]).parent
    assert predict[predict.index("--input-dir") + 1] == str(work / "preprocessing" / "parts")
    assert postprocess[postprocess.index("--input-dir") + 1] == str(work / "predict")
    assert postprocess[-2:] == ["--schema-dir", str(work / "preprocessing" / "schema")]
    assert summarize[summarize.index("--input-dir") + 1] == str(work / "postprocessing" / "partials")
    assert summarize[-1] == "--summarize"


def test_the_report_names_the_differing_line(bookings):
    report = check_parity(bookings, project=find_project(ROOT), launcher=FakeLauncher("s,2\n"))
    text = parity_text(report)
    assert not report.ok
    assert "parity: 2 of 3 rows identical" in text
    assert "segment_summary.csv: DIFFERENT, 0 of 1 rows (line 2: legacy 's,1' vs migrated 's,2')" in text


def test_cli_reports_a_missing_input_file_without_a_traceback(tmp_path, capsys):
    with pytest.raises(SystemExit) as exited:
        main(["parity", "--data", str(tmp_path / "missing.csv")])
    assert exited.value.code == 1
    err = capsys.readouterr().err
    assert err.startswith("Error: ") and "input data not found" in err and "Traceback" not in err


def test_check_parity_runs_in_a_temporary_folder_and_times_both_sides(bookings):
    report = check_parity(bookings, project=find_project(ROOT), launcher=FakeLauncher("s,1\n"))
    assert report.ok and set(report.seconds) == {"legacy", "migrated"}


def test_report_is_not_ok_without_files():
    assert not ParityReport(()).ok
    assert ParityReport((FileParity("a.csv", True, 2, 2, 2),)).summary() == (
        "parity: 2 of 2 rows identical across 1 file")


def test_the_example_project_file_names_the_committed_steps_and_model():
    project = find_project(ROOT / "scripts")  # found by walking up, as git does
    assert project.root == ROOT
    assert [project.path(s.script) for s in project.file.parity.steps] == [
        ROOT / "scripts" / "preprocessing.py", ROOT / "containers" / "inference" / "predict.py",
        ROOT / "scripts" / "postprocessing.py", ROOT / "scripts" / "postprocessing.py"]
    assert all(project.path(s.script).is_file() for s in project.file.parity.steps)
    assert project.path(project.file.legacy.files["model/model.pkl"]).is_file()
    assert project.results == ["predictions.csv", "segment_summary.csv"]
