"""``create_pipeline``: wires rtrec's TFX components into one graph and does nothing else.

Pure: every path, Beam argument and setting is a parameter, so the local and Kubeflow runners
build the identical graph and only choose where it runs.
"""

from __future__ import annotations

from tfx import v1 as tfx

from components.ingestion.component import EventIngestion

STAGES = ("ingestion", "statistics", "schema", "validation", "transform")


def create_pipeline(
    pipeline_name: str,
    pipeline_root: str,
    events: str,
    items: str,
    ingestion_config_json: str,
    preprocessing_fn: str,
    transform_config: dict,
    beam_pipeline_args: list[str],
    metadata_connection_config=None,
    stop_after: str = "transform",
) -> tfx.dsl.Pipeline:
    """Build ingestion -> StatisticsGen -> SchemaGen -> ExampleValidator -> Transform.

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
    ordered = [ingestion, statistics, schema, validation, transform]
    components = ordered[: STAGES.index(stop_after) + 1]
    return tfx.dsl.Pipeline(
        pipeline_name=pipeline_name,
        pipeline_root=pipeline_root,
        components=components,
        enable_cache=False,
        metadata_connection_config=metadata_connection_config,
        beam_pipeline_args=beam_pipeline_args,
    )
