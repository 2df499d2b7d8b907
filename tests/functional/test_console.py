"""`smlift console` over HTTP: a real server on a free loopback port, read with urllib.

The browser tests (test_console_browser.py) drive the same server with chromium; these check
what needs no browser: the guard, the start checks, what is served and what is not, the fold
of a history into state colours, and that `smlift --help` does not pay for the console."""

import json
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from smlift.console import ConsoleBackend, ConsoleServer, StartRefused
from smlift.console.guard import HostOriginGuard, allowed_hosts
from smlift.console.progress import state_progress
from smlift.local.s3 import LocalS3

ROOT = Path(__file__).resolve().parents[2]
OK = {"StartAt": "First", "States": {
    "First": {"Type": "Pass", "Result": {"a": 1}, "ResultPath": "$.first", "Next": "Done"},
    "Done": {"Type": "Succeed"}}}
CAUGHT = {"StartAt": "Guard", "States": {
    "Guard": {"Type": "Parallel", "Branches": [{"StartAt": "Inner", "States": {
        "Inner": {"Type": "Fail", "Error": "Custom.Flaky", "Cause": "inner trouble"}}}],
        "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Cleanup"}],
        "Next": "Done"},
    "Cleanup": {"Type": "Pass", "Next": "Boom"},
    "Done": {"Type": "Succeed"},
    "Boom": {"Type": "Fail", "Error": "Custom.Broken", "Cause": "the data was bad"}}}


def write_definitions(folder: Path, **definitions) -> list[Path]:
    paths = []
    for name, definition in definitions.items():
        path = folder / f"{name}.asl.json"
        path.write_text(json.dumps(definition))
        paths.append(path)
    return paths


@pytest.fixture
def backend(tmp_path):
    return ConsoleBackend.open(tmp_path / "home", project=tmp_path,
                               definitions=write_definitions(tmp_path, ok=OK, caught=CAUGHT))


@pytest.fixture
def console(backend):
    server = ConsoleServer(backend, "127.0.0.1", 0)
    url = server.start_in_thread()
    yield url.rstrip("/")
    server.shutdown()


def fetch(url: str, data: bytes | None = None, headers: dict | None = None):
    """(status, body text, headers) of one request; redirects are not followed."""
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    request = urllib.request.Request(url, data=data, headers=headers or {},
                                     method="POST" if data is not None else "GET")
    try:
        with urllib.request.build_opener(NoRedirect).open(request, timeout=10) as response:
            return response.status, response.read().decode(), response.headers
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(), exc.headers


def form(**fields) -> bytes:
    return urllib.parse.urlencode(fields).encode()


def test_a_request_naming_another_host_is_refused_before_anything_runs(console):
    status, body, _ = fetch(console + "/executions", headers={"Host": "rebound.example:8765"})
    assert status == 403
    assert body == "refused: Host 'rebound.example:8765' is not this console's address\n"


def test_a_post_from_another_origin_is_refused_and_starts_nothing(console, backend):
    status, body, _ = fetch(console + "/machines/ok/start", form(input="{}", name="csrf"),
                            headers={"Origin": "http://evil.example"})
    assert (status, body) == (403, "refused: Origin 'http://evil.example' is not this console\n")
    assert backend.executions() == []


def test_loopback_names_are_the_consoles_own_and_others_are_not():
    guard = HostOriginGuard(app=None, hosts=allowed_hosts("127.0.0.1", 8765))
    assert guard.refusal("localhost:8765", "http://127.0.0.1:8765") is None
    assert guard.refusal("[::1]:8765", None) is None
    assert guard.refusal("127.0.0.1:8766", None) == "Host '127.0.0.1:8766' is not this console's address"
    assert guard.refusal("127.0.0.1:8765", "null") == "Origin 'null' is not this console"
    assert allowed_hosts("10.1.2.3", 80) == {"10.1.2.3:80", "10.1.2.3"}


def test_start_from_the_form_redirects_to_the_execution_that_runs_here(console, backend):
    status, _, headers = fetch(console + "/machines/ok/start", form(input='{"x": 1}', name="r1"),
                               headers={"Origin": console})
    arn = "arn:aws:states:us-east-1:123456789012:execution:ok:r1"
    assert (status, headers["location"]) == (303, "/executions/" + arn)
    assert backend.sfn.wait(arn)["status"] == "SUCCEEDED"
    status, page, _ = fetch(console + headers["location"])
    assert status == 200 and "Runs in this console's process" in page


def test_bad_input_and_name_are_reported_next_to_their_fields(console, backend):
    status, page, _ = fetch(console + "/machines/ok/start", form(input="{nope", name="a b"))
    assert status == 400
    assert '<p class="problem" data-field="input">not valid JSON: Expecting property name' in page
    assert "data-field=\"name\">Invalid Name: &#39;a b&#39;" in page
    assert "{nope</textarea>" in page  # what was typed stays in the form
    assert backend.executions() == []


def test_a_name_already_used_is_refused_next_to_the_name(backend):
    arn = backend.start("ok", "{}", "twice")
    backend.sfn.wait(arn)
    with pytest.raises(StartRefused) as refused:
        backend.start("ok", '{"other": 1}', "twice")
    assert list(refused.value.problems) == ["name"]
    assert "Execution Already Exists" in refused.value.problems["name"][0]


