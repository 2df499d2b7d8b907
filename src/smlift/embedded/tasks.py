"""The embedded default's wiring: which Task integrations the local engine has.

`task_registry(home)` is the registry every local execution gets: the SageMaker Processing
integration (`smlift.processing.integration`), backed by local S3, local images and the store
under `home`. The engine itself (`smlift.asl`) stays pure and receives the registry.
"""

from __future__ import annotations

from pathlib import Path

from ..asl.tasks import TaskRegistry
from ..local.home import smlift_home


def task_registry(home: Path | None = None, engine: str | None = None) -> TaskRegistry:
    """The local engine's Task integrations; processing jobs run on `engine` ("local" or
    "docker"; None: `images.engine.choose_engine`'s choice, made when a job starts)."""
    from ..processing import integration  # here: a run without Task states never loads it

    registry = TaskRegistry()
    integration.register(registry, home or smlift_home(), engine=engine)
    return registry
