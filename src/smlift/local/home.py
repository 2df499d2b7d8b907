"""Where the embedded default keeps its state: `SMLIFT_HOME`, by default `.smlift/` at the root of
the project around the working directory (`smlift.project`), else in the working directory.

    $SMLIFT_HOME/
      smlift.db        the SQLite store (executions, history, processing jobs, images, models)
      s3/BUCKET/KEY    local S3
      images/          local image registry (venvs built by `smlift build`)
      jobs/NAME/       each local processing job's root (/opt/ml/...) and logs
"""

from __future__ import annotations

from pathlib import Path

from ..errors import StorageError
from ..project import project_home


def smlift_home() -> Path:
    """The root folder of the embedded default (created on first use)."""
    home = project_home()
    try:
        home.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise StorageError("SMLIFT_HOME is a file, not a folder", where=str(home),
                           fix="point SMLIFT_HOME at a folder (or move the file aside)") from None
    except OSError as exc:
        raise StorageError(f"cannot create SMLIFT_HOME: {exc.strerror}", where=str(home),
                           fix="point SMLIFT_HOME at a folder you can write") from None
    return home
