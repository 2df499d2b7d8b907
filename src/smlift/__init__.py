"""smlift: lift legacy ML scripts into SageMaker Processing + Step Functions, and run the very
same state machine on one machine (the embedded default).

The public library API is re-exported here; everything the CLI does is also a library call.
The use cases, each returning one value: `run_pipeline` (smlift run), `execute` (smlift
execute), `start` and `start_every` (smlift start), `follow` (smlift wait), `check_parity`
(smlift parity).

Imports are lazy so that `import smlift` stays cheap. Three use cases share their name with the
module that defines them (`smlift.execute`, `smlift.follow`, `smlift.parity`): importing such a
module would set the package attribute to the module, so the package's class keeps the public
name for the function (`import smlift.follow` still works; `smlift.follow` is the use case).
"""

from __future__ import annotations

import sys
from importlib import import_module
from types import ModuleType
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
    "LocalStepFunctions": "smlift.embedded.sfn",
    "LocalRegistry": "smlift.registry",
    "SageMakerRegistry": "smlift.registry",
    "Backend": "smlift.backend",
    "aws_backend": "smlift.backend",
    "local_backend": "smlift.backend",
    "run_pipeline": "smlift.embedded.run",
    "RunSources": "smlift.embedded.run",
    "execute": "smlift.execute",
    "follow": "smlift.follow",
    "locate": "smlift.follow",
    "wait": "smlift.follow",
    "check_parity": "smlift.parity",
    "start": "smlift.starter",
    "start_every": "smlift.starter",
    "start_model": "smlift.starter",
    "start_all": "smlift.starter",
}

__all__ = sorted(_EXPORTS) + ["__version__"]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'smlift' has no attribute {name!r}")


class _PublicApi(ModuleType):
    """The package's class: a submodule named like a public function does not hide it."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _EXPORTS and isinstance(value, ModuleType):
            return  # the import system binding submodule `name`; sys.modules still has it
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _PublicApi