def test_the_pipeline_is_prefilled_and_checked_by_validates_rules(tmp_path):
    backend = ConsoleBackend.open(tmp_path / "home", project=ROOT)
    text = backend.example_input("smlift-pipeline")
    assert text == (ROOT / "examples/input.local.json").read_text()
    assert backend.check_start("smlift-pipeline", text, None)["model_name"] == "booking-cancellation"
    bad = {**json.loads(text), "role": "nope", "volume_size": "x"}
    with pytest.raises(StartRefused) as refused:
        backend.check_start("smlift-pipeline", json.dumps(bad), None)
    problems = refused.value.problems
    assert sorted(problems) == ["input.role", "input.volume_size"]
    assert problems["input.volume_size"][0].startswith(
        "must be a whole number (JSON integer) such as 30, not 'x'")


def test_execution_list_filters_by_status(console, backend):
    backend.sfn.wait(backend.start("ok", "{}", "fine"))
    backend.sfn.wait(backend.start("caught", "{}", "broken"))
    _, failed, _ = fetch(console + "/executions?status=FAILED")
    assert ">broken</a>" in failed and ">fine</a>" not in failed
    _, every, _ = fetch(console + "/executions")
    assert ">broken</a>" in every and ">fine</a>" in every
    status, _, _ = fetch(console + "/executions?status=BOGUS")
    assert status == 400


def test_a_caught_error_colours_its_state_caught_and_the_fail_state_failed(backend):
    arn = backend.start("caught", "{}", "c1")
    backend.sfn.wait(arn)
    states = state_progress(backend.sfn.get_execution_history(executionArn=arn)["events"])
    assert {name: state.status for name, state in states.items()} == {
        "Guard": "CAUGHT", "Inner": "FAILED", "Cleanup": "SUCCEEDED", "Boom": "FAILED"}
    assert (states["Boom"].error, states["Boom"].cause) == ("Custom.Broken", "the data was bad")


def test_the_event_stream_sends_the_history_and_ends(console, backend):
    arn = backend.start("ok", "{}", "streamed")
    backend.sfn.wait(arn)
    status, body, headers = fetch(console + "/executions/" + urllib.parse.quote(arn) + "/events")
    assert status == 200 and headers["content-type"].startswith("text/event-stream")
    first = json.loads(body.split("\n\n")[0].removeprefix("data: "))
    assert [e["type"] for e in first["events"]] == [
        "ExecutionStarted", "PassStateEntered", "PassStateExited", "SucceedStateEntered",
        "SucceedStateExited", "ExecutionSucceeded"]
    assert body.endswith("event: end\ndata: {}\n\n")


def test_s3_objects_download_and_nothing_outside_local_s3_is_served(console, tmp_path):
    LocalS3(tmp_path / "home").put_bytes(b"a,b\n1,2\n", "s3://data/in/rows.csv")
    (tmp_path / "home" / "secret.txt").write_text("not an object")
    _, listing, _ = fetch(console + "/s3?uri=" + urllib.parse.quote("s3://data/in/"))
    assert "rows.csv" in listing
    status, body, headers = fetch(console + "/s3/object?uri=s3://data/in/rows.csv")
    assert (status, body) == (200, "a,b\n1,2\n")
    assert 'filename="rows.csv"' in headers["content-disposition"]
    for uri in ("s3://data/../secret.txt", "s3://data/in", "s3://data/in/../../secret.txt"):
        status, body, _ = fetch(console + "/s3/object?uri=" + urllib.parse.quote(uri))
        assert status in (400, 404) and "not an object" not in body, uri
    status, body, _ = fetch(console + "/static/../backend.py")
    assert status == 404 and "ConsoleBackend" not in body


def test_images_page_lists_local_images_read_only(console, tmp_path):
    from smlift.images.registry import ImageRegistry

    ImageRegistry(tmp_path / "home").put("smlift-inference:latest", {
        "Uri": "smlift-inference:latest", "Engine": "local", "ContextDir": "containers/inference",
        "Digest": "sha256:0123456789abcdef0123", "BinDir": sys.prefix + "/bin"})
    status, page, _ = fetch(console + "/images")
    assert status == 200 and "<code>smlift-inference:latest</code>" in page
    assert "<form" not in page


def test_console_help_is_fast_and_does_not_import_the_web_stack():
    code = ("import sys, time; t = time.perf_counter(); from smlift.cli import main\n"
            "try: main(['--help'])\nexcept SystemExit: pass\n"
            "print(time.perf_counter() - t, any(m.split('.')[0] in ('starlette', 'uvicorn', "
            "'jinja2') for m in sys.modules))")
    best = None
    for _ in range(3):  # the best of three: the machine is shared
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              check=True)
        seconds, imported = done.stdout.strip().splitlines()[-1].split()
        best = min(best or 99.0, float(seconds))
        assert imported == "False"
    assert best < 0.3


def test_console_refuses_a_port_in_use_with_the_fix(backend):
    first = ConsoleServer(backend, "127.0.0.1", 0)
    from smlift.errors import InputError

    with pytest.raises(InputError) as refused:
        ConsoleServer(backend, "127.0.0.1", first.port)
    assert refused.value.fix == "choose another --port (0: any free port)"
    first.socket.close()


def test_quitting_waits_for_the_executions_started_from_the_console(tmp_path):
    slow = {"StartAt": "Pause", "States": {"Pause": {"Type": "Wait", "Seconds": 1, "End": True}}}
    backend = ConsoleBackend.open(tmp_path / "home", project=tmp_path,
                                  definitions=write_definitions(tmp_path, slow=slow))
    arn = backend.start("slow", "{}", "left-running")
    said = []
    started = time.monotonic()
    server = ConsoleServer(backend, "127.0.0.1", 0)
    server.finish_started(said.append)
    server.socket.close()
    assert said == ["waiting for 1 execution(s) started from the console to end "
                    "(Ctrl-C again stops them: ABORTED)"]
    assert backend.sfn.describe_execution(executionArn=arn)["status"] == "SUCCEEDED"
    assert time.monotonic() - started < 5
