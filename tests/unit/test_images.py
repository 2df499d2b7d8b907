import os
import subprocess
import sys
from pathlib import Path

import pytest

from smlift.errors import ImageError, InputError
from smlift.images import build_image, image_is_stale, list_images, resolve_image
from smlift.dockerfile import pip_installs, read_dockerfile, split_run
from smlift.images.engine import choose_engine, docker_build
from smlift.images.registry import check_tag, parse_reference
from importlib.metadata import version

from smlift.prebuilt import RELEASES, sklearn_release
from smlift.images.runtimes import requirement_lines, requirements_runtime, sklearn_runtime

PANDAS = version("pandas")
SKLEARN = version("scikit-learn")
ECR = "123456789012.dkr.ecr.us-east-1.amazonaws.com"


pytestmark = pytest.mark.usefixtures("local_engine")


@pytest.fixture
def home(tmp_path):
    return tmp_path / "home"


def write_context(folder: Path, dockerfile: str, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "Dockerfile").write_text(dockerfile)
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    return folder


TINY = f"""\
FROM python:3.11-slim
ENV PYTHONUNBUFFERED=1 APP_HOME=/opt/program
ENV PATH="/opt/program:${{PATH}}"
WORKDIR $APP_HOME
COPY requirements.txt /opt/program/requirements.txt
RUN pip install --no-cache-dir -r requirements.txt && rm -rf /root/.cache
COPY predict.py ./
EXPOSE 8080
ENTRYPOINT ["python3", "predict.py"]
"""


@pytest.fixture
def tiny(tmp_path):
    return write_context(tmp_path / "ctx", TINY, {
        "requirements.txt": f"# pinned to this environment\npandas=={PANDAS}\n",
        "predict.py": "print('v1')\n"})


# -- Dockerfile ---------------------------------------------------------------------------------
def test_dockerfile_env_substitutes_args_env_and_the_base_images_path(tmp_path):
    ctx = write_context(tmp_path, 'ARG PYV=3.11\nFROM python:${PYV}-slim\nARG MODE=fast\n'
                        'ENV A=1 B="two words"\nENV C=$A-${MODE} PATH=/app:$PATH\n'
                        'WORKDIR /srv\nWORKDIR app\n', {})
    spec = read_dockerfile(ctx)
    assert spec.base_image == "python:3.11-slim"
    assert spec.env["B"] == "two words" and spec.env["C"] == "1-fast"
    assert spec.env["PATH"].startswith("/app:/usr/local/bin:")
    assert spec.workdir == "/srv/app"


def test_entrypoint_resets_the_base_cmd_and_shell_form_uses_sh(tmp_path):
    spec = read_dockerfile(write_context(tmp_path / "a", "FROM python:3.11\n"
                                                       "ENTRYPOINT python3 x.py\n", {}))
    assert spec.entrypoint == ["/bin/sh", "-c", "python3 x.py"] and spec.cmd is None
    spec = read_dockerfile(write_context(tmp_path / "b", "FROM python:3.11\n", {}))
    assert spec.entrypoint is None and spec.cmd == ["python3"]
    spec = read_dockerfile(write_context(tmp_path / "c", 'FROM python:3.11\nENTRYPOINT ["a"]\n'
                                                       'CMD ["--flag", "1"]\n', {}))
    assert spec.entrypoint == ["a"] and spec.cmd == ["--flag", "1"]


@pytest.mark.parametrize("dockerfile, words", [
    ("ENV A=1\n", ["no FROM"]),
    ("FROM python:3.11 AS b\nFROM python:3.11\nCOPY --from=b /x /y\n", ["--from", ":3"]),
    ("FROM python:3.11\nADD https://example.com/x.tgz /x\n", ["URL", ":2"]),
    ('FROM python:3.11\nCMD ["unclosed"\n', ["JSON array", ":2"]),
])
def test_dockerfile_problems_name_the_file_and_line(tmp_path, dockerfile, words):
    with pytest.raises(ImageError) as info:
        read_dockerfile(write_context(tmp_path, dockerfile, {}))
    for word in words:
        assert word in str(info.value)


