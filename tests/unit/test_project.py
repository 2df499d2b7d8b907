"""The project file: found by walking up, parsed into one model, wrong keys in one line."""

from pathlib import Path

import pytest

from smlift.errors import InputError
from smlift.project import find_root, load_project, project_home

MINIMAL = """
[legacy]
command = "python score.py"
folder = "legacy"
input = "in/data.json"
results = ["out/scores.parquet", "out/report.json"]
"""


def write(folder: Path, text: str, name: str = "smlift.toml") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text)
    return folder


def test_the_root_is_found_from_a_subfolder_as_git_finds_its_own(tmp_path):
    write(tmp_path, MINIMAL)
    (tmp_path / "a" / "b").mkdir(parents=True)
    project = load_project(tmp_path / "a" / "b")
    assert project.root == tmp_path
    assert project.legacy_dir == tmp_path / "legacy"
    assert project.results == ["scores.parquet", "report.json"]
    assert project.data_dir == tmp_path / "examples" / "data"  # the layout's default


def test_a_pyproject_tool_table_is_a_project_too(tmp_path):
    write(tmp_path, "[project]\nname = 'x'\n" + MINIMAL.replace("[legacy]", "[tool.smlift.legacy]"),
          "pyproject.toml")
    assert load_project(tmp_path).legacy_command == ["python", "score.py"]


def test_a_pyproject_without_the_table_is_not_a_project(tmp_path):
    write(tmp_path, "[project]\nname = 'x'\n", "pyproject.toml")
    assert find_root(tmp_path) is None


def test_outside_any_project_the_error_is_one_line_with_the_fix(tmp_path):
    with pytest.raises(InputError) as raised:
        load_project(tmp_path)
    text = str(raised.value)
    assert "not inside an smlift project" in text and "smlift init" in text
    assert "\n" not in text


@pytest.mark.parametrize("text, key, words", [
    (MINIMAL.replace('command = "python score.py"\n', ""), "legacy.command", "is missing"),
    (MINIMAL + "colour = 1\n", "legacy.colour", "is not a known key"),
    (MINIMAL.replace('"in/data.json"', '"../data.json"'), "legacy.input", "relative path"),
    (MINIMAL.replace('"out/report.json"', '"other/scores.parquet"'), "legacy.results",
     "share a file name"),
    (MINIMAL + '[parity.tolerances."report.json"]\nscore = {rtol = -1}\n',
     "parity.tolerances.report.json.score.rtol", "greater than or equal to 0"),
])
def test_a_wrong_key_is_named_with_its_fix(tmp_path, text, key, words):
    write(tmp_path, text)
    with pytest.raises(InputError) as raised:
        load_project(tmp_path)
    message = str(raised.value)
    assert f"smlift.toml: {key}: " in message and words in message
    assert f"correct {key}" in message or f"add {key}" in message or f"remove or rename {key}" in message


def test_broken_toml_names_the_file(tmp_path):
    write(tmp_path, "[legacy\n")
    with pytest.raises(InputError, match="not valid TOML"):
        load_project(tmp_path)


def test_state_lives_at_the_root_unless_smlift_home_says_otherwise(tmp_path, monkeypatch):
    write(tmp_path, MINIMAL)
    (tmp_path / "sub").mkdir()
    monkeypatch.delenv("SMLIFT_HOME", raising=False)
    assert project_home(tmp_path / "sub") == tmp_path / ".smlift"
    monkeypatch.setenv("SMLIFT_HOME", str(tmp_path / "elsewhere"))
    assert project_home(tmp_path / "sub") == tmp_path / "elsewhere"
