"""An alias of `smlift.local.store`, kept only while `tests/unit/asl/test_history.py` (on the
asl branch) still imports it from here. New code imports `smlift.local.store`."""

from .local.store import *  # noqa: F401,F403
from .local.store import Store, open_store  # noqa: F401
