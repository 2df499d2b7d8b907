"""The three step scripts, loaded from their files as modules (they are scripts, not a package):
what the step unit tests share (`from step_scripts import pre, predict, post`)."""

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


pre = load("step_preprocessing", ROOT / "scripts" / "preprocessing.py")
predict = load("step_predict", ROOT / "containers" / "inference" / "predict.py")
post = load("step_postprocessing", ROOT / "scripts" / "postprocessing.py")
