"""`smlift graph` end to end: Mermaid and dot on stdout or into a file."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEFINITION = str(ROOT / "statemachine/definition.asl.json")


def test_mermaid_is_the_default(run_cli):
    code, out, _ = run_cli("graph", "--definition", DEFINITION)
    assert code == 0 and out.startswith("flowchart TD\n")
    assert '-.->|"catch: States.ALL"| PipelineFailed' in out


def test_dot_format(run_cli):
    code, out, _ = run_cli("graph", "--definition", DEFINITION, "--format", "dot")
    assert code == 0 and out.startswith("digraph statemachine {")
    assert '"Summarize" -> "smlift_finish"' in out


def test_output_file_is_written_whole(run_cli, tmp_path):
    target = tmp_path / "pipeline.mmd"
    code, _, err = run_cli("graph", "--definition", DEFINITION, "--output", str(target))
    assert code == 0 and err.strip() == f"wrote {target}"
    assert target.read_text().startswith("flowchart TD") and not (tmp_path / "pipeline.mmd.tmp").exists()


def test_a_missing_definition_is_one_clear_error(run_cli, tmp_path):
    code, _, err = run_cli("graph", "--definition", str(tmp_path / "none.json"))
    assert code == 1 and err.startswith("Error: ") and "cannot read the definition" in err


def test_an_unknown_format_is_refused_by_the_option(run_cli):
    code, _, err = run_cli("graph", "--format", "svg")
    assert code == 2 and "svg" in err  # a usage error


def test_help_has_an_example(run_cli):
    code, out, _ = run_cli("graph", "--help")
    assert code == 0 and "Example:" in out
