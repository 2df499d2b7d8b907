"""The local image registry: image records in the store's `images` table, keyed `NAME:TAG`.

An ImageUri resolves against it by repository and tag, whatever registry host it names, so
`smlift-inference:latest`, `123456789012.dkr.ecr.us-east-1.amazonaws.com/smlift-inference:latest`
and `...@sha256:<digest>` of a built image all find the same record. Prebuilt SageMaker images
are recognised by `prebuilt.sklearn_release`, not stored.
"""

from __future__ import annotations

import time
from pathlib import Path

from ..imageref import check_tag, parse_reference, tag_problem  # noqa: F401 (this package's API)
from ..local.store import open_store

class ImageRegistry:
    """Records of built images in the SQLite store under `home`."""

    def __init__(self, home: Path):
        self.home = Path(home)

    def _store(self):
        return open_store(self.home)

    def put(self, key: str, record: dict) -> None:
        store = self._store()
        try:
            store.put_image(key, record, time.time())
        finally:
            store.close()

    def get(self, uri: str) -> dict | None:
        """The record an ImageUri names: by NAME:TAG, or by digest."""
        name, tag, digest = parse_reference(uri)
        store = self._store()
        try:
            if digest:
                return next((r for r in store.list_images() if r.get("Digest") == digest), None)
            return store.get_image(f"{name}:{tag}")
        finally:
            store.close()

    def list(self) -> list[dict]:
        store = self._store()
        try:
            return store.list_images()
        finally:
            store.close()
