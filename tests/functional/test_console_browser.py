"""The console in a real browser: Playwright driving Debian's chromium (never a downloaded one).

Under CI=true these must run (.ci/run installs chromium); elsewhere they skip with one line when
chromium or Playwright is missing. Each test screenshots its pages into its tmp dir; with
SMLIFT_CONSOLE_SCREENSHOTS=DIR set, copies land in DIR too (docs/console/ is made that way)."""

import json
import os
import shutil
import textwrap
from pathlib import Path

import pytest

from smlift.console import ConsoleBackend, ConsoleServer
from smlift.local.s3 import LocalS3

from processing_fakes import service

pytestmark = pytest.mark.slow

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
TIMEOUT_MS = 20_000

OK = {"Comment": "A quick pipeline stand-in", "StartAt": "Prepare", "States": {
    "Prepare": {"Type": "Pass", "Result": {"rows": 3}, "ResultPath": "$.prepared", "Next": "Pause"},
    "Pause": {"Type": "Wait", "Seconds": 1, "Next": "Done"},
    "Done": {"Type": "Succeed"}}}
FAILING = {"StartAt": "Guard", "States": {
    "Guard": {"Type": "Parallel", "Branches": [{"StartAt": "Check", "States": {
        "Check": {"Type": "Fail", "Error": "Custom.Flaky", "Cause": "a flaky check"}}}],
        "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Cleanup"}],
        "Next": "Done"},
    "Cleanup": {"Type": "Pass", "Next": "Boom"},
    "Done": {"Type": "Succeed"},
    "Boom": {"Type": "Fail", "Error": "Custom.Broken", "Cause": "column 'b' is missing"}}}


def _playwright():
    reason = None
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        sync_playwright, reason = None, "the playwright package is not installed"
    if reason is None and not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing (apt-get install -y chromium)"
    if reason is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true but the browser tests cannot run: {reason}")
        pytest.skip(f"no browser for the console tests: {reason}")
    return sync_playwright


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    sync_playwright = _playwright()
    profile = tmp_path_factory.mktemp("chromium-profile")  # empty: no state from elsewhere
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile), executable_path=str(CHROMIUM), args=FLAGS, headless=True,
            viewport={"width": 1280, "height": 900}, accept_downloads=True)
        context.set_default_timeout(TIMEOUT_MS)
        yield context
        context.close()


@pytest.fixture
def page(browser):
    page = browser.new_page()
    yield page
    page.close()


def serve(tmp_path, jobs=None, **definitions):
    paths = []
    for name, definition in definitions.items():
        path = tmp_path / f"{name}.asl.json"
        path.write_text(json.dumps(definition, indent=1))
        paths.append(path)
    backend = ConsoleBackend.open(tmp_path / "home", project=tmp_path, definitions=paths,
                                  jobs=jobs)
    server = ConsoleServer(backend, "127.0.0.1", 0)
    return backend, server, server.start_in_thread().rstrip("/")


@pytest.fixture
def console(tmp_path):
    started = []

    def start(**kwargs):
        backend, server, url = serve(tmp_path, **kwargs)
        started.append(server)
        return backend, url

    yield start
    for server in started:
        server.shutdown()


def screenshot(page, tmp_path: Path, name: str) -> Path:
    path = tmp_path / "screenshots" / f"{name}.png"
    path.parent.mkdir(exist_ok=True)
    page.screenshot(path=str(path), full_page=True)
    copies = os.environ.get("SMLIFT_CONSOLE_SCREENSHOTS")
    if copies:
        Path(copies).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(copies) / path.name)
    return path


