"""The prebuilt SageMaker scikit-learn images: where AWS publishes them and what they hold.

This is the one home of these facts. The pipeline's Preprocess and Postprocess run in script mode
on `ACCOUNT.dkr.ecr.REGION.amazonaws.com/sagemaker-scikit-learn:VERSION-cpu-py3`; locally that
image is either a cached Python runtime with the image's packages (the local engine,
`runtimes.sklearn_runtime`) or a Docker look-alike built from `lookalike_dockerfile` and tagged
with the very URI the execution input names (the Docker engine, `smlift images build-sklearn`).

`RELEASES` holds what each published image pins, read from the public recipe
(aws/sagemaker-scikit-learn-container, `requirements.txt` and `docker/<version>/base/
Dockerfile.cpu`). The look-alikes install the data stack the step scripts use (numpy, pandas,
scikit-learn, scipy, pyarrow, boto3, ...) at those versions; they leave out the image's serving
and training toolkits (multi-model-server, sagemaker-training, mlio), which script-mode
Processing does not use. docs/fidelity.md lists the differences, the Python version first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# The prebuilt image's account in each region (AWS: "Docker Registry Paths and Example Code").
SCIKIT_IMAGE_ACCOUNTS = {
    "af-south-1": "510948584623", "ap-east-1": "651117190479", "ap-northeast-1": "354813040037",
    "ap-northeast-2": "366743142698", "ap-northeast-3": "867004704886",
    "ap-south-1": "720646828776", "ap-south-2": "628508329040", "ap-southeast-1": "121021644041",
    "ap-southeast-2": "783357654285", "ap-southeast-3": "951798379941",
    "ap-southeast-4": "106583098589", "ca-central-1": "341280168497",
    "ca-west-1": "190319476487", "cn-north-1": "450853457545", "cn-northwest-1": "451049120500",
    "eu-central-1": "492215442770", "eu-central-2": "680994064768", "eu-north-1": "662702820516",
    "eu-south-1": "978288397137", "eu-south-2": "104374241257", "eu-west-1": "141502667606",
    "eu-west-2": "764974769150", "eu-west-3": "659782779980", "il-central-1": "898809789911",
    "me-central-1": "272398656194", "me-south-1": "801668240914", "sa-east-1": "737474898029",
    "us-east-1": "683313688378", "us-east-2": "257758044811", "us-gov-east-1": "237065988967",
    "us-gov-west-1": "414596584902", "us-west-1": "746614075791", "us-west-2": "246618743249",
}
SCIKIT_IMAGE_TAG = "1.4-2-cpu-py3"

# The image's ENV (script mode: no ENTRYPOINT or CMD; ContainerEntrypoint says what runs).
PREBUILT_SKLEARN_ENV = {"PYTHONDONTWRITEBYTECODE": "1", "PYTHONUNBUFFERED": "1",
                        "PYTHONIOENCODING": "UTF-8", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}


@dataclass(frozen=True)
class SklearnRelease:
    """One published sagemaker-scikit-learn image version (`1.4-2`)."""

    version: str                  # the tag's version part, e.g. "1.4-2"
    python: str                   # the image's Python, e.g. "3.10"
    packages: tuple[str, ...]     # pip requirements the look-alikes install

    @property
    def sklearn(self) -> str:
        """scikit-learn major.minor, e.g. "1.4"."""
        return self.version.split("-")[0]


RELEASES = {
    "1.4-2": SklearnRelease("1.4-2", "3.10", (
        "scikit-learn==1.4.2", "numpy==2.1.0", "pandas==2.3.2", "scipy>=1.9.0",
        "pyarrow==17.0.0", "boto3==1.28.57", "botocore>=1.31.57,<1.32.0", "python-dateutil",
        "six==1.15.0", "PyYAML==6.0.1", "urllib3==1.26.17", "certifi")),
    # Older releases: only their scikit-learn is pinned here, with the pre-NumPy-2 stack.
    **{version: SklearnRelease(version, python, (f"scikit-learn=={version.split('-')[0]}.*",
                                                 "numpy<2", "pandas<2", "scipy"))
       for version, python in (("1.2-1", "3.9"), ("1.0-1", "3.8"), ("0.23-1", "3.7"))},
}

# Every version AWS has published; each as the tag `VERSION-cpu-py3`.
PUBLISHED_VERSIONS = ("0.20.0", "0.23-1", "1.0-1", "1.2-1", "1.4-2")
_URI_RE = re.compile(
    r"^(?:(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?/)?"
    r"sagemaker-scikit-learn:(?P<tag>\S+)$")


def default_scikit_image(region: str) -> str | None:
    """The region's prebuilt scikit-learn image URI, or None for a region not in the table."""
    account = SCIKIT_IMAGE_ACCOUNTS.get(region)
    if account is None:
        return None
    domain = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
    return f"{account}.dkr.ecr.{region}.{domain}/sagemaker-scikit-learn:{SCIKIT_IMAGE_TAG}"


