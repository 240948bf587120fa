"""`rtrec config show` (the effective config of a run) and `rtrec config reference` (its docs)."""

from __future__ import annotations

import click

from cli.common import load_config


@click.group("config")
def config() -> None:
    """The run configuration: what a run would use, and what each setting means."""


@config.command("show")
@click.option("--config", "config_path", help="YAML or JSON config file.")
@click.option("--set", "overrides", multiple=True, help="Override a setting: section.field=value.")
def show(config_path, overrides) -> None:
    """Print the effective config (defaults, the file, then the overrides) as YAML."""
    import yaml

    cfg = load_config(config_path, overrides)
    click.echo(yaml.safe_dump(cfg.to_dict(), sort_keys=False), nl=False)


@config.command("reference")
def reference() -> None:
    """Print the configuration reference (docs/configuration.md) in Markdown."""
    from rtrec.config_reference import reference_markdown

    click.echo(reference_markdown(), nl=False)
