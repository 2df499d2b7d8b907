"""Bad input to smlift build: one clear line naming the file or field and the fix,
exit code 1, never a traceback (see conftest.py)."""

import pytest


@pytest.mark.parametrize("dockerfile, needle", [
    ("FROM\n", "Dockerfile:1: FROM names no image (fix: write FROM <base image>"),
    ("FROM python:3.11-slim\nCOPY onlyone\n", "Dockerfile:2: COPY needs at least one source and a "
                                              "destination (fix: write COPY <source>..."),
])
def test_build_names_the_dockerfile_line_and_the_fix(run_cli, tmp_path, dockerfile, needle,
                                                     assert_user_error):
    (tmp_path / "Dockerfile").write_text(dockerfile)
    assert_user_error(run_cli("build", str(tmp_path), "--tag", "x:1"), needle)


def test_build_of_a_folder_without_a_dockerfile_names_it(run_cli, tmp_path, assert_user_error):
    assert_user_error(run_cli("build", str(tmp_path), "--tag", "x:1"),
                      "no Dockerfile in the build context", "fix: pass the folder that holds the Dockerfile")

