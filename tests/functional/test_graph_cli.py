"""`smlift graph` end to end: Mermaid and dot on stdout or into a file."""

from pathlib import Path

from smlift.cli import main

ROOT = Path(__file__).resolve().parents[2]
DEFINITION = str(ROOT / "statemachine/definition.asl.json")


def run_cli(capsys, *args):
    try:
        main(list(args))
        code = 0
    except SystemExit as exc:
        code = exc.code or 0
    out, err = capsys.readouterr()
    return code, out, err


def test_mermaid_is_the_default(capsys):
    code, out, _ = run_cli(capsys, "graph", "--definition", DEFINITION)
    assert code == 0 and out.startswith("flowchart TD\n")
    assert '-.->|"catch: States.ALL"| PipelineFailed' in out


def test_dot_format(capsys):
    code, out, _ = run_cli(capsys, "graph", "--definition", DEFINITION, "--format", "dot")
    assert code == 0 and out.startswith("digraph statemachine {")
    assert '"Postprocess" -> "smlift_finish"' in out


def test_output_file_is_written_whole(capsys, tmp_path):
    target = tmp_path / "pipeline.mmd"
    code, _, err = run_cli(capsys, "graph", "--definition", DEFINITION, "--output", str(target))
    assert code == 0 and err.strip() == f"wrote {target}"
    assert target.read_text().startswith("flowchart TD") and not (tmp_path / "pipeline.mmd.tmp").exists()


def test_a_missing_definition_is_one_clear_error(capsys, tmp_path):
    code, _, err = run_cli(capsys, "graph", "--definition", str(tmp_path / "none.json"))
    assert code == 1 and err.startswith("Error: ") and "cannot read the definition" in err


def test_an_unknown_format_is_refused_by_the_option(capsys):
    code, _, err = run_cli(capsys, "graph", "--format", "svg")
    assert code == 2 and "svg" in err


def test_help_has_an_example(capsys):
    code, out, _ = run_cli(capsys, "graph", "--help")
    assert code == 0 and "Example:" in out
