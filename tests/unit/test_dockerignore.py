"""Docker's .dockerignore rules (moby/patternmatcher), case by case."""

from __future__ import annotations

import pytest

from smlift.dockerignore import context_files, is_excluded, parse


@pytest.mark.parametrize("patterns, path, excluded", [
    ("*.pyc", "a.pyc", True),
    ("*.pyc", "sub/a.pyc", False),            # anchored at the root, unlike .gitignore
    ("**/*.pyc", "sub/deep/a.pyc", True),
    ("**/*.pyc", "a.pyc", True),              # ** matches zero directories too
    ("data", "data/x/y.csv", True),           # a matched directory excludes everything below
    ("data/", "data/x.csv", True),            # trailing slash cleaned away
    ("/data", "data/x.csv", True),            # leading slash: still relative to the root
    ("./data//x.csv", "data/x.csv", True),    # cleaned like filepath.Clean
    ("docs/**", "docs/a/b.md", True),
    ("docs/**", "docs", False),               # docs/** matches below docs, not docs itself
    ("a?c", "abc", True),
    ("a?c", "a/c", False),                    # ? never matches a separator
    ("[a-c]x", "bx", True),
    ("[^a-c]x", "bx", False),
    ("file.txt", "fileXtxt", False),          # the dot is literal
    ("\\*lit", "*lit", True),
    ("# comment\n\n  spaced.txt  ", "spaced.txt", True),
    ("*\n!keep.md", "keep.md", False),        # exception re-includes
    ("*\n!keep.md\nkeep.md", "keep.md", True),  # the last matching pattern wins
    ("data\n!data/keep.csv", "data/keep.csv", False),
    ("data\n!data/keep.csv", "data/other.csv", True),
    ("**", "anything/at/all", True),
])
def test_dockerignore_pattern_semantics(patterns, path, excluded):
    assert is_excluded(path, parse(patterns)) is excluded


def test_context_files_always_keeps_dockerfile_and_dockerignore(tmp_path):
    (tmp_path / "Dockerfile").write_text("FROM x\n")
    (tmp_path / ".dockerignore").write_text("*\n!app.py\n")
    (tmp_path / "app.py").write_text("")
    (tmp_path / "secret.env").write_text("")
    assert [rel for _, rel in context_files(tmp_path)] == [".dockerignore", "Dockerfile", "app.py"]


def test_context_files_without_dockerignore_sends_everything_sorted(tmp_path):
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "x.py").write_text("")
    (tmp_path / "Dockerfile").write_text("FROM x\n")
    (tmp_path / "a.txt").write_text("")
    assert [rel for _, rel in context_files(tmp_path)] == ["Dockerfile", "a.txt", "b/x.py"]


def test_context_files_does_not_enter_symlinked_directories(tmp_path):
    (tmp_path / "Dockerfile").write_text("FROM x\n")
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "f").write_text("")
    (tmp_path / "loop").symlink_to(tmp_path, target_is_directory=True)
    assert [rel for _, rel in context_files(tmp_path)] == ["Dockerfile", "real/f"]
