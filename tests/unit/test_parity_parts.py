"""A result published in parts (`<name>.parts/`, one file per part, the first with the header)
is compared as the concatenation of its parts in key order: identical when the bytes are, and a
difference is located at its line in the whole file. The migrated steps' chain puts every
step's output where the next one (or `input`) says, and finds the results in `[parity] results`."""

import subprocess
from pathlib import Path

import pytest

from smlift.parity import ResultFile, compare_file, compare_outputs, run_migrated, same_bytes
from smlift.project import read_project

HEADER = "id,p\n"
ROWS = [f"{i},0.{i:04d}\n" for i in range(1, 26)]
WHOLE = HEADER + "".join(ROWS)


def write_parts(folder: Path, name: str, chunks: dict[str, str]) -> Path:
    parts = folder / f"{name}.parts"
    for relative, text in chunks.items():
        (parts / relative).parent.mkdir(parents=True, exist_ok=True)
        (parts / relative).write_text(text)
    return parts


@pytest.fixture
def legacy(tmp_path) -> Path:
    folder = tmp_path / "legacy"
    folder.mkdir()
    (folder / "predictions.csv").write_text(WHOLE)
    return folder


def split(text_rows, cuts):
    """Consecutive row ranges at `cuts`, the first with the header."""
    bounds = [0, *cuts, len(text_rows)]
    chunks = ["".join(text_rows[a:b]) for a, b in zip(bounds, bounds[1:])]
    chunks[0] = HEADER + chunks[0]
    return chunks


def test_parts_in_key_order_are_the_whole_file(legacy, tmp_path):
    migrated = tmp_path / "migrated"
    first, second, third = split(ROWS, [8, 16])
    # written out of order, in two folders: key order (folder, then part) decides
    write_parts(migrated, "predictions.csv", {"b.csv/part-000000.csv": third,
                                              "a.csv/part-000001.csv": second,
                                              "a.csv/part-000000.csv": first})
    report = compare_outputs(legacy, migrated, ["predictions.csv"])
    [file] = report.files
    assert report.ok and (file.legacy_rows, file.migrated_rows) == (25, 25)


def test_parts_are_ordered_as_s3_lists_keys_not_as_written(legacy, tmp_path):
    migrated = tmp_path / "migrated"
    first, second = split(ROWS, [10])
    write_parts(migrated, "predictions.csv", {"part-000010.csv": second, "part-000002.csv": first})
    assert compare_outputs(legacy, migrated, ["predictions.csv"]).ok
    swapped = tmp_path / "swapped"
    write_parts(swapped, "predictions.csv", {"part-000010.csv": first, "part-000002.csv": second})
    assert not compare_outputs(legacy, swapped, ["predictions.csv"]).ok


def test_a_changed_value_in_a_later_part_is_located_in_the_whole_file(legacy, tmp_path):
    migrated = tmp_path / "migrated"
    first, second = split(ROWS, [12])
    write_parts(migrated, "predictions.csv", {"part-000000.csv": first,
                                              "part-000001.csv": second.replace("0.0015", "0.0016")})
    [file] = compare_outputs(legacy, migrated, ["predictions.csv"]).files
    assert not file.identical
    assert file.first_difference == 16  # row 15 of the whole file, after its header
    assert file.identical_rows == 24
    [column] = file.columns
    assert column.column == "p" and column.first == ((15, "0.0015", "0.0016"),)


def test_a_second_header_in_a_later_part_breaks_parity(legacy, tmp_path):
    migrated = tmp_path / "migrated"
    first, second = split(ROWS, [12])
    write_parts(migrated, "predictions.csv", {"part-000000.csv": first,
                                              "part-000001.csv": HEADER + second})
    [file] = compare_outputs(legacy, migrated, ["predictions.csv"]).files
    assert not file.identical and file.first_difference == 14


