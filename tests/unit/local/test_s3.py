import json
import os
import threading

import pytest

from smlift.errors import InputError, StorageError
from smlift.local.s3 import (TEMP_PREFIX, LocalS3, copy_file, copy_objects, format_listing,
                             list_entries, split_uri, sync_objects)


@pytest.fixture
def s3(tmp_path):
    return LocalS3(tmp_path / "home")


def test_split_uri_returns_bucket_and_key():
    assert split_uri("s3://my-bucket/k/x.csv") == ("my-bucket", "k/x.csv")
    assert split_uri("s3://my-bucket") == ("my-bucket", "")
    assert split_uri("s3://my-bucket/") == ("my-bucket", "")


@pytest.mark.parametrize("uri", ["/tmp/x", "https://b/k", "s3:/b/k", "s3://", "s3:///key",
                                 "s3://UPPER/k", "s3://ab/k", "s3://a_b/k", "s3://a..b/k",
                                 "s3://192.168.1.1/k", "s3://-abc/k"])
def test_split_uri_refuses_non_s3_or_invalid_bucket_naming_the_uri(uri):
    with pytest.raises(InputError) as info:
        split_uri(uri)
    assert uri in str(info.value)
    assert info.value.fix


@pytest.mark.parametrize("uri", ["s3://bkt/../x", "s3://bkt/a/../../x", "s3://bkt//etc/passwd",
                                 "s3://bkt/a//b", "s3://bkt/./a", f"s3://bkt/a/{TEMP_PREFIX}x"])
def test_path_for_refuses_keys_escaping_the_bucket(s3, uri):
    with pytest.raises(StorageError) as info:
        s3.path_for(uri)
    assert uri in str(info.value) and "fix:" in str(info.value)


def test_path_for_maps_uri_under_home_s3(s3, tmp_path):
    assert s3.path_for("s3://bkt/a/b.csv") == tmp_path / "home" / "s3" / "bkt" / "a" / "b.csv"


def test_put_bytes_then_get_file_round_trips(s3, tmp_path):
    s3.put_bytes(b"hello", "s3://bkt/a/b.txt")
    s3.get_file("s3://bkt/a/b.txt", tmp_path / "out" / "b.txt")
    assert (tmp_path / "out" / "b.txt").read_bytes() == b"hello"
    assert s3.exists("s3://bkt/a/b.txt") and s3.exists("s3://bkt/a/") and s3.exists("s3://bkt/a")
    assert not s3.exists("s3://bkt/zzz")


def test_get_file_of_missing_object_is_no_such_key(s3, tmp_path):
    with pytest.raises(StorageError, match="NoSuchKey"):
        s3.get_file("s3://bkt/missing", tmp_path / "x")
    assert not (tmp_path / "x").exists()


def test_put_refuses_a_key_ending_in_slash(s3, tmp_path):
    with pytest.raises(StorageError, match="prefix"):
        s3.put_bytes(b"x", "s3://bkt/folder/")


def test_object_and_prefix_with_same_name_conflict_clearly(s3):
    s3.put_bytes(b"x", "s3://bkt/a")
    with pytest.raises(StorageError, match="'a' exists"):
        s3.put_bytes(b"y", "s3://bkt/a/b")
    s3.put_bytes(b"y", "s3://bkt/c/d")
    with pytest.raises(StorageError, match="prefix"):
        s3.put_bytes(b"z", "s3://bkt/c")


def test_list_keys_uses_string_prefixes_sorted_like_s3(s3):
    for key in ["data/in/x.csv", "data/input.csv", "data/other.csv", "data/in/sub/y.csv", "z"]:
        s3.put_bytes(b"1", f"s3://bkt/{key}")
    assert s3.list_keys("s3://bkt/data/in") == [
        "s3://bkt/data/in/sub/y.csv", "s3://bkt/data/in/x.csv", "s3://bkt/data/input.csv"]
    assert s3.list_keys("s3://bkt/data/in/") == [
        "s3://bkt/data/in/sub/y.csv", "s3://bkt/data/in/x.csv"]
    assert len(s3.list_keys("s3://bkt")) == 5
    assert s3.list_keys("s3://nobucket/x") == []


def test_list_keys_never_lists_temporary_names(s3):
    s3.put_bytes(b"1", "s3://bkt/p/a.csv")
    folder = s3.path_for("s3://bkt/p/")
    (folder / f"{TEMP_PREFIX}abc-b.csv").write_bytes(b"half")
    assert s3.list_keys("s3://bkt/p/") == ["s3://bkt/p/a.csv"]