def test_start_an_execution_from_the_page_and_watch_its_graph_turn_green(console, page, tmp_path):
    backend, url = console(ok=OK)
    page.goto(url + "/machines")
    screenshot(page, tmp_path, "machines")
    page.click("text=ok")
    page.wait_for_selector('#graph g.node[data-state="Pause"].st-none')
    page.fill("#input", '{"batch": "2024-06-01"}')
    page.fill("#name", "from-the-page")
    screenshot(page, tmp_path, "start")
    page.click("#start")
    page.wait_for_selector('#graph g.node[data-state="Pause"].st-running')
    assert page.inner_text("#where-it-runs").startswith("Runs in this console's process")
    screenshot(page, tmp_path, "execution-running")
    page.wait_for_selector('body[data-execution-status="SUCCEEDED"]')
    for state in ("Prepare", "Pause", "Done"):
        assert "st-succeeded" in page.get_attribute(f'#graph g.node[data-state="{state}"]', "class")
    assert page.inner_text("#status") == "SUCCEEDED"
    types = page.locator("#events td.event-type").all_inner_texts()
    assert types == ["ExecutionStarted", "PassStateEntered", "PassStateExited",
                     "WaitStateEntered", "WaitStateExited", "SucceedStateEntered",
                     "SucceedStateExited", "ExecutionSucceeded"]
    output = json.loads(page.inner_text('#states tr[data-state="Prepare"] td.state-output'))
    assert output == {"batch": "2024-06-01", "prepared": {"rows": 3}}
    assert page.is_disabled("#stop")
    screenshot(page, tmp_path, "execution-succeeded")
    page.click("text=Executions")
    page.click("text=SUCCEEDED")
    assert page.locator("#executions tbody tr").count() == 1
    screenshot(page, tmp_path, "executions")


def test_a_failing_execution_shows_its_red_state_with_error_and_cause(console, page, tmp_path):
    backend, url = console(failing=FAILING)
    page.goto(url + "/machines/failing")
    page.click("#start")
    page.wait_for_selector('body[data-execution-status="FAILED"]')
    assert "st-failed" in page.get_attribute('#graph g.node[data-state="Boom"]', "class")
    assert "st-caught" in page.get_attribute('#graph g.node[data-state="Guard"]', "class")
    assert "st-succeeded" in page.get_attribute('#graph g.node[data-state="Cleanup"]', "class")
    assert "st-none" in page.get_attribute('#graph g.node[data-state="Done"]', "class")
    boom = page.locator('#states tr[data-state="Boom"]')
    assert boom.locator("td.state-error").inner_text() == "Custom.Broken"
    assert boom.locator("td.state-cause").inner_text() == "column 'b' is missing"
    assert page.inner_text("#execution-error") == "Custom.Broken: column 'b' is missing"
    screenshot(page, tmp_path, "execution-failed")


def test_bad_input_is_shown_next_to_the_field_and_nothing_starts(console, page, tmp_path):
    backend, url = console(ok=OK)
    page.goto(url + "/machines/ok")
    page.fill("#input", '{"batch": ')
    page.fill("#name", "no spaces allowed")
    page.click("#start")
    assert page.inner_text('p[data-field="input"]').startswith("not valid JSON:")
    assert page.inner_text('p[data-field="name"]').startswith("Invalid Name: 'no spaces allowed'")
    assert page.input_value("#input") == '{"batch": '
    assert backend.executions() == []
    screenshot(page, tmp_path, "start-refused")


def test_stop_a_running_execution_from_its_page(console, page, tmp_path):
    slow = {"StartAt": "Long", "States": {"Long": {"Type": "Wait", "Seconds": 600, "End": True}}}
    backend, url = console(slow=slow)
    page.goto(url + "/machines/slow")
    page.click("#start")
    page.wait_for_selector('#graph g.node[data-state="Long"].st-running')
    page.click("#stop")
    page.wait_for_selector('body[data-execution-status="ABORTED"]')
    assert "st-aborted" in page.get_attribute('#graph g.node[data-state="Long"]', "class")
    assert page.inner_text("#execution-error") == "smlift.ConsoleStop: stopped from the smlift console"



