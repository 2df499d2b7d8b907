import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def root() -> Path:
    return ROOT


@pytest.fixture
def definition() -> dict:
    return json.loads((ROOT / "statemachine/definition.asl.json").read_text())


@pytest.fixture
def local_input() -> dict:
    return json.loads((ROOT / "examples/input.local.json").read_text())


@pytest.fixture
def console_input() -> dict:
    return json.loads((ROOT / "examples/input.json").read_text())