def test_put_file_leaves_no_temporary_file_and_failed_write_leaves_nothing(s3, tmp_path):
    src = tmp_path / "src.bin"
    src.write_bytes(b"abc" * 1000)
    s3.put_file(src, "s3://bkt/p/obj")
    folder = s3.path_for("s3://bkt/p/")
    assert sorted(os.listdir(folder)) == ["obj"]

    class Boom(Exception):
        pass

    from smlift.local import s3 as local_s3

    def failing(temp):
        temp.write_bytes(b"partial")
        raise Boom()

    with pytest.raises(Boom):
        local_s3.write_atomically(folder / "other", failing)
    assert sorted(os.listdir(folder)) == ["obj"]


def test_put_file_replaces_atomically_while_a_reader_reads(s3, tmp_path):
    """A reader sees either the old or the new object, never a mix."""
    old, new = b"o" * 200_000, b"n" * 300_000
    s3.put_bytes(old, "s3://bkt/obj")
    seen = set()
    stop = threading.Event()

    def read():
        while not stop.is_set():
            seen.add(s3.get_bytes("s3://bkt/obj"))

    reader = threading.Thread(target=read)
    reader.start()
    for _ in range(20):
        s3.put_bytes(new, "s3://bkt/obj")
        s3.put_bytes(old, "s3://bkt/obj")
    stop.set()
    reader.join()
    assert seen <= {old, new}


def test_copy_file_makes_an_independent_copy_never_a_link(tmp_path):
    src, dst = tmp_path / "a", tmp_path / "b"
    src.write_bytes(b"stored")
    copy_file(src, dst)
    assert dst.read_bytes() == b"stored"
    assert not dst.is_symlink()
    assert os.stat(dst).st_ino != os.stat(src).st_ino and os.stat(dst).st_nlink == 1


def test_staged_inputs_are_independent_of_stored_objects(s3, tmp_path):
    s3.put_bytes(b"a,b\n1,2\n", "s3://bkt/in/data.csv")
    s3.put_bytes(b"x", "s3://bkt/in/sub/more.txt")
    dest = tmp_path / "job" / "input"
    assert s3.stage_prefix("s3://bkt/in/", dest) == 2
    staged, stored = dest / "data.csv", s3.path_for("s3://bkt/in/data.csv")
    assert (dest / "sub" / "more.txt").read_bytes() == b"x"
    assert not staged.is_symlink()
    assert staged.stat().st_ino != stored.stat().st_ino and staged.stat().st_nlink == 1
    with open(staged, "ab") as f:
        f.write(b"job wrote this\n")
    staged.chmod(0o600)
    assert s3.get_bytes("s3://bkt/in/data.csv") == b"a,b\n1,2\n"


def test_stage_prefix_without_trailing_slash_and_single_object(s3, tmp_path):
    s3.put_bytes(b"1", "s3://bkt/train/a.csv")
    s3.put_bytes(b"2", "s3://bkt/model.pkl")
    assert s3.stage_prefix("s3://bkt/train", tmp_path / "t") == 1
    assert (tmp_path / "t" / "a.csv").read_bytes() == b"1"
    assert s3.stage_prefix("s3://bkt/model.pkl", tmp_path / "m") == 1
    assert (tmp_path / "m" / "model.pkl").read_bytes() == b"2"
    assert s3.stage_prefix("s3://bkt/nothing/", tmp_path / "n") == 0


def test_stage_manifest_lays_listed_objects_at_relative_keys(s3, tmp_path):
    s3.put_bytes(b"1", "s3://bkt/data/a.csv")
    s3.put_bytes(b"2", "s3://bkt/data/x/b.csv")
    s3.put_bytes(b"3", "s3://bkt/data/not-listed.csv")
    manifest = [{"prefix": "s3://bkt/data/"}, "a.csv", "x/b.csv"]
    s3.put_bytes(json.dumps(manifest).encode(), "s3://bkt/manifest.json")
    assert s3.stage_manifest("s3://bkt/manifest.json", tmp_path / "m") == 2
    assert sorted(p.relative_to(tmp_path / "m").as_posix()
                  for p in (tmp_path / "m").rglob("*") if p.is_file()) == ["a.csv", "x/b.csv"]


@pytest.mark.parametrize("manifest", [b"not json", b"{}", b'[{"prefix": "s3://bkt/"}, 3]',
                                      b'[{"prefix": "s3://bkt/"}, "../x"]'])
def test_stage_manifest_refuses_a_malformed_manifest(s3, tmp_path, manifest):
    s3.put_bytes(manifest, "s3://bkt/m.json")
    with pytest.raises(StorageError) as info:
        s3.stage_manifest("s3://bkt/m.json", tmp_path / "m")
    assert "s3://bkt/m.json" in str(info.value)


def test_publish_dir_uploads_regular_files_and_skips_symlinks(s3, tmp_path):
    out = tmp_path / "out"
    (out / "sub").mkdir(parents=True)
    (out / "a.csv").write_text("a")
    (out / "sub" / "b.csv").write_text("b")
    secret = tmp_path / "secret.txt"
    secret.write_text("secret")
    (out / "link.txt").symlink_to(secret)
    (out / "linkdir").symlink_to(tmp_path, target_is_directory=True)
    assert s3.publish_dir(out, "s3://bkt/results") == 2
    assert s3.list_keys("s3://bkt/results/") == ["s3://bkt/results/a.csv",
                                                 "s3://bkt/results/sub/b.csv"]
    assert (out / "a.csv").exists()  # copied, not moved


