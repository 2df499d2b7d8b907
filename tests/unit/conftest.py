"""Puts this folder on sys.path, so the unit tests can share plain helper modules
(`from import_graph import find_cycle`)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
