"""The project layout: the default place of each part of a pipeline, relative to the project root.

These are the defaults of the project file's `[paths]` and `[legacy].folder` (`smlift.project`):
a project's own `smlift.toml` says where its parts are, and commands take their paths from it.

    statemachine/definition.asl.json  the one state machine, local and on AWS
    scripts/                          the step scripts (code_uri)
    containers/                       the build contexts (every containers/*/ with a Dockerfile)
    containers/inference/             the inference image's Dockerfile folder
    examples/input.json               the execution input for AWS (the console, validate)
    examples/input.local.json         the execution input of a local run
    examples/data/                    the data a local run uploads to input_uri
    iam/                              trust and permission policies
    legacy_src/                       the untouched legacy program (parity)
"""

from __future__ import annotations

from pathlib import Path

DEFINITION = Path("statemachine/definition.asl.json")
SCRIPTS = Path("scripts")
CONTAINERS = Path("containers")
IMAGE_CONTEXT = CONTAINERS / "inference"
INPUT = Path("examples/input.json")
LOCAL_INPUT = Path("examples/input.local.json")
DATA = Path("examples/data")
IAM = Path("iam")
LEGACY = Path("legacy_src")
