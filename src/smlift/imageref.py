"""Docker image references: `[HOST/]NAME[:TAG][@DIGEST]` parsed, and Docker's rules for names
and tags, each defined once (the local registry, the pipeline contract and the model registry
check image URIs against them).
"""

from __future__ import annotations

import re

from .errors import InputError

_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*"
_NAME_RE = re.compile(rf"^{_COMPONENT}(?:/{_COMPONENT})*$")
_TAG_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
def parse_reference(uri: str) -> tuple[str, str, str | None]:
    """`HOST/NAME:TAG` or `NAME@sha256:...` -> (name, tag, digest). The registry host (a first
    component with a '.' or ':' or `localhost`) is dropped; the tag defaults to `latest`."""
    uri = uri.strip()
    rest, _, digest = uri.partition("@")
    first, slash, remainder = rest.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost"):
        rest = remainder
    name, colon, tag = rest.rpartition(":") if ":" in rest else (rest, "", "")
    if not colon:
        name, tag = rest, "latest"
    return name, tag, (digest or None)


def check_tag(tag: str) -> str:
    """Validate a `--tag NAME[:TAG]`; returns the registry key `NAME:TAG`."""
    name, image_tag, digest = parse_reference(tag)
    if digest or not _NAME_RE.match(name) or not _TAG_RE.match(image_tag):
        raise InputError(f"invalid image tag {tag!r}", where="--tag",
                         fix="use NAME:TAG with a lowercase name, e.g. smlift-inference:latest")
    return f"{name}:{image_tag}"


def tag_problem(uri: str) -> str | None:
    """What is wrong with the tag of image reference `uri` by Docker's rule (1-128 letters,
    digits, `_`, `.` and `-`, not starting with `.` or `-`), or None (also for a digest)."""
    _, tag, digest = parse_reference(uri)
    if digest or _TAG_RE.match(tag):
        return None
    return (f"the tag {tag[:40]!r}{'...' if len(tag) > 40 else ''} ({len(tag)} characters) is not "
            "a Docker tag: 1-128 letters, digits, '_', '.' or '-', not starting with '.' or '-'")
