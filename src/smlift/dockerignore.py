"""`.dockerignore` matching with Docker's own rules (moby/patternmatcher), for build contexts.

The rules, as Docker applies them (and unlike .gitignore):
- one pattern per line; lines starting with `#` are comments; blank lines are skipped;
  surrounding whitespace is trimmed;
- each pattern is cleaned like Go's filepath.Clean (`./a//b/` -> `a/b`) and a leading `/` is
  dropped: every pattern is anchored at the context root (`*.pyc` matches only top-level files;
  `**/*.pyc` matches at any depth);
- `*` matches any run of characters except `/`, `?` one character except `/`, `[...]` a class
  (`[^...]` negated), `\\` escapes the next character, and `**` any number of directories
  (zero included); a trailing `**` matches everything below;
- a pattern matching a directory excludes everything below it;
- `!pattern` re-includes what earlier patterns excluded; the last matching pattern wins;
- the Dockerfile and .dockerignore are always sent to the builder (Docker needs them) even when
  excluded; COPY and ADD never see them then.
"""

from __future__ import annotations

import os
import posixpath
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

_REGEX_SPECIALS = set(".+()|{}$")


@dataclass(frozen=True)
class Pattern:
    text: str
    exclusion: bool
    regex: re.Pattern

    def matches(self, path: str) -> bool:
        """True when the pattern matches `path` or one of its parent directories."""
        if self.regex.match(path):
            return True
        parts = path.split("/")
        return any(self.regex.match("/".join(parts[:n])) for n in range(1, len(parts)))


def parse(text: str) -> list[Pattern]:
    patterns = []
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        line = line.strip()
        if not line:
            continue
        exclusion = line.startswith("!")
        if exclusion:
            line = line[1:].strip()
        if line:
            line = posixpath.normpath(line)
            if len(line) > 1 and line.startswith("/"):
                line = line.lstrip("/") or "/"
        patterns.append(Pattern(line, exclusion, compile_pattern(line)))
    return patterns


def compile_pattern(pattern: str) -> re.Pattern:
    """The regex Docker builds for one cleaned pattern."""
    out, i = ["^"], 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "*" and pattern[i + 1:i + 2] == "*":
            i += 2
            if pattern[i:i + 1] == "/":
                i += 1
            out.append(".*" if i >= len(pattern) else "(.*/)?")
            continue
        if ch == "*":
            out.append("[^/]*")
        elif ch == "?":
            out.append("[^/]")
        elif ch == "\\" and i + 1 < len(pattern):
            i += 1
            out.append(re.escape(pattern[i]))
        elif ch in _REGEX_SPECIALS:
            out.append("\\" + ch)
        else:
            out.append(ch)
        i += 1
    out.append("$")
    try:
        return re.compile("".join(out))
    except re.error:
        return re.compile(r"(?!x)x")  # Docker rejects the context; we match nothing


def is_excluded(path: str, patterns: list[Pattern]) -> bool:
    """Whether `path` (relative, `/`-separated) is left out of the build context."""
    excluded = False
    for pattern in patterns:
        if pattern.exclusion == (not excluded):
            continue  # cannot change the outcome
        if pattern.matches(path):
            excluded = not pattern.exclusion
    return excluded


def context_files(context_dir: Path, dockerfile: str = "Dockerfile") -> Iterator[tuple[Path, str]]:
    """(file, relative path) of every file sent to the builder, sorted by path.

    Symlinks to files are followed; symlinked directories are not entered (no loops).
    """
    root = Path(context_dir)
    ignore = root / ".dockerignore"
    patterns = parse(ignore.read_text(encoding="utf-8")) if ignore.is_file() else []
    always = {dockerfile, ".dockerignore"}
    found = []
    for folder, dirs, files in os.walk(root):  # followlinks=False: symlinked dirs not entered
        base = Path(folder)
        for name in files:
            path = base / name
            if path.is_file():
                found.append((path, path.relative_to(root).as_posix()))
    for path, rel in sorted(found, key=lambda item: item[1]):
        if rel in always or not is_excluded(rel, patterns):
            yield path, rel
