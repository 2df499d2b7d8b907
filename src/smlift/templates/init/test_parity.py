"""Parity: the pipeline's published result files equal the legacy program's (smlift init)."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_pipeline_reproduces_the_legacy_results():
    smlift = Path(sys.executable).with_name("smlift")
    done = subprocess.run([str(smlift), "run", "--parity"], cwd=ROOT, capture_output=True,
                          text=True, env={**os.environ, "SMLIFT_ENGINE": os.environ.get("SMLIFT_ENGINE", "local")})
    assert done.returncode == 0, done.stderr[-2000:]
    assert "parity with the legacy program:" in done.stdout
