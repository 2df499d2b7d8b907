"""`smlift init`: start a migration (lift first, then split). Thin over `smlift.scaffold`."""

from __future__ import annotations

from pathlib import Path

import click

from .output import emit, output_option


@click.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--from", "legacy", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="The legacy program's folder (the one it is run from).")
@click.option("--command", required=True, help='How the program is run from that folder, e.g. "python main.py".')
@click.option("--data", required=True, help="The input file or folder it reads (relative to --from).")
@click.option("--results", multiple=True, required=True,
              help="A result file it writes (relative to --from); repeat for each.")
@click.option("--requirements", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="The image's requirements.txt (default: pins guessed from the program's "
                   "imports and this environment).")
@click.option("--dry-run", is_flag=True, help="List what it would write; write nothing.")
@output_option(default="text")
def init(directory, legacy, command, data, results, requirements, dry_run, output) -> None:
    """Start a migration in DIRECTORY: the legacy program copied untouched to legacy_src/, a
    pipeline that runs it unchanged in a custom image (the lift: `smlift run --parity` is
    green with no edits), skeletons of the split steps, the definition, iam/, examples/,
    smlift.toml and a parity test. Never overwrites a file; lists what it wrote.

    \b
    Example:
      smlift init churn --from ~/old/churn --command "python main.py" \\
          --data input/customers.json --results out/scores.parquet --results out/report.json
      cd churn && smlift run --parity
      smlift init churn --from ~/old/churn --command "python main.py" --data in.csv \
          --results out.csv --dry-run     # list what it would write; write nothing
    """
    from ..scaffold import InitRequest, init_project

    written = init_project(InitRequest(directory, legacy, command, data, tuple(results),
                                       requirements), dry_run=dry_run)
    paths = [str(directory / path) for path in written]
    emit({"directory": str(directory), "dryRun": dry_run, "files": paths}, output,
         [{"file": path} for path in paths], ("file",), text="\n".join(paths))
    if dry_run:
        click.echo(f"dry run: would write {len(written)} files; nothing was written", err=True)
    else:
        click.echo(f"wrote {len(written)} files; next: cd {directory} && smlift run --parity",
                   err=True)
