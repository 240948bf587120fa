"""`rtrec compile-kubeflow`: the pipeline as a Kubeflow Pipelines / Vertex AI definition.

TFX (and TensorFlow under it) is imported when the command runs, not at start-up.
"""

from __future__ import annotations

import click

from cli.common import console, load_config


@click.command("compile-kubeflow")
@click.option("--image", required=True, help="Pipeline image (built from the Dockerfile).")
@click.option(
    "--out",
    "out_path",
    default="pipeline.json",
    show_default=True,
    help=".json: the PipelineJob (Vertex AI); .yaml: the package kfp.Client uploads.",
)
@click.option(
    "--gpu",
    "gpus",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="GPUs for the Trainer and the TextEmbedder (0: none).",
)
@click.option(
    "--accelerator",
    help="GPU kind (default nvidia.com/gpu, for Kubeflow); e.g. NVIDIA_L4 on Vertex AI.",
)
@click.option(
    "--pseudonym-secret",
    help="Secret (key `key`) EventIngestion gets the pseudonym key from, in .yaml packages "
    "(default rtrec-pseudonym, the gateway manifests' Secret; '' for none).",
)
@click.option("--config", "config_path", help="YAML or JSON config file.")
@click.option("--set", "overrides", multiple=True, help="Override a setting: section.field=value.")
def compile_kubeflow(
    image, out_path, gpus, accelerator, pseudonym_secret, config_path, overrides
) -> None:
    """Compile the pipeline for Kubeflow Pipelines v2 or Vertex AI Pipelines (nothing runs).

    Paths in the config must be on shared storage (gs://...), and the `beam` section names
    the runner the components use (e.g. beam.runner=dataflow).
    """
    from pipeline.kubeflow_runner import DEFAULT_ACCELERATOR, PSEUDONYM_SECRET, compile_pipeline

    cfg = load_config(config_path, overrides)
    accelerator = accelerator or DEFAULT_ACCELERATOR
    pseudonym_secret = PSEUDONYM_SECRET if pseudonym_secret is None else pseudonym_secret
    try:
        path = compile_pipeline(cfg, image, out_path, gpus, accelerator, pseudonym_secret)
    except ValueError as err:
        raise click.UsageError(str(err)) from err
    gpu_note = f", {gpus} x {accelerator} on RtrecTrainer and TextEmbedder" if gpus else ""
    console.print(f"Wrote {path} (image {image}{gpu_note})", soft_wrap=True)
    env_var = cfg.ingestion.pseudonym_key_env
    if path.endswith((".yaml", ".yml")) and pseudonym_secret:
        console.print(f"EventIngestion reads {env_var} from Secret {pseudonym_secret} (key `key`)")
    else:
        console.print(
            f"Note: nothing in {path} gives the pipeline's pods {env_var}; without it ingestion "
            "hashes user ids with the public development key (docs/production.md)",
            soft_wrap=True,
        )
