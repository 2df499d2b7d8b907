"""Bad input to smlift s3: one clear line naming the file or field and the fix,
exit code 1, never a traceback (see conftest.py)."""

import pytest


@pytest.fixture
def data(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "a.csv").write_text("a\n1\n")
    return folder


import pytest


def test_s3_cp_of_a_folder_says_it_is_a_folder_and_suggests_recursive(run_cli, data,
                                                                      assert_user_error):
    assert_user_error(run_cli("s3", "cp", str(data), "s3://bucket/x"),
                      f"{data}: is a folder, not a file", "fix: add --recursive")


def test_s3_sync_of_a_file_says_it_is_a_file_and_suggests_cp(run_cli, data, assert_user_error):
    assert_user_error(run_cli("s3", "sync", str(data / "a.csv"), "s3://bucket/x/"),
                      "is a file, not a folder", "smlift s3 cp FILE")


def test_s3_download_under_a_file_is_refused_and_leaves_the_file(run_cli, data, assert_user_error):
    assert run_cli("s3", "cp", str(data / "a.csv"), "s3://bucket/d/a.csv")[0] == 0
    assert_user_error(run_cli("s3", "cp", "s3://bucket/d/a.csv", str(data / "a.csv" / "x")),
                      f"{data / 'a.csv'} is a file", "fix:")
    assert (data / "a.csv").read_text() == "a\n1\n"


@pytest.mark.parametrize("dst", ["s3://bucket/d/a.csv", "s3://bucket/d/"])
def test_s3_copy_of_an_object_onto_itself_is_an_invalid_request_as_on_aws(run_cli, data, dst,
                                                                          assert_user_error):
    assert run_cli("s3", "cp", str(data / "a.csv"), "s3://bucket/d/a.csv")[0] == 0
    assert_user_error(run_cli("s3", "cp", "s3://bucket/d/a.csv", dst),
                      "InvalidRequest", "copy an object to itself")
    assert run_cli("s3", "cp", "s3://bucket/d/a.csv", str(data / "back.csv"))[0] == 0
    assert (data / "back.csv").read_text() == "a\n1\n"


@pytest.mark.parametrize("uri, needle", [
    ("s3://", "the S3 URI has no bucket"),
    ("s3://Bad_Bucket/x", "invalid bucket name 'Bad_Bucket'"),
    ("s3://bucket/../x", "'..' segment"),
    ("file:///x", "not an S3 URI"),
])
def test_s3_ls_names_a_bad_uri(run_cli, data, uri, needle, assert_user_error):
    assert run_cli("s3", "cp", str(data / "a.csv"), "s3://bucket/d/a.csv")[0] == 0
    assert_user_error(run_cli("s3", "ls", uri), needle, "fix:")


def test_s3_cp_streams_an_object_to_stdout_and_from_stdin_without_a_file_named_dash(
        tmp_path, monkeypatch, capsysbinary):
    import io
    import sys

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"a,b\n1,2\n")))
    from smlift.cli import main

    main(["s3", "cp", "-", "s3://bucket/in/data.csv"])  # returns (exit 0) or raises SystemExit
    main(["s3", "cp", "s3://bucket/in/data.csv", "-"])
    assert capsysbinary.readouterr().out == b"a,b\n1,2\n"
    assert not (tmp_path / "-").exists()


def test_s3_cp_recursive_to_dash_is_refused(run_cli, data, assert_user_error):
    assert run_cli("s3", "cp", str(data / "a.csv"), "s3://bucket/d/a.csv")[0] == 0
    assert_user_error(run_cli("s3", "cp", "s3://bucket/d/", "-", "--recursive"),
                      "'-' (standard input or output) is not a file")


@pytest.mark.parametrize("args", [("sync", "s3://no-such-bucket/x/", "out"),
                                  ("cp", "s3://no-such-bucket/x/", "out", "--recursive")])
def test_s3_copy_from_a_missing_bucket_is_no_such_bucket_not_an_empty_success(run_cli, tmp_path,
                                                                               monkeypatch, args, assert_user_error):
    monkeypatch.chdir(tmp_path)
    assert_user_error(run_cli("s3", *args), "s3://no-such-bucket/x/: NoSuchBucket")
    assert not (tmp_path / "out").exists()


def test_s3_sync_to_a_new_bucket_creates_it(run_cli, data):
    code, out, err = run_cli("s3", "sync", str(data), "s3://new-bucket/x/")
    assert code == 0 and "upload:" in out + err

