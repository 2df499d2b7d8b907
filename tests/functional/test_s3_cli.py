import os
import subprocess
import sys
from pathlib import Path

import pytest


def test_cp_upload_ls_and_download_round_trip(run_cli, tmp_path):
    src = tmp_path / "data.csv"
    src.write_text("a,b\n1,2\n")
    code, out, _ = run_cli("s3", "cp", str(src), "s3://smlift-local/input/")
    assert code == 0
    assert out.strip() == f"upload: {src} to s3://smlift-local/input/data.csv"
    code, out, _ = run_cli("s3", "ls", "s3://smlift-local/input/")
    assert code == 0 and out.strip().endswith("8 data.csv")
    code, out, _ = run_cli("s3", "ls", "s3://smlift-local/")
    assert out.strip() == "PRE input/"
    dest = tmp_path / "back.csv"
    code, out, _ = run_cli("s3", "cp", "s3://smlift-local/input/data.csv", str(dest))
    assert code == 0 and dest.read_text() == "a,b\n1,2\n"
    assert out.startswith("download: s3://smlift-local/input/data.csv to ")


def test_objects_live_under_smlift_home(run_cli, tmp_path):
    src = tmp_path / "x.txt"
    src.write_text("x")
    run_cli("s3", "cp", str(src), "s3://bkt/k/x.txt")
    home = Path(os.environ["SMLIFT_HOME"])
    assert (home / "s3" / "bkt" / "k" / "x.txt").read_text() == "x"


def test_cp_recursive_and_sync_copy_only_changes(run_cli, tmp_path):
    d = tmp_path / "d"
    (d / "s").mkdir(parents=True)
    (d / "a.txt").write_text("a")
    (d / "s" / "b.txt").write_text("b")
    code, out, _ = run_cli("s3", "cp", str(d), "s3://bkt/p/", "--recursive")
    assert code == 0 and len(out.splitlines()) == 2
    code, out, _ = run_cli("s3", "sync", str(d), "s3://bkt/p/")
    assert code == 0 and out == ""
    (d / "a.txt").write_text("changed")
    code, out, _ = run_cli("s3", "sync", str(d), "s3://bkt/p/")
    assert out.strip() == f"upload: {d / 'a.txt'} to s3://bkt/p/a.txt"
    code, out, _ = run_cli("s3", "ls", "s3://bkt/p/", "--recursive")
    assert [line.split()[-1] for line in out.splitlines()] == ["p/a.txt", "p/s/b.txt"]


@pytest.mark.parametrize("args, words", [
    (("s3", "cp", "s3://bkt/../etc/passwd", "x"), ["'..'", "s3://bkt/../etc/passwd"]),
    (("s3", "ls", "s3://Bad_Bucket/"), ["invalid bucket name", "fix:"]),
    (("s3", "cp", "s3://bkt/missing", "x"), ["NoSuchKey"]),
    (("s3", "ls", "s3://nobucket/"), ["NoSuchBucket"]),
])
def test_bad_input_is_one_line_error_exit_1(run_cli, args, words):
    code, out, err = run_cli(*args)
    assert code == 1
    assert err.startswith("Error: ") and len(err.strip().splitlines()) == 1
    for word in words:
        assert word in err
    assert "Traceback" not in err


def test_s3_help_has_examples():
    result = subprocess.run([sys.executable, "-m", "smlift", "s3", "cp", "--help"],
                            capture_output=True, text=True)
    assert result.returncode == 0 and "Example:" in result.stdout