def test_publish_dir_move_renames_and_copies_hard_linked_files(s3, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "a.csv").write_text("a")
    (out / "b.csv").write_text("b")
    os.link(out / "b.csv", tmp_path / "other-link")
    assert s3.publish_dir(out, "s3://bkt/r/", move=True) == 2
    assert not (out / "a.csv").exists()
    stored_b = s3.path_for("s3://bkt/r/b.csv")
    assert stored_b.stat().st_nlink == 1
    (tmp_path / "other-link").write_text("changed")
    assert s3.get_bytes("s3://bkt/r/b.csv") == b"b"


def test_copy_objects_upload_download_and_s3_to_s3(s3, tmp_path):
    src = tmp_path / "data.csv"
    src.write_text("x")
    assert copy_objects(s3, str(src), "s3://bkt/in/")[0].dst == "s3://bkt/in/data.csv"
    assert copy_objects(s3, "s3://bkt/in/data.csv", "s3://bkt/copy.csv")[0].action == "copy"
    got = copy_objects(s3, "s3://bkt/copy.csv", str(tmp_path) + "/")
    assert got[0].action == "download" and (tmp_path / "copy.csv").read_text() == "x"


def test_copy_objects_recursive_copies_a_folder(s3, tmp_path):
    (tmp_path / "d" / "s").mkdir(parents=True)
    (tmp_path / "d" / "a").write_text("a")
    (tmp_path / "d" / "s" / "b").write_text("b")
    done = copy_objects(s3, str(tmp_path / "d"), "s3://bkt/p", recursive=True)
    assert [t.dst for t in done] == ["s3://bkt/p/a", "s3://bkt/p/s/b"]
    back = copy_objects(s3, "s3://bkt/p/", str(tmp_path / "back"), recursive=True)
    assert len(back) == 2 and (tmp_path / "back" / "s" / "b").read_text() == "b"


def test_copy_objects_of_a_folder_without_recursive_says_so(s3, tmp_path):
    (tmp_path / "d").mkdir()
    with pytest.raises(InputError, match="--recursive"):
        copy_objects(s3, str(tmp_path / "d"), "s3://bkt/p/")


def test_sync_copies_only_new_or_changed_files(s3, tmp_path):
    d = tmp_path / "d"
    d.mkdir()
    (d / "a").write_text("a")
    (d / "b").write_text("b")
    assert len(sync_objects(s3, str(d), "s3://bkt/p/")) == 2
    assert sync_objects(s3, str(d), "s3://bkt/p/") == []
    (d / "b").write_text("bigger")
    assert [t.dst for t in sync_objects(s3, str(d), "s3://bkt/p/")] == ["s3://bkt/p/b"]
    down = tmp_path / "down"
    assert len(sync_objects(s3, "s3://bkt/p/", str(down))) == 2
    assert sync_objects(s3, "s3://bkt/p/", str(down)) == []


def test_sync_delete_removes_what_the_source_lacks(s3, tmp_path):
    s3.put_bytes(b"old", "s3://bkt/p/stale")
    d = tmp_path / "d"
    d.mkdir()
    (d / "a").write_text("a")
    done = sync_objects(s3, str(d), "s3://bkt/p/", delete=True)
    assert {t.action for t in done} == {"upload", "delete"}
    assert s3.list_keys("s3://bkt/p/") == ["s3://bkt/p/a"]


def test_list_entries_groups_common_prefixes_like_aws_s3_ls(s3):
    for key in ["data/in/x.csv", "data/input.csv", "data/top.csv", "other"]:
        s3.put_bytes(b"12", f"s3://bkt/{key}")
    names = [e.name for e in list_entries(s3, "s3://bkt/data/")]
    assert names == ["in/", "input.csv", "top.csv"]
    assert [e.name for e in list_entries(s3, "s3://bkt/data/in")] == ["in/", "input.csv"]
    assert [e.name for e in list_entries(s3, "s3://bkt")] == ["data/", "other"]
    recursive = list_entries(s3, "s3://bkt/data/", recursive=True)
    assert [e.name for e in recursive] == ["data/in/x.csv", "data/input.csv", "data/top.csv"]
    assert format_listing(recursive[0]).endswith("         2 data/in/x.csv")
    assert format_listing(list_entries(s3, "s3://bkt")[0]) == " " * 27 + "PRE data/"
    assert [e.name for e in list_entries(s3, None)] == ["bkt"]


def test_list_entries_of_missing_bucket_is_no_such_bucket(s3):
    with pytest.raises(StorageError, match="NoSuchBucket"):
        list_entries(s3, "s3://nope/")