def test_missing_dockerfile_is_an_image_error(tmp_path):
    with pytest.raises(ImageError, match="no Dockerfile"):
        read_dockerfile(tmp_path)


def test_run_lines_split_into_pip_installs_and_skipped_parts():
    installs, skipped = pip_installs("apt-get update && python -m pip install --no-cache-dir "
                                     "-r /tmp/r.txt -i https://x/simple 'pandas==2.2' ; "
                                     "rm -rf /root/.cache")
    assert [(i.requirement_files, i.packages) for i in installs] == [(("/tmp/r.txt",),
                                                                      ("pandas==2.2",))]
    assert skipped == ["apt-get update", "rm -rf /root/.cache"]
    assert split_run("echo 'a && b' && true") == ["echo 'a && b'", "true"]
    installs, _ = pip_installs("pip3 install --requirement=req.txt")
    assert installs[0].requirement_files == ("req.txt",)


# -- registry references ------------------------------------------------------------------------
@pytest.mark.parametrize("uri, expected", [
    ("smlift-inference:latest", ("smlift-inference", "latest", None)),
    ("smlift-inference", ("smlift-inference", "latest", None)),
    (f"{ECR}/team/smlift-inference:v2", ("team/smlift-inference", "v2", None)),
    ("localhost:5000/x:1", ("x", "1", None)),
    ("x@sha256:abc", ("x", "latest", "sha256:abc")),
])
def test_parse_reference_drops_the_registry_host(uri, expected):
    assert parse_reference(uri) == expected


@pytest.mark.parametrize("uri, version", [
    ("683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.4-2-cpu-py3", "1.4-2"),
    ("141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3", "1.2-1"),
    ("450853457545.dkr.ecr.cn-north-1.amazonaws.com.cn/sagemaker-scikit-learn:0.23-1-cpu-py3",
     "0.23-1"),
    (f"{ECR}/my-own:1.4-2-cpu-py3", None),
    (f"{ECR}/sagemaker-xgboost:1.7-1", None),
])
def test_published_sklearn_uri_of_any_region_names_its_release(uri, version):
    release = sklearn_release(uri)
    assert (release.version if release else None) == version


@pytest.mark.parametrize("uri, words", [
    ("683313688378.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-scikit-learn:1.4-2-cpu-py3",
     "account 683313688378 publishes no sagemaker-scikit-learn image in eu-west-1"),
    ("683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.3-9-cpu-py3",
     "sagemaker-scikit-learn:1.3-9-cpu-py3 was never published"),
    ("683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.4-2",
     "sagemaker-scikit-learn:1.4-2 was never published"),
    ("683313688378.dkr.ecr.mars-north-1.amazonaws.com/sagemaker-scikit-learn:1.4-2-cpu-py3",
     "no sagemaker-scikit-learn image in region 'mars-north-1'"),
    ("sagemaker-scikit-learn:1.4-2-cpu-py3", "names no ECR registry"),
])
def test_sklearn_uris_aws_does_not_publish_are_named_with_the_reason(uri, words):
    from smlift.prebuilt import prebuilt_problem

    assert words in prebuilt_problem(uri)
    assert sklearn_release(uri) is None


def test_an_unpublished_sklearn_image_fails_to_resolve_as_aws_fails_to_pull_it(home):
    with pytest.raises(ImageError, match=r"API error \(404\): manifest for .* not found"):
        resolve_image("683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.3-9"
                      "-cpu-py3", home)


def test_check_tag_refuses_invalid_names():
    assert check_tag("smlift-inference") == "smlift-inference:latest"
    with pytest.raises(InputError, match="--tag"):
        check_tag("Upper/Case:1")


