"""smlift: lift legacy ML scripts into SageMaker Processing + Step Functions, and run the very
same state machine on one machine (the embedded default).

The public library API is re-exported here; everything the CLI does is also a library call.
Imports are lazy so that `import smlift` stays cheap.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__version__ = "0.1.0"

# public name -> module that defines it
_EXPORTS = {
    "SmliftError": "smlift.errors",
    "DefinitionError": "smlift.errors",
    "InputError": "smlift.errors",
    "Store": "smlift.local.store",
    "open_store": "smlift.local.store",
    "smlift_home": "smlift.local.home",
    "run_execution": "smlift.asl.engine",
    "load_definition": "smlift.asl.definition",
    "LocalStepFunctions": "smlift.local.sfn",
    "LocalRegistry": "smlift.registry",
    "SageMakerRegistry": "smlift.registry",
    "Backend": "smlift.backend",
    "aws_backend": "smlift.backend",
    "local_backend": "smlift.backend",
    "run_pipeline": "smlift.local.run",
    "RunSources": "smlift.local.run",
    "execute": "smlift.execute",
    "locate": "smlift.follow",
    "wait": "smlift.follow",
    "check_parity": "smlift.parity",
    "start_model": "smlift.starter",
    "start_all": "smlift.starter",
}

__all__ = sorted(_EXPORTS) + ["__version__"]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'smlift' has no attribute {name!r}")