def is_sklearn_uri(uri: str) -> bool:
    """True for any URI of a `sagemaker-scikit-learn` repository, published or not."""
    return bool(_URI_RE.match(uri.strip()))


def prebuilt_problem(uri: str) -> str | None:
    """Why AWS would find no image at a `sagemaker-scikit-learn` URI (a missing or foreign
    registry, a region without it, a tag never published), or None when AWS publishes it. Other
    repositories are not this table's business: None."""
    match = _URI_RE.match(uri.strip())
    if not match:
        return None
    if not match["account"]:
        return (f"{uri} names no ECR registry; SageMaker pulls the prebuilt image from "
                f"ACCOUNT.dkr.ecr.REGION.amazonaws.com, e.g. {default_scikit_image('us-east-1')}")
    region, account, tag = match["region"], match["account"], match["tag"]
    expected = SCIKIT_IMAGE_ACCOUNTS.get(region)
    if expected is None:
        return f"AWS publishes no sagemaker-scikit-learn image in region {region!r} ({uri})"
    if account != expected:
        return (f"account {account} publishes no sagemaker-scikit-learn image in {region}; "
                f"the region's image is {default_scikit_image(region).rsplit(':', 1)[0]}")
    if tag.removesuffix("-cpu-py3") not in PUBLISHED_VERSIONS or not tag.endswith("-cpu-py3"):
        published = ", ".join(f"{v}-cpu-py3" for v in PUBLISHED_VERSIONS)
        return f"sagemaker-scikit-learn:{tag} was never published (published tags: {published})"
    return None


def sklearn_release(uri: str) -> SklearnRelease | None:
    """The release a published `sagemaker-scikit-learn` URI names, or None (another image, or
    one AWS does not publish: see `prebuilt_problem`)."""
    match = _URI_RE.match(uri.strip())
    if not match or prebuilt_problem(uri) is not None:
        return None
    version = match["tag"].removesuffix("-cpu-py3")
    return RELEASES.get(version) or SklearnRelease(
        version, "3", (f"scikit-learn=={version.split('-')[0]}.*", "numpy<2", "pandas<2"))


# The look-alike's base image, and the Python it has (where the real image's may differ).
LOOKALIKE_BASE, LOOKALIKE_PYTHON = "python:3.11-slim", "3.11"


def lookalike_dockerfile(release: SklearnRelease, base: str = LOOKALIKE_BASE) -> str:
    """A Dockerfile for a local look-alike of the release's image (see the module docstring)."""
    env = " \\\n    ".join(f"{key}={value}" for key, value in PREBUILT_SKLEARN_ENV.items())
    packages = " \\\n        ".join(f"'{p}'" for p in release.packages)
    return (f"# A local look-alike of sagemaker-scikit-learn:{release.version}-cpu-py3 (smlift).\n"
            f"FROM {base}\n"
            f"LABEL org.smlift.prebuilt=\"sagemaker-scikit-learn:{release.version}-cpu-py3\" \\\n"
            f"      org.smlift.image-python=\"{release.python}\"\n"
            f"ENV {env}\n"
            "RUN ln -sf \"$(command -v python3)\" /usr/local/bin/python || true\n"
            f"RUN pip install --no-cache-dir --disable-pip-version-check \\\n        {packages}\n")
