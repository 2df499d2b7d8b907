"""Bad input to smlift graph: one clear line naming the file or field and the fix,
exit code 1, never a traceback (see conftest.py)."""

from pathlib import Path


ROOT = Path(__file__).resolve().parents[3]


def test_graph_output_onto_a_folder_is_refused_and_leaves_no_temporary(run_cli, tmp_path,
                                                                       monkeypatch,
                                                                       assert_user_error):
    monkeypatch.chdir(ROOT)
    (tmp_path / "out").mkdir()
    assert_user_error(run_cli("graph", "--output", str(tmp_path / "out")), "is a folder, not a file")
    assert list((tmp_path / "out").iterdir()) == []
    assert not [p for p in tmp_path.iterdir() if p.name.startswith("out") and p.name != "out"]


def test_graph_output_under_a_file_is_refused(run_cli, tmp_path, monkeypatch, assert_user_error):
    monkeypatch.chdir(ROOT)
    (tmp_path / "file").write_text("x")
    assert_user_error(run_cli("graph", "--output", str(tmp_path / "file" / "g.mmd")),
                      f"{tmp_path / 'file'} is a file")
    assert (tmp_path / "file").read_text() == "x"


def test_graph_of_a_missing_definition_says_what_paths_are_relative_to(run_cli, tmp_path,
                                                                       monkeypatch,
                                                                       assert_user_error):
    monkeypatch.chdir(tmp_path)
    assert_user_error(run_cli("graph", "--definition", "statemachine/definition.asl.json"),
                      f"paths are relative to {tmp_path}")
    assert_user_error(run_cli("graph"), f"{tmp_path}: not inside an smlift project")