def test_redrive_an_aborted_execution_from_its_page(console, page, tmp_path):
    steps = {"StartAt": "Pause", "States": {
        "Pause": {"Type": "Wait", "Seconds": 3, "Next": "Done"},
        "Done": {"Type": "Pass", "End": True}}}
    backend, url = console(steps=steps)
    page.goto(url + "/machines/steps")
    page.click("#start")
    page.wait_for_selector('#graph g.node[data-state="Pause"].st-running')
    assert page.is_disabled("#redrive")
    page.click("#stop")
    page.wait_for_selector('body[data-execution-status="ABORTED"]')
    page.click("#redrive")
    page.wait_for_selector('body[data-execution-status="SUCCEEDED"]', timeout=30_000)
    assert "st-succeeded" in page.get_attribute('#graph g.node[data-state="Done"]', "class")
    assert page.inner_text("#redrive-count") == "redriven 1 time(s)"
    screenshot(page, tmp_path, "execution-redriven")


STEP = """
import os, pathlib, time
for i in range(3):
    print(f"processing batch {i}", flush=True)
    time.sleep(0.3)
rows = pathlib.Path(os.environ["DATA"], "rows.csv").read_text()
pathlib.Path(os.environ["OUT"], "rows.csv").write_text(rows.upper())
print("wrote", len(rows), "bytes", flush=True)
"""


def processing_definition() -> dict:
    return {"StartAt": "Preprocess", "States": {"Preprocess": {
        "Type": "Task", "Resource": "arn:aws:states:::sagemaker:createProcessingJob.sync",
        "Parameters": {
            "ProcessingJobName": "console-preprocess",
            "RoleArn": "arn:aws:iam::123456789012:role/smlift-test",
            "AppSpecification": {"ImageUri": "local-test:1", "ContainerEntrypoint": [
                "python3", "/opt/ml/processing/input/code/step.py"]},
            "ProcessingResources": {"ClusterConfig": {
                "InstanceCount": 1, "InstanceType": "ml.m5.large", "VolumeSizeInGB": 30}},
            "ProcessingInputs": [
                {"InputName": "code", "S3Input": {
                    "S3Uri": "s3://data/code", "LocalPath": "/opt/ml/processing/input/code",
                    "S3DataType": "S3Prefix", "S3InputMode": "File"}},
                {"InputName": "data", "S3Input": {
                    "S3Uri": "s3://data/in", "LocalPath": "/opt/ml/processing/input/data",
                    "S3DataType": "S3Prefix", "S3InputMode": "File"}}],
            "ProcessingOutputConfig": {"Outputs": [{"OutputName": "result", "S3Output": {
                "S3Uri": "s3://data/out", "LocalPath": "/opt/ml/processing/output",
                "S3UploadMode": "EndOfJob"}}]},
            "StoppingCondition": {"MaxRuntimeInSeconds": 120},
            "Environment": {"DATA": "/opt/ml/processing/input/data",
                            "OUT": "/opt/ml/processing/output"}},
        "End": True}}}


def test_read_a_processing_jobs_log_and_download_its_output(console, page, tmp_path):
    home = tmp_path / "home"
    s3 = LocalS3(home)
    s3.put_bytes(b"a,b\n1,2\n", "s3://data/in/rows.csv")
    s3.put_bytes(textwrap.dedent(STEP).encode(), "s3://data/code/step.py")
    jobs = service(home)
    backend, url = console(jobs=jobs, job=processing_definition())
    page.goto(url + "/machines/job")
    screenshot(page, tmp_path, "machine")
    page.click("#start")
    page.click('#states tr[data-state="Preprocess"] a.job-link')
    page.wait_for_selector('body[data-log="ended"]')
    log = page.inner_text("#log")
    assert log.splitlines() == ["processing batch 0", "processing batch 1", "processing batch 2",
                                "wrote 8 bytes"]
    assert page.inner_text("#job-status") == "Completed"
    assert '"ProcessingJobName": "console-preprocess"' in page.inner_text("#description")
    screenshot(page, tmp_path, "job")
    page.goto(url + "/executions")
    page.wait_for_selector('#executions tr[data-status="SUCCEEDED"]')
    page.goto(url + "/s3?uri=" + "s3://data/out/")
    with page.expect_download() as download:
        page.click("a.object")
    assert Path(download.value.path()).read_bytes() == b"A,B\n1,2\n"
    page.goto(url + "/s3")
    screenshot(page, tmp_path, "s3")
    page.goto(url + "/images")
    screenshot(page, tmp_path, "images")