def test_a_line_cut_between_two_parts_is_still_one_line(legacy, tmp_path):
    cut = WHOLE.index("0.0007") + 3
    parts = write_parts(tmp_path, "predictions.csv", {"1": WHOLE[:cut], "2": WHOLE[cut:]})
    assert same_bytes(legacy / "predictions.csv", ResultFile.at(parts.with_suffix("")))
    with ResultFile.at(tmp_path / "predictions.csv").open() as stream:
        assert stream.read().decode() == WHOLE


def test_both_sides_may_be_in_parts_and_a_present_file_wins_over_its_parts(tmp_path):
    left, right = tmp_path / "earlier", tmp_path / "current"
    write_parts(left, "predictions.csv", {"p0.csv": "".join(split(ROWS, [5])[:1]),
                                          "p1.csv": split(ROWS, [5])[1]})
    write_parts(right, "predictions.csv", {"only.csv": WHOLE})
    assert compare_outputs(left, right, ["predictions.csv"]).ok
    (right / "predictions.csv").write_text(HEADER)  # the file itself, not its parts
    assert not compare_outputs(left, right, ["predictions.csv"]).ok


def test_without_names_a_parts_folder_counts_as_its_file(legacy, tmp_path):
    migrated = tmp_path / "migrated"
    write_parts(migrated, "predictions.csv", {"a/part-0.csv": WHOLE})
    report = compare_outputs(legacy, migrated)
    assert [f.name for f in report.files] == ["predictions.csv"] and report.ok


def test_an_empty_parts_folder_is_an_empty_file(legacy, tmp_path):
    (tmp_path / "m" / "predictions.csv.parts").mkdir(parents=True)
    file = compare_file(legacy / "predictions.csv", tmp_path / "m" / "predictions.csv",
                        "predictions.csv")
    assert not file.identical and (file.legacy_rows, file.migrated_rows) == (25, 0)


def test_neither_file_nor_parts_is_reported_missing(legacy, tmp_path):
    (tmp_path / "m").mkdir()
    [file] = compare_outputs(legacy, tmp_path / "m", ["predictions.csv"]).files
    assert file.detail == "only the legacy side has it"


def test_the_steps_chain_reads_input_folders_and_collects_results(tmp_path):
    root = tmp_path / "project"
    root.mkdir()
    (root / "smlift.toml").write_text('''
[legacy]
command = "python run.py"
input = "in.csv"
results = ["out/predictions.csv", "out/summary.csv"]
[parity]
results = ["post/results", "sum"]
[[parity.steps]]
name = "pre"
script = "pre.py"
[[parity.steps]]
name = "post"
script = "post.py"
input = "pre/parts"
args = ["--schema-dir", "{work}/pre/schema"]
[[parity.steps]]
name = "sum"
script = "post.py"
input = "post/partials"
args = ["--summarize"]
''')
    calls = []

    def launcher(args, cwd, env):
        calls.append(args)
        out = Path(args[args.index("--output-dir") + 1])
        if args[1].endswith("pre.py"):
            (out / "parts").mkdir(parents=True)
        elif "--summarize" in args:
            out.mkdir()
            (out / "summary.csv").write_text("s\n1\n")
            (out / "predictions.csv").write_text("not this one: post/results comes first\n")
        else:
            write_parts(out / "results", "predictions.csv", {"a.csv": WHOLE})
            (out / "partials").mkdir()
        return subprocess.CompletedProcess(args, 0, "", "")

    data = tmp_path / "in.csv"
    data.write_text("x\n")
    found = run_migrated(data, tmp_path / "work", read_project(root), launcher)
    work = tmp_path / "work" / "migrated"
    assert calls[1][calls[1].index("--input-dir") + 1] == str(work / "pre" / "parts")
    assert calls[1][-2:] == ["--schema-dir", str(work / "pre" / "schema")]
    assert calls[2][calls[2].index("--input-dir") + 1] == str(work / "post" / "partials")
    assert sorted(p.name for p in found.iterdir()) == ["predictions.csv.parts", "summary.csv"]
    assert (found / "summary.csv").read_text() == "s\n1\n"
    with ResultFile.at(found / "predictions.csv").open() as stream:
        assert stream.read().decode() == WHOLE
