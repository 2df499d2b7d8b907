"""The functional tests' shared fixtures. The Processing job fakes live in processing_fakes.py
(`from processing_fakes import FakeImage, service, request`): this folder is put on sys.path
here, once, for the test files that import it."""

import sys
from pathlib import Path

import pytest

from smlift.local.s3 import LocalS3

sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture
def home(tmp_path) -> Path:
    """A Processing service's home (SMLIFT_HOME layout) under tmp_path."""
    return tmp_path / "home"


@pytest.fixture
def s3(home) -> LocalS3:
    """Local S3 under `home`, with s3://data/in/rows.csv (three lines) as a job's input."""
    s3 = LocalS3(home)
    s3.put_bytes(b"a,b\n1,2\n3,4\n", "s3://data/in/rows.csv")
    return s3
