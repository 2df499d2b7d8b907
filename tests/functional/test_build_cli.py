import subprocess
import sys
from importlib.metadata import version

import pytest

from smlift.images import resolve_image


pytestmark = pytest.mark.usefixtures("local_engine")


@pytest.fixture
def context(tmp_path):
    ctx = tmp_path / "inference"
    ctx.mkdir()
    (ctx / "Dockerfile").write_text(
        "FROM python:3.11-slim\nWORKDIR /opt/program\nCOPY requirements.txt .\n"
        "RUN pip install --no-cache-dir -r requirements.txt\nCOPY predict.py .\n"
        'ENTRYPOINT ["python3", "/opt/program/predict.py"]\n')
    (ctx / "requirements.txt").write_text(f"pandas=={version('pandas')}\n")
    (ctx / "predict.py").write_text("print('predict')\n")
    return ctx


def test_build_records_an_image_that_ecr_uris_resolve_to(run_cli, context):
    code, out, err = run_cli("build", str(context), "--tag", "smlift-inference:test")
    assert code == 0, err
    assert "Built smlift-inference:test" in out
    assert out.strip().splitlines()[-1].startswith("sha256:")
    image = resolve_image("123456789012.dkr.ecr.us-east-1.amazonaws.com/smlift-inference:test")
    assert image.entrypoint == ["python3", "/opt/program/predict.py"]
    assert image.workdir == "/opt/program"


def test_build_default_tag_is_smlift_inference_latest(run_cli, context):
    code, _, err = run_cli("build", str(context))
    assert code == 0, err
    assert resolve_image("smlift-inference:latest").kind == "built"


def test_built_image_runs_its_entrypoint_with_its_runtime(run_cli, context):
    run_cli("build", str(context), "--tag", "x:1")
    image = resolve_image("x:1")
    script = dict((c, h) for h, c in image.files)["/opt/program/predict.py"]
    result = subprocess.run([str(image.bin_dir / "python3"), str(script)],
                            capture_output=True, text=True)
    assert result.stdout == "predict\n"


@pytest.mark.parametrize("args, words", [
    (("build", "{missing}"), ["not a folder"]),
    (("build", "{ctx}", "--tag", "Bad Tag"), ["invalid image tag", "--tag"]),
    (("build", "{empty}"), ["no Dockerfile"]),
])
def test_build_errors_are_one_line(run_cli, tmp_path, context, args, words):
    (tmp_path / "empty").mkdir()
    subst = {"missing": str(tmp_path / "nope"), "ctx": str(context),
             "empty": str(tmp_path / "empty")}
    code, _, err = run_cli(*[a.format(**subst) for a in args])
    assert code == 1 and len(err.strip().splitlines()) == 1 and err.startswith("Error: ")
    for word in words:
        assert word in err


def test_remote_build_hands_the_flags_to_build_remote(run_cli, context, monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(context / "no-credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(context / "no-config"))
    code, _, err = run_cli("build", str(context), "--remote", "--bucket", "my-bucket",
                           "--role", "arn:aws:iam::123456789012:role/build",
                           "--compute-type", "BUILD_GENERAL1_NOPE")
    assert code == 1 and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert "BUILD_GENERAL1_NOPE" in err  # the flag reached build_remote, which checked it


def test_build_warns_about_code_under_opt_ml_and_still_builds(run_cli, context):
    dockerfile = context / "Dockerfile"
    dockerfile.write_text(dockerfile.read_text().replace("/opt/program", "/opt/ml/code"))
    code, out, err = run_cli("build", str(context), "--tag", "opt-ml:1")
    assert code == 0, err
    warnings = [line for line in out.splitlines() if line.startswith("warning: ")]
    assert warnings[0] == (f"warning: {dockerfile}:2: WORKDIR writes /opt/ml/code, under /opt/ml, "
                           "which SageMaker reserves with all its subfolders (fix: put code in "
                           "/opt/program)")
    assert [w.split(": ")[1].rsplit(":", 1)[1] for w in warnings] == ["2", "3", "5"]  # + both COPYs
    assert resolve_image("opt-ml:1").workdir == "/opt/ml/code"


def test_build_of_code_in_opt_program_prints_no_warning(run_cli, context):
    code, out, _ = run_cli("build", str(context))
    assert (code, "warning:" in out) == (0, False)


@pytest.mark.parametrize("flag,value", [("--build-arg", "A=b"), ("--file", "Dockerfile")])
def test_file_and_build_arg_without_remote_are_refused(run_cli, context, flag, value):
    code, _, err = run_cli("build", str(context), flag, value)
    assert (code, err.splitlines()[0]) == (
        1, f"Error: {flag}: only remote builds take it (fix: add --remote, or build locally from "
           "CONTEXT_DIR/Dockerfile with its ARG defaults)")


def test_build_help_lists_the_remote_flags_and_an_example():
    result = subprocess.run([sys.executable, "-m", "smlift", "build", "--help"],
                            capture_output=True, text=True)
    assert result.returncode == 0 and "Example:" in result.stdout
    for flag in ("--remote", "--repository", "--role", "--bucket", "--vpc-id", "--subnet-ids",
                 "--security-group-ids", "--compute-type", "--no-logs", "--file", "--build-arg"):
        assert flag in result.stdout


@pytest.mark.parametrize("link_from, target", [
    ("COPY shadow /opt/s", "{secret}"),                  # a file link leaving the context
    ("COPY conf /etc/app/", "{outside}"),                # a folder link leaving the context
    ("COPY predict.py lib/ /opt/program/", "{secret}"),  # a link inside a copied folder
])
def test_build_refuses_a_copy_source_linking_out_of_the_context(run_cli, tmp_path, context,
                                                                 link_from, target):
    import os

    outside = tmp_path / "outside"
    outside.mkdir()
    secret = outside / "shadow"
    secret.write_text("root:hash")
    (context / "lib").mkdir()
    links = {"COPY shadow": context / "shadow", "COPY conf": context / "conf",
             "COPY predict.py lib/": context / "lib" / "evil"}
    name = next(key for key in links if link_from.startswith(key))
    os.symlink(target.format(secret=secret, outside=outside), links[name])
    with open(context / "Dockerfile", "a") as dockerfile:
        dockerfile.write(link_from + "\n")
    code, _, err = run_cli("build", str(context), "--tag", "links:1")
    assert code == 1 and err.startswith("Error: ") and "outside the build context" in err
    assert "Dockerfile:7" in err and "instead of linking to it" in err
    images = tmp_path / "smlift-home" / "images"
    leftovers = [p for p in images.rglob("*") if p.name == "shadow"] if images.exists() else []
    assert leftovers == []


def test_an_interrupted_snapshot_leaves_no_temp_folder(tmp_path, context):
    from smlift.images.build import plan_build, snapshot

    class Interrupted(BaseException):
        pass

    plan = plan_build(context)
    files = dict(plan.files)

    class Exploding(dict):
        def items(self):
            yield from files.items()
            raise Interrupted()

    object.__setattr__(plan, "files", Exploding(files))
    with pytest.raises(Interrupted):
        snapshot(plan, tmp_path / "home")
    assert list((tmp_path / "home" / "images").iterdir()) == []