# -- runtimes -----------------------------------------------------------------------------------
def test_requirement_lines_follow_nested_requirement_files(tmp_path):
    req = tmp_path / "r.txt"
    other = tmp_path / "other.txt"
    other.write_text(f"scikit-learn=={SKLEARN}\n")
    req.write_text(f"pandas=={PANDAS}  # comment\n-r other.txt\n\n")
    assert requirement_lines([req], ["boto3"]) == [
        f"pandas=={PANDAS}", f"scikit-learn=={SKLEARN}", "boto3"]


class FakePip:
    """Stands in for `python -m venv` and `pip install`: records argv, makes a venv skeleton
    whose pip script has the (temporary) venv path in its shebang, and can fail pip."""

    def __init__(self, fail_pip: bool = False):
        self.calls: list[list[str]] = []
        self.fail_pip = fail_pip

    def __call__(self, argv, **kwargs):
        self.calls.append(list(argv))
        if argv[1:3] == ["-m", "venv"]:
            venv = Path(argv[3])
            (venv / "bin").mkdir(parents=True)
            (venv / "bin" / "python3").symlink_to(sys.executable)
            (venv / "bin" / "python").symlink_to("python3")
            (venv / "bin" / "pip").write_text(f"#!{venv}/bin/python\nimport pip\n")
            (venv / "pyvenv.cfg").write_text(f"home = /usr\ncommand = python -m venv {venv}\n")
            return subprocess.CompletedProcess(argv, 0, "", "")
        code = 1 if self.fail_pip else 0
        return subprocess.CompletedProcess(argv, code, "", "ERROR: No matching distribution")


def test_prebuilt_sklearn_runtime_is_a_cached_venv_built_once(home, fake_runtimes):
    fake, messages = FakePip(), []
    bin_dir = sklearn_runtime(RELEASES["1.2-1"], home, messages.append, run=fake)
    assert bin_dir.parent.parent == Path(os.environ["SMLIFT_RUNTIME_CACHE"])
    assert bin_dir.parent.name.startswith("sklearn-1.2-1-")
    assert "scikit-learn==1.2.*" in (bin_dir.parent / "smlift-requirements.txt").read_text()
    assert "numpy<2" in (bin_dir.parent / "smlift-requirements.txt").read_text()
    assert (bin_dir / "pip").read_text().startswith(f"#!{bin_dir.parent}/bin/python")
    assert any("Building Python runtime sklearn-1.2-1" in m for m in messages)
    assert sklearn_runtime(RELEASES["1.2-1"], home, messages.append, run=fake) == bin_dir
    assert len(fake.calls) == 2  # venv + pip, only the first time
    assert [p.name for p in bin_dir.parent.parent.iterdir() if ".tmp-" in p.name] == []


def test_sklearn_1_4_2_runtime_installs_exactly_the_images_pins(home, fake_runtimes):
    bin_dir = sklearn_runtime(RELEASES["1.4-2"], home, lambda m: None, run=FakePip())
    lines = (bin_dir.parent / "smlift-requirements.txt").read_text().splitlines()
    assert lines[:4] == ["scikit-learn==1.4.2", "numpy==2.1.0", "pandas==2.3.2", "scipy>=1.9.0"]
    assert "pyarrow==17.0.0" in lines and "boto3==1.28.57" in lines


def test_pins_matching_this_environment_still_get_a_venv_of_their_own(home, fake_runtimes):
    fake = FakePip()
    bin_dir = requirements_runtime([f"pandas=={PANDAS}"], home, lambda m: None, run=fake)
    assert bin_dir.parent.parent == Path(os.environ["SMLIFT_RUNTIME_CACHE"])
    assert bin_dir != Path(sys.executable).parent and len(fake.calls) == 2


def test_other_images_are_not_sklearn_releases():
    assert sklearn_release(f"{ECR}/smlift-inference:latest") is None


