"""confined: a link at any level below the root is refused or skipped, never followed."""

import os

import pytest

from smlift.confined import LinkRefused, is_confined, open_dir, open_file, regular_files, remove_tree


@pytest.fixture
def tree(tmp_path):
    root, outside = tmp_path / "root", tmp_path / "outside"
    (root / "a" / "b").mkdir(parents=True)
    (root / "a" / "b" / "f.txt").write_text("inside")
    outside.mkdir()
    (outside / "f.txt").write_text("outside")
    os.symlink(outside, root / "a" / "link")
    return root, outside


def test_open_file_refuses_a_link_in_the_middle_of_the_path(tree):
    root, _ = tree
    with pytest.raises(LinkRefused, match="is a symbolic link"):
        open_file(root, root / "a" / "link" / "f.txt")


def test_open_file_reads_a_regular_file_reached_without_links(tree):
    root, _ = tree
    with os.fdopen(open_file(root, "a/b/f.txt"), "rb") as handle:
        assert handle.read() == b"inside"


def test_regular_files_skips_links_to_folders_and_files(tree):
    root, _ = tree
    os.symlink(root / "a" / "b" / "f.txt", root / "a" / "b" / "g.txt")
    fd = open_dir(root, "a")
    try:
        assert [rel for rel, _, _ in regular_files(fd)] == ["b/f.txt"]
    finally:
        os.close(fd)


def test_is_confined_is_false_past_a_link_and_true_for_missing_steps(tree):
    root, _ = tree
    assert is_confined(root, root / "a" / "link" / "x") is False
    assert is_confined(root, root / "a" / "b" / "new" / "x") is True


def test_remove_tree_unlinks_a_link_on_the_way_and_leaves_its_target(tree):
    root, outside = tree
    outside.chmod(0o500)
    remove_tree(root, root / "a" / "link" / "anything")
    assert not os.path.lexists(root / "a" / "link")
    assert (outside / "f.txt").read_text() == "outside"
    assert oct(outside.stat().st_mode & 0o777) == "0o500"
