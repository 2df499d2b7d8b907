"""No path outside a root is ever followed (issue 15, findings 1 and 4, and local S3).

A job's own folders are hostile ground once it has run: each test has a job plant a link, a FIFO
or a device where smlift expects a folder or a file, and checks that smlift neither follows it
nor blocks on it, and that the host folder it points at is unchanged. These run in path-rewrite
mode, the weakest isolation, so they hold whatever sandbox ran the job.
"""

from __future__ import annotations

import os
import stat
import time
from pathlib import Path

import pytest

from smlift.local.s3 import LocalS3

from processing_fakes import request as job_request, service

pytestmark = pytest.mark.slow


@pytest.fixture
def s3(home) -> LocalS3:
    return LocalS3(home)


def request(name, s3, script, **options) -> dict:
    """A job running `script`, with one output and no data input."""
    return job_request(name, s3, script, data=False, **options)


@pytest.fixture
def host_folder(tmp_path) -> Path:
    """A host folder the job must not be able to empty or chmod through smlift."""
    folder = tmp_path / "host-folder"
    folder.mkdir()
    (folder / "precious.txt").write_text("keep me")
    folder.chmod(0o750)
    return folder


def test_an_output_folder_replaced_by_a_link_fails_the_job_and_moves_nothing(
        home, s3, host_folder):
    script = f"""
        import os, shutil
        shutil.rmtree(os.environ["OUT"])
        os.symlink({str(host_folder)!r}, os.environ["OUT"])
    """
    jobs = service(home)
    jobs.create_processing_job(**request("linked-out", s3, script))
    final = jobs.wait("linked-out")
    assert final["ProcessingJobStatus"] == "Failed"
    assert final["FailureReason"].startswith("ClientError: cannot upload outputs: ")
    assert "is a symbolic link" in final["FailureReason"]
    assert (host_folder / "precious.txt").read_text() == "keep me"
    assert stat.S_IMODE(host_folder.stat().st_mode) == 0o750
    assert s3.list_keys("s3://data/out/linked-out") == []


def test_a_processing_folder_replaced_by_a_link_is_neither_published_nor_cleaned_through(
        home, s3, host_folder):
    (host_folder / "output").mkdir()
    (host_folder / "output" / "host.csv").write_text("host data")
    script = f"""
        import os, shutil
        processing = os.path.dirname(os.environ["OUT"])
        shutil.rmtree(processing)
        os.symlink({str(host_folder)!r}, processing)
    """
    jobs = service(home)
    jobs.create_processing_job(**request("linked-processing", s3, script))
    final = jobs.wait("linked-processing")
    assert final["ProcessingJobStatus"] == "Failed"
    assert "is a symbolic link" in final["FailureReason"]
    assert (host_folder / "output" / "host.csv").read_text() == "host data"
    assert (host_folder / "precious.txt").read_text() == "keep me"
    assert stat.S_IMODE(host_folder.stat().st_mode) == 0o750  # cleanup chmod-ed no link target
    assert s3.list_keys("s3://data/out/linked-processing") == []
    assert not os.path.lexists(home / "jobs/linked-processing/opt/ml/processing")


def test_an_exit_message_linked_to_a_host_file_is_not_read(home, s3, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("root:the-host-password-hash")
    script = f"""
        import os
        os.symlink({str(secret)!r}, os.environ["MSG"])
        raise SystemExit(3)
    """
    jobs = service(home)
    jobs.create_processing_job(**request("linked-message", s3, script))
    final = jobs.wait("linked-message")
    assert final["ProcessingJobStatus"] == "Failed"
    assert "the-host-password-hash" not in str(final)
    assert final["FailureReason"].startswith(
        "ClientError: /opt/ml/output/message is a symbolic link; smlift does not follow links")


@pytest.mark.parametrize("plant, what", [
    ("os.mkfifo(os.environ['MSG'])", "a FIFO"),
    ("os.symlink('/dev/zero', os.environ['MSG'])", "a symbolic link"),
])
def test_an_exit_message_that_is_a_fifo_or_a_device_link_does_not_hang_smlift(
        home, s3, plant, what):
    jobs = service(home)
    jobs.create_processing_job(**request("special-message", s3, f"import os\n{plant}\n",
                                         max_runtime=60))
    started = time.monotonic()
    final = jobs.wait("special-message")
    assert time.monotonic() - started < 30
    assert final["ProcessingJobStatus"] == "Failed"
    assert final["FailureReason"].startswith(f"ClientError: /opt/ml/output/message is {what};")


# --- local S3 ----------------------------------------------------------------------------------

@pytest.fixture
def planted(tmp_path, host_folder) -> Path:
    """SMLIFT_HOME/s3/bkt/linked -> a host folder, as a job without a sandbox could plant it."""
    s3_home = Path(os.environ["SMLIFT_HOME"]) / "s3" / "bkt"
    s3_home.mkdir(parents=True)
    (s3_home / "real.txt").write_text("object")
    os.symlink(host_folder, s3_home / "linked")
    return host_folder


def test_s3_sync_delete_never_deletes_through_a_link_in_the_s3_tree(run_cli, tmp_path, planted):
    empty = tmp_path / "empty"
    empty.mkdir()
    code, out, err = run_cli("s3", "sync", str(empty), "s3://bkt/linked/", "--delete")
    assert (code, out) == (0, "")
    assert (planted / "precious.txt").read_text() == "keep me"


def test_s3_reads_and_listings_do_not_follow_a_link_in_the_s3_tree(run_cli, planted):
    code, out, err = run_cli("s3", "cp", "s3://bkt/linked/precious.txt", "-")
    assert code == 1 and "NoSuchKey" in err
    code, out, _ = run_cli("s3", "ls", "--recursive", "s3://bkt/")
    assert code == 0 and "precious" not in out and "real.txt" in out


def test_s3_writes_through_a_link_in_the_s3_tree_are_refused(run_cli, tmp_path, planted):
    src = tmp_path / "new.txt"
    src.write_text("new")
    code, _, err = run_cli("s3", "cp", str(src), "s3://bkt/linked/new.txt")
    assert code == 1 and "symbolic link in the local S3 tree" in err
    assert sorted(p.name for p in planted.iterdir()) == ["precious.txt"]
