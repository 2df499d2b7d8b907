"""Result files as tables: per column, the first differing rows, tolerances for numbers."""

import json

from smlift.tables import cells_equal, diff_tables, read_table, tolerance


def test_csv_columns_are_compared_one_by_one(tmp_path):
    (tmp_path / "a.csv").write_text("id,score,band\n1,0.5,low\n2,0.25,low\n3,0.9,high\n")
    (tmp_path / "b.csv").write_text("id,score,band\n1,0.5,low\n2,0.26,low\n3,0.9,mid\n")
    diff = diff_tables(read_table(tmp_path / "a.csv"), read_table(tmp_path / "b.csv"))
    assert not diff.equal and diff.equal_rows == 1
    assert [(c.column, c.differing, c.first) for c in diff.columns] == [
        ("score", 1, ((2, "0.25", "0.26"),)), ("band", 1, ((3, "high", "mid"),))]


def test_a_tolerance_makes_close_numbers_equal_and_only_numbers():
    assert cells_equal("1.0", "1.0000001", tolerance(1e-6, None))
    assert not cells_equal("1.0", "1.1", tolerance(1e-6, None))
    assert cells_equal("10", "10.4", tolerance(None, 0.5))
    assert not cells_equal("a", "b", tolerance(1, 1))


def test_json_records_and_columns_read_as_tables(tmp_path):
    (tmp_path / "r.json").write_text(json.dumps([{"x": 1, "y": "a"}, {"x": 2, "y": "b"}]))
    (tmp_path / "c.json").write_text(json.dumps({"x": [1, 2], "y": ["a", "b"]}))
    assert read_table(tmp_path / "r.json") == read_table(tmp_path / "c.json")
    assert read_table(tmp_path / "r.json").columns == ("x", "y")


def test_different_shapes_are_said_in_words(tmp_path):
    (tmp_path / "a.csv").write_text("x,y\n1,2\n")
    (tmp_path / "b.csv").write_text("x,z\n1,2\n3,4\n")
    diff = diff_tables(read_table(tmp_path / "a.csv"), read_table(tmp_path / "b.csv"))
    assert "only in legacy ['y'], only in migrated ['z']" in diff.shape
    assert "1 legacy rows vs 2 migrated rows" in diff.shape


def test_an_unknown_format_is_not_a_table(tmp_path):
    (tmp_path / "a.txt").write_text("hello\n")
    assert read_table(tmp_path / "a.txt") is None
