"""``create_pipeline``: wires rtrec's TFX components into one graph and does nothing else.

Pure: every path, Beam argument and setting is a parameter, so the local and Kubeflow runners
build the identical graph and only choose where it runs.
"""

from __future__ import annotations

from tfx import v1 as tfx

from components.ingestion.component import EventIngestion
from components.text_embeddings.component import TextEmbedder
from components.trainer import RtrecTrainer

STAGES = ("ingestion", "statistics", "schema", "validation", "transform", "embeddings", "trainer")


def create_pipeline(
    pipeline_name: str,
    pipeline_root: str,
    events: str,
    items: str,
    ingestion_config_json: str,
    preprocessing_fn: str,
    transform_config: dict,
    beam_pipeline_args: list[str],
    encoder: str = "minilm",
    max_tokens: int = 48,
    embedding_cache_dir: str = "",
    run_fn: str = "trainer.task.run_fn",
    hparams: dict | None = None,
    metadata_connection_config=None,
    stop_after: str = "trainer",
) -> tfx.dsl.Pipeline:
    """Build ingestion -> statistics, schema, validation -> Transform -> text vectors -> Trainer.

    ``preprocessing_fn`` is a dotted path ("trainer.preprocessing.preprocessing_fn") so the same
    code runs in-process and inside a Kubeflow container image.
    """
    if stop_after not in STAGES:
        raise ValueError(f"stop_after={stop_after!r}; choose one of {STAGES}")
    ingestion = EventIngestion(
        events=events, items=items, ingestion_config=ingestion_config_json
    ).with_id("EventIngestion")
    statistics = tfx.components.StatisticsGen(examples=ingestion.outputs["examples"])
    schema = tfx.components.SchemaGen(
        statistics=statistics.outputs["statistics"], infer_feature_shape=True
    )
    validation = tfx.components.ExampleValidator(
        statistics=statistics.outputs["statistics"], schema=schema.outputs["schema"]
    )
    transform = tfx.components.Transform(
        examples=ingestion.outputs["examples"],
        schema=schema.outputs["schema"],
        preprocessing_fn=preprocessing_fn,
        custom_config=transform_config,
    )
    embeddings = TextEmbedder(
        item_catalog=ingestion.outputs["item_catalog"],
        examples=ingestion.outputs["examples"],
        encoder=encoder,
        max_tokens=max_tokens,
        cache_dir=embedding_cache_dir,
    )
    trainer = RtrecTrainer(
        examples=transform.outputs["transformed_examples"],
        transform_graph=transform.outputs["transform_graph"],
        schema=schema.outputs["schema"],
        item_catalog=ingestion.outputs["item_catalog"],
        text_embeddings=embeddings.outputs["text_embeddings"],
        run_fn=run_fn,
        custom_config={
            "hparams": {**(hparams or {}), "encoder": encoder, "max_tokens": max_tokens}
        },
    )
    ordered = [ingestion, statistics, schema, validation, transform, embeddings, trainer]
    components = ordered[: STAGES.index(stop_after) + 1]
    return tfx.dsl.Pipeline(
        pipeline_name=pipeline_name,
        pipeline_root=pipeline_root,
        components=components,
        enable_cache=False,
        metadata_connection_config=metadata_connection_config,
        beam_pipeline_args=beam_pipeline_args,
    )
