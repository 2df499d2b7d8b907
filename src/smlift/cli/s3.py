"""`smlift s3 cp|ls|sync`: local S3 under $SMLIFT_HOME/s3, with `aws s3`'s output."""

from __future__ import annotations

import dataclasses

import click

from .output import emit, output_option

_TRANSFER_COLUMNS = ("action", "src", "dst")
_LISTING_COLUMNS = ("name", "is_prefix", "size", "modified")


def _render(transfers, output: str) -> None:
    """As `aws s3 cp|sync` print them (text), or {"transfers": [{action, src, dst}]}."""
    rows = [dataclasses.asdict(t) for t in transfers]
    text = "\n".join(f"delete: {t.src}" if t.action == "delete" else f"{t.action}: {t.src} to {t.dst}"
                     for t in transfers)
    emit({"transfers": rows}, output, rows, _TRANSFER_COLUMNS,
         text=text)


@click.group()
def s3() -> None:
    """Copy, list and sync objects in local S3 ($SMLIFT_HOME/s3/BUCKET/KEY).

    \b
    Example:
      smlift s3 cp examples/data/input.csv s3://smlift-local/input/
      smlift s3 ls s3://smlift-local/input/
      smlift s3 sync s3://smlift-local/output/ results/
    """


@s3.command()
@click.argument("src")
@click.argument("dst")
@click.option("--recursive", is_flag=True,
              help="Copy every file of a folder or every object under a prefix.")
@output_option(default="text")
def cp(src: str, dst: str, recursive: bool, output: str) -> None:
    """Copy a local file to s3://, back, or s3:// to s3://; '-' is stdin or stdout.

    \b
    Example:
      smlift s3 cp data.csv s3://smlift-local/input/data.csv
      smlift s3 cp s3://smlift-local/output/ results/ --recursive
      smlift s3 cp s3://smlift-local/output/run-1/result/result.csv - | head
    """
    import sys

    from ..local.s3 import LocalS3, copy_objects, copy_stream

    if "-" in (src, dst) and not recursive:
        copy_stream(LocalS3(), src, dst, sys.stdin.buffer, sys.stdout.buffer)
        return
    _render(copy_objects(LocalS3(), src, dst, recursive=recursive), output)


@s3.command()
@click.argument("uri", required=False)
@click.option("--recursive", is_flag=True, help="List every key under the prefix, in full.")
@output_option(default="text")
def ls(uri: str | None, recursive: bool, output: str) -> None:
    """List the buckets, or the prefixes and objects under s3://BUCKET/PREFIX.

    \b
    Example:
      smlift s3 ls
      smlift s3 ls s3://smlift-local/output/ --output json
    """
    from ..local.s3 import LocalS3, format_listing, list_entries

    if not uri:  # the buckets of the project's local S3
        from .project import require_state

        require_state()
    entries = list_entries(LocalS3(), uri, recursive=recursive)
    rows = [dataclasses.asdict(entry) for entry in entries]
    text = "\n".join(format_listing(entry) for entry in entries)
    emit({"entries": rows}, output, rows, _LISTING_COLUMNS,
         text=text)


@s3.command()
@click.argument("src")
@click.argument("dst")
@click.option("--delete", is_flag=True, help="Also delete destination files the source lacks.")
@output_option(default="text")
def sync(src: str, dst: str, delete: bool, output: str) -> None:
    """Copy new and changed files between a folder and a prefix (either way).

    A file is copied when the destination lacks it, its size differs, or the source is newer.

    \b
    Example:
      smlift s3 sync examples/data/ s3://smlift-local/input/
      smlift s3 sync s3://smlift-local/output/ results/
    """
    from ..local.s3 import LocalS3, sync_objects

    _render(sync_objects(LocalS3(), src, dst, delete=delete), output)
