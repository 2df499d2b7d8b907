"""Every AWS-recorded conformance case, run in-process through what `smlift execute` runs.

The cases live outside the project (`../shared/conformance/cases`, see its README); the test is
skipped when they are missing, and fails when they are missing under `CI=true`. Comparison is the
shared runner's own (`run.py`: status, output with volatile paths masked, error and cause). Cases whose Wait sleeps more than 2 s (or an
unknown time) are skipped as the README allows; the rest run on a virtual clock that starts at
the real time, so Retry back-offs and short Waits cost nothing.
"""

from __future__ import annotations

import importlib.util
import json
import os
import time
from pathlib import Path

import pytest

from smlift.asl.clock import VirtualClock
from smlift.execute import execute as execute_files
from smlift.errors import SmliftError

CONFORMANCE = Path(__file__).resolve().parents[2].parent / "shared" / "conformance"
MIN_PASS_RATE = 0.97
# Cases known not to pass, by id, each with the reason (docs/fidelity.md lists them too).
# Empty: every quick case passes; a new failure is a regression.
KNOWN_FAILURES: dict[str, str] = {}


def _runner():
    spec = importlib.util.spec_from_file_location("conformance_run", CONFORMANCE / "run.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _run_case(case: dict, folder: Path) -> dict:
    definition, input_ = folder / "definition.json", folder / "input.json"
    definition.write_text(json.dumps(case["definition"]))
    input_.write_text(json.dumps(case["input"]))
    try:
        return execute_files(str(definition), str(input_), None, None,
                             clock=VirtualClock(time.time()))
    except SmliftError as exc:
        return {"status": "REFUSED", "error": str(exc)}


def _require_cases(cases: Path) -> None:
    """Skip without the cases on a developer's machine; under CI=true (.ci/run, which has
    them) their absence is a failure, so a lost checkout cannot pass as a green run."""
    if cases.is_dir():
        return
    missing = f"no conformance cases at {cases}"
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true but {missing}: the conformance suite must run in CI")
    pytest.skip(missing)


def test_conformance_cases_pass_at_the_target_rate(tmp_path):
    _require_cases(CONFORMANCE / "cases")
    runner = _runner()
    cases = [c for c in runner.load_cases(str(CONFORMANCE / "cases"), None)
             if not runner.is_long_wait(c)]
    failures = []
    for case in cases:
        differences = runner.compare(case, _run_case(case, tmp_path))
        if differences:
            failures.append((case["id"], "; ".join(differences)))
    report = "\n".join(f"{case_id}: {why}" for case_id, why in failures)
    rate = 1 - len(failures) / len(cases)
    assert rate >= MIN_PASS_RATE, f"pass rate {rate:.3f}; failures:\n{report}"
    assert {case_id for case_id, _ in failures} <= set(KNOWN_FAILURES), f"new failures:\n{report}"
    assert len(cases) > 300


def test_missing_cases_fail_under_ci_and_skip_elsewhere(monkeypatch, tmp_path):
    nowhere = tmp_path / "nowhere"
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true but no conformance cases"):
        _require_cases(nowhere)
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception, match="no conformance cases"):
        _require_cases(nowhere)