def test_runtime_cache_defaults_to_the_users_cache_shared_by_homes(tmp_path, monkeypatch):
    from smlift.images.runtimes import runtimes_dir

    monkeypatch.delenv("SMLIFT_RUNTIME_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert runtimes_dir(tmp_path / "a") == runtimes_dir(tmp_path / "b") == \
        tmp_path / "cache" / "smlift" / "runtimes"


def test_runtime_cache_can_be_shared_between_homes(tmp_path, monkeypatch):
    monkeypatch.setenv("SMLIFT_RUNTIME_CACHE", str(tmp_path / "shared"))
    fake = FakePip()
    first = sklearn_runtime(RELEASES["1.2-1"], tmp_path / "home-a", lambda m: None, run=fake)
    assert sklearn_runtime(RELEASES["1.2-1"], tmp_path / "home-b", lambda m: None, run=fake) == first
    assert first.parent.parent == tmp_path / "shared" and len(fake.calls) == 2


def test_failed_pip_leaves_no_half_built_runtime(home, fake_runtimes):
    with pytest.raises(ImageError, match="No matching distribution"):
        sklearn_runtime(RELEASES["1.2-1"], home, lambda m: None, run=FakePip(fail_pip=True))
    runtimes = Path(os.environ["SMLIFT_RUNTIME_CACHE"])
    assert [p.name for p in runtimes.iterdir() if not p.name.startswith(".")] == []


# -- build, resolve, stale ----------------------------------------------------------------------
def test_build_then_resolve_by_tag_ecr_uri_and_digest(tiny, home):
    messages = []
    built = build_image(tiny, "tiny:1", home, echo=messages.append)
    assert built.entrypoint == ["python3", "predict.py"] and built.cmd is None
    assert built.workdir == "/opt/program"
    assert built.env["PYTHONUNBUFFERED"] == "1"
    assert built.env["PATH"].startswith("/opt/program:/usr/local/bin")
    contents = {c: h.read_text() for h, c in built.files}
    assert contents["/opt/program/predict.py"] == "print('v1')\n"
    for uri in ("tiny:1", f"{ECR}/tiny:1", f"999999999999.dkr.ecr.eu-west-1.amazonaws.com/tiny:1",
                f"tiny@{built.digest}"):
        image = resolve_image(uri, home)
        assert image.uri == uri and image.kind == "built" and image.digest == built.digest
        assert image.files == built.files
    assert any("RUN pip install (1 requirement(s)): in " in m for m in messages)
    assert any("RUN rm -rf /root/.cache: skipped" in m for m in messages)
    assert any("EXPOSE has no effect" in m for m in messages)
    assert [r["Uri"] for r in list_images(home)] == ["tiny:1"]


def test_built_image_does_not_change_when_the_context_is_edited(tiny, home):
    built = build_image(tiny, "tiny:1", home, echo=lambda m: None)
    assert not image_is_stale(tiny, "tiny:1", home)
    (tiny / "predict.py").write_text("print('v2')\n")
    assert image_is_stale(tiny, "tiny:1", home)
    image = resolve_image("tiny:1", home)
    files = {c: h for h, c in image.files}
    assert files["/opt/program/predict.py"].read_text() == "print('v1')\n"
    rebuilt = build_image(tiny, "tiny:1", home, echo=lambda m: None)
    assert rebuilt.digest != built.digest and not image_is_stale(tiny, "tiny:1", home)
    files = {c: h for h, c in rebuilt.files}
    assert files["/opt/program/predict.py"].read_text() == "print('v2')\n"


def test_never_built_tag_is_stale_and_unknown_uri_names_smlift_build(tiny, home):
    assert image_is_stale(tiny, "tiny:1", home)
    with pytest.raises(ImageError) as info:
        resolve_image(f"{ECR}/never-built:latest", home)
    assert "smlift build" in str(info.value) and "never-built:latest" in str(info.value)


def test_image_whose_files_were_deleted_asks_for_a_rebuild(tiny, home):
    built = build_image(tiny, "tiny:1", home, echo=lambda m: None)
    built.files[0][0].unlink()
    with pytest.raises(ImageError, match="rebuild it: `smlift build"):
        resolve_image("tiny:1", home)
    assert image_is_stale(tiny, "tiny:1", home)


def test_copy_layout_follows_docker(tmp_path, home):
    ctx = write_context(tmp_path / "ctx", "FROM python:3.11\nWORKDIR /opt/program\n"
                        "COPY a.py /opt/program\nCOPY conf /etc/app/\nCOPY *.txt /data/\n"
                        "COPY a.py /tmp\nCOPY b.py /opt/program/a.py\nCOPY skip.log /x/\n", {
                            "a.py": "a", "b.py": "b", "conf/x/y.ini": "y", "one.txt": "1",
                            "two.txt": "2", "skip.log": "s", ".dockerignore": "*.log\n"})
    with pytest.raises(ImageError, match="file not found in build context: skip.log"):
        build_image(ctx, "layout:1", home, echo=lambda m: None)
    (ctx / "Dockerfile").write_text((ctx / "Dockerfile").read_text().replace(
        "COPY skip.log /x/\n", ""))
    image = build_image(ctx, "layout:1", home, echo=lambda m: None)
    files = {c: h.read_text() for h, c in image.files}
    assert files == {"/opt/program/a.py": "b", "/etc/app/x/y.ini": "y", "/data/one.txt": "1",
                     "/data/two.txt": "2", "/tmp/a.py": "a"}


def test_copy_outside_the_context_is_refused(tmp_path, home):
    ctx = write_context(tmp_path / "ctx", "FROM python:3.11\nCOPY ../secret /x\n", {})
    with pytest.raises(ImageError, match="outside the build context"):
        build_image(ctx, "bad:1", home, echo=lambda m: None)


def test_pip_install_of_a_file_not_copied_names_the_line(tmp_path, home):
    ctx = write_context(tmp_path / "ctx", "FROM python:3.11\nRUN pip install -r req.txt\n",
                        {"req.txt": "pandas\n"})
    with pytest.raises(ImageError) as info:
        build_image(ctx, "bad:1", home, echo=lambda m: None)
    assert "Dockerfile:2" in str(info.value) and "COPY" in str(info.value)


def test_requirements_build_a_venv_and_record_it(tmp_path, home, fake_runtimes):
    ctx = write_context(tmp_path / "ctx", "FROM python:3.11\nCOPY r.txt /r.txt\n"
                        "RUN pip install -r /r.txt requests==0.0.1\n", {"r.txt": "pandas\n"})
    fake = FakePip()
    image = build_image(ctx, "venv:1", home, echo=lambda m: None, run=fake)
    assert image.bin_dir.parent.name.startswith("req-")
    assert (image.bin_dir.parent / "smlift-requirements.txt").read_text() == \
        "pandas\nrequests==0.0.1\n"
    assert [c[1:3] for c in fake.calls] == [["-m", "venv"], ["-m", "pip"]]
    build_image(ctx, "venv:2", home, echo=lambda m: None, run=fake)
    assert len(fake.calls) == 2  # the runtime is cached by its requirements


# -- Docker engine ------------------------------------------------------------------------------
def test_engine_choice_follows_the_setting_and_detection(monkeypatch):
    assert choose_engine("auto", available=lambda: True) == "docker"
    assert choose_engine("auto", available=lambda: False) == "local"
    assert choose_engine(None, available=lambda: True) == "local"  # SMLIFT_ENGINE=local
    with pytest.raises(ImageError, match="no Docker engine"):
        choose_engine("docker", available=lambda: False)
    monkeypatch.setenv("SMLIFT_ENGINE", "podman")
    with pytest.raises(InputError, match="SMLIFT_ENGINE"):
        choose_engine(None, available=lambda: False)


def test_docker_build_runs_docker_and_reads_the_image_config(tmp_path):
    calls = []

    def fake_run(argv, **kwargs):
        calls.append(argv)
        if argv[1] == "build":
            return subprocess.CompletedProcess(argv, 0, "Successfully built\n", "")
        return subprocess.CompletedProcess(argv, 0, '{"Id": "sha256:abc", "Config": {"Entrypoint":'
                                           ' ["python3"], "Cmd": null, "Env": ["A=1", "B=x=y"], '
                                           '"WorkingDir": ""}}', "")

    config = docker_build(tmp_path, "x:1", lambda m: None, run=fake_run)
    assert calls[0] == ["docker", "build", "-t", "x:1", str(tmp_path)]
    assert config == {"Id": "sha256:abc", "Entrypoint": ["python3"], "Cmd": None,
                      "Env": {"A": "1", "B": "x=y"}, "WorkingDir": "/", "Labels": {}}


def test_failed_docker_build_is_an_image_error(tmp_path):
    def fake_run(argv, **kwargs):
        return subprocess.CompletedProcess(argv, 1, "", "failed to solve: no such file")

    with pytest.raises(ImageError, match="failed to solve"):
        docker_build(tmp_path, "x:1", lambda m: None, run=fake_run)


# -- the prebuilt image on Docker: pull the real one where AWS credentials reach it ------------
class FakeEcr:
    def __init__(self):
        self.calls = []

    def get_authorization_token(self, **kwargs):
        import base64

        self.calls.append(kwargs)
        return {"authorizationData": [{"authorizationToken": base64.b64encode(b"AWS:pw").decode()}]}


SKLEARN_URI = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.4-2-cpu-py3"


def test_with_credentials_the_real_prebuilt_image_is_pulled_after_an_ecr_login(monkeypatch):
    from smlift.images.engine import pull_with_ecr_login

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    calls, ecr = [], FakeEcr()

    def fake_run(argv, **kwargs):
        calls.append((argv, kwargs.get("input")))
        return subprocess.CompletedProcess(argv, 0, "", "")

    assert pull_with_ecr_login(SKLEARN_URI, lambda m: None, fake_run, lambda region: ecr)
    assert ecr.calls == [{"registryIds": ["683313688378"]}]
    assert calls == [(["docker", "login", "--username", "AWS", "--password-stdin",
                       "683313688378.dkr.ecr.us-east-1.amazonaws.com"], "pw"),
                     (["docker", "pull", SKLEARN_URI], None)]


def test_without_credentials_nothing_is_pulled_and_a_look_alike_is_built(monkeypatch, tmp_path):
    from smlift.images.engine import pull_with_ecr_login

    monkeypatch.setenv("HOME", str(tmp_path))
    calls = []
    assert not pull_with_ecr_login(SKLEARN_URI, lambda m: None,
                                   lambda argv, **kw: calls.append(argv), lambda r: FakeEcr())
    assert calls == []


def test_a_failed_pull_says_so_and_falls_back(monkeypatch):
    from smlift.images.engine import pull_with_ecr_login

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    messages = []

    def fake_run(argv, **kwargs):
        return subprocess.CompletedProcess(argv, 1 if argv[1] == "pull" else 0, "", "denied")

    assert not pull_with_ecr_login(SKLEARN_URI, messages.append, fake_run, lambda r: FakeEcr())
    assert messages == [f"cannot pull {SKLEARN_URI}; building a look-alike instead"]


def test_the_look_alike_dockerfile_installs_the_images_pins_and_env():
    from smlift.prebuilt import lookalike_dockerfile

    text = lookalike_dockerfile(RELEASES["1.4-2"])
    assert text.startswith("# A local look-alike of sagemaker-scikit-learn:1.4-2-cpu-py3")
    assert "'scikit-learn==1.4.2'" in text and "'pandas==2.3.2'" in text
    assert "PYTHONUNBUFFERED=1" in text and 'org.smlift.prebuilt=' in text


# -- code under /opt/ml -------------------------------------------------------------------------
OPT_ML = """\
FROM python:3.11-slim
WORKDIR /opt/ml/code
COPY predict.py ./
ADD model.pkl /opt/ml/model/
RUN mkdir -p /opt/ml/extra && cp predict.py /opt/ml/extra/ && mv predict.py /srv/p.py
WORKDIR /opt/program
COPY predict.py /opt/mlflow/
RUN cp predict.py . && cp -t /opt/ml/code predict.py
"""


def test_every_write_under_opt_ml_is_a_warning_with_its_line_and_the_fix(tmp_path):
    ctx = write_context(tmp_path / "ctx", OPT_ML, {"predict.py": "", "model.pkl": ""})
    path = ctx / "Dockerfile"
    warnings = read_dockerfile(ctx).warnings
    assert [(w.where, w.message) for w in warnings] == [
        (f"{path}:2", "WORKDIR writes /opt/ml/code, under /opt/ml, which SageMaker reserves with all its subfolders"),
        (f"{path}:3", "COPY writes /opt/ml/code, under /opt/ml, which SageMaker reserves with all its subfolders"),
        (f"{path}:4", "ADD writes /opt/ml/model, under /opt/ml, which SageMaker reserves with all its subfolders"),
        (f"{path}:5", "RUN mkdir writes /opt/ml/extra, under /opt/ml, which SageMaker reserves with all its subfolders"),
        (f"{path}:5", "RUN cp writes /opt/ml/extra, under /opt/ml, which SageMaker reserves with all its subfolders"),
        (f"{path}:8", "RUN cp writes /opt/ml/code, under /opt/ml, which SageMaker reserves with all its subfolders")]
    assert {w.fix for w in warnings} == {"put code in /opt/program"}
    assert str(warnings[0]) == (f"{path}:2: WORKDIR writes /opt/ml/code, under /opt/ml, which "
                                "SageMaker reserves with all its subfolders (fix: put code in "
                                "/opt/program)")


def test_the_projects_inference_image_keeps_its_code_out_of_opt_ml():
    root = Path(__file__).resolve().parents[2]
    assert read_dockerfile(root / "containers/inference").warnings == ()


def test_docker_engine_build_prints_the_opt_ml_warning_and_still_builds(tmp_path, home, docker_engine):
    ctx = write_context(tmp_path / "ctx", "FROM python:3.11-slim\nCOPY predict.py /opt/ml/code/\n",
                        {"predict.py": ""})

    def fake_docker(argv, **kwargs):  # `docker build`, then `docker image inspect`
        if argv[1] == "build":
            return subprocess.CompletedProcess(argv, 0, "", "")
        return subprocess.CompletedProcess(argv, 0, '{"Id": "sha256:abc", "Config": {"Entrypoint":'
                                           ' null, "Cmd": ["python3"], "Env": [], "WorkingDir": ""}}', "")

    printed: list[str] = []
    image = build_image(ctx, "opt-ml:1", home, printed.append, engine="docker", run=fake_docker)
    assert image.engine == "docker"
    assert [line for line in printed if line.startswith("warning: ")] == [
        f"warning: {ctx / 'Dockerfile'}:2: COPY writes /opt/ml/code, under /opt/ml, which SageMaker "
        "reserves with all its subfolders (fix: put code in /opt/program)"]


def test_arg_values_reach_run_lines_as_in_the_aws_samples_dockerfile(tmp_path):
    from smlift.images.build import plan_build

    ctx = write_context(tmp_path / "ctx", "FROM python:3.11-slim\nARG CODE_DIR=/opt/program\n"
                        "ARG EXTRA_PACKAGE\nCOPY requirements.txt ${CODE_DIR}/\n"
                        "RUN pip install -r ${CODE_DIR}/requirements.txt && "
                        "pip install $EXTRA_PACKAGE\n", {"requirements.txt": "pandas\n"})
    plan = plan_build(ctx, {"EXTRA_PACKAGE": "boto3==1.0"})
    assert plan.requirement_files == ("/opt/program/requirements.txt",)
    assert plan.packages == ("boto3==1.0",)
