"""`smlift init`: start a migration (lift first, then split). Thin over `smlift.scaffold`."""

from __future__ import annotations

from pathlib import Path

import click


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
def init(directory, legacy, command, data, results, requirements) -> None:
    """Start a migration in DIRECTORY: the legacy program copied untouched to legacy_src/, a
    pipeline that runs it unchanged in a custom image (the lift: `smlift run --parity` is
    green with no edits), skeletons of the split steps, the definition, iam/, examples/,
    smlift.toml and a parity test. Never overwrites a file; lists what it wrote.

    \b
    Example:
      smlift init churn --from ~/old/churn --command "python main.py" \\
          --data input/customers.json --results out/scores.parquet --results out/report.json
      cd churn && smlift run --parity
    """
    from ..scaffold import InitRequest, init_project

    written = init_project(InitRequest(directory, legacy, command, data, tuple(results),
                                       requirements))
    for path in written:
        click.echo(str(directory / path))
    click.echo(f"wrote {len(written)} files; next: cd {directory} && smlift run --parity", err=True)
