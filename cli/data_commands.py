"""`rtrec generate` and `rtrec movielens`: data in the input contract."""

from __future__ import annotations

import time

import click

from cli.common import console


@click.command()
@click.option("--size", type=click.Choice(["tiny", "small", "default", "large"]), default="small")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--out", "out_dir", default="outputs/world", show_default=True)
@click.option("--format", "fmt", type=click.Choice(["csv", "jsonl", "parquet"]), default="csv")
def generate(size: str, seed: int, out_dir: str, fmt: str) -> dict:
    """Write the built-in sample world (events + items) in the input contract."""
    from rtrec.data.world import generate_world, write_world

    started = time.perf_counter()
    with console.status(f"Generating the {size} sample world (seed {seed})"):
        world = generate_world(size, seed)
        paths = write_world(world, out_dir, fmt)
    took = time.perf_counter() - started
    manifest = world.manifest
    console.print(
        f"[green]Wrote[/] {manifest['n_event_rows']:,} event rows and "
        f"{manifest['n_item_rows']:,} item rows to {out_dir} in {took:.1f}s"
    )
    return paths


@click.command()
@click.option("--src", required=True, help="Folder with MovieLens ratings.csv and movies.csv.")
@click.option("--out", "out_dir", default="outputs/movielens", show_default=True)
@click.option("--format", "fmt", type=click.Choice(["csv", "jsonl", "parquet"]), default="csv")
def movielens(src: str, out_dir: str, fmt: str) -> None:
    """Convert a MovieLens folder to the input contract."""
    from rtrec.data.movielens import convert_movielens

    paths = convert_movielens(src, out_dir, fmt)
    console.print(f"[green]Wrote[/] {paths['events']} and {paths['items']}")
