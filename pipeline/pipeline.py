"""``create_pipeline``: wires rtrec's TFX components into one graph and does nothing else.

Pure: every path, Beam argument and setting is a parameter, so the local and Kubeflow runners
build the identical graph and only choose where it runs.
"""

from __future__ import annotations

from tfx import v1 as tfx

from components.ingestion.component import EventIngestion
from components.text_embeddings.component import TextEmbedder
from components.trainer import RtrecTrainer
from rtrec.features import EVAL_SIGNATURE

STAGES = (
    "ingestion",
    "statistics",
    "schema",
    "validation",
    "transform",
    "embeddings",
    "trainer",
    "evaluator",
    "pusher",
)


def _infra_validator(kind: str, image_tag: str, trainer, ingestion):
    """TFX InfraValidator against stock TF Serving, or None when not asked for."""
    if not kind:
        return None
    if kind == "docker":
        platform = {"local_docker": tfx.proto.LocalDockerConfig()}
    elif kind == "kubernetes":
        platform = {"kubernetes": tfx.proto.KubernetesConfig()}
    else:
        raise ValueError(f"infra_validation={kind!r}; use '', 'docker' or 'kubernetes'")
    return tfx.components.InfraValidator(
        model=trainer.outputs["model"],
        examples=ingestion.outputs["examples"],
        serving_spec=tfx.proto.ServingSpec(
            tensorflow_serving=tfx.proto.TensorFlowServing(tags=[image_tag]), **platform
        ),
        request_spec=tfx.proto.RequestSpec(
            tensorflow_serving=tfx.proto.TensorFlowServingRequestSpec(
                signature_names=[EVAL_SIGNATURE]
            ),
            split_name="eval",
            num_examples=10,
        ),
        validation_spec=tfx.proto.ValidationSpec(max_loading_time_seconds=120, num_tries=3),
    )


def _previous_statistics():
    """The latest StatisticsGen output in the metadata store when the run starts: the previous
    run's (ingestion waits for this node, so the run's own statistics do not exist yet). Only
    StatisticsGen's: Transform writes ExampleStatistics too, without splits."""
    return tfx.dsl.Resolver(
        strategy_class=tfx.dsl.experimental.LatestArtifactStrategy,
        statistics=tfx.dsl.Channel(
            type=tfx.types.standard_artifacts.ExampleStatistics,
            producer_component_id="StatisticsGen",
            output_key="statistics",
        ),
    ).with_id("PreviousStatisticsResolver")


def _drift_validator(statistics, previous, thresholds: dict[str, tuple[str, float]]):
    """DistributionValidator: each feature's distribution against the previous run's (train)."""
    from tensorflow_metadata.proto.v0 import path_pb2, schema_pb2
    from tfx.components import DistributionValidator
    from tfx.proto import distribution_validator_pb2 as dv

    comparators = []
    for feature, (kind, threshold) in sorted(thresholds.items()):
        comparator = schema_pb2.FeatureComparator()
        getattr(comparator, kind).threshold = threshold
        comparators.append(
            dv.FeatureComparator(
                path=path_pb2.Path(step=[feature]), distribution_comparator=comparator
            )
        )
    return DistributionValidator(
        statistics=statistics.outputs["statistics"],
        baseline_statistics=previous.outputs["statistics"],
        config=dv.DistributionValidatorConfig(
            default_slice_config=dv.DistributionValidatorConfig.DatasetConfig(feature=comparators)
        ),
        include_split_pairs=[("train", "train")],
    ).with_id("DistributionValidator")


def create_pipeline(
    pipeline_name: str,
    pipeline_root: str,
    events: str,
    items: str,
    ingestion_config_json: str,
    history_length: int,
    preprocessing_fn: str,
    transform_config: dict,
    beam_pipeline_args: list[str],
    encoder: str = "minilm",
    max_tokens: int = 48,
    embedding_cache_dir: str = "",
    run_fn: str = "trainer.task.run_fn",
    trainer_config: dict | None = None,
    eval_config=None,
    push_directory: str = "",
    infra_validation: str = "",
    serving_image_tag: str = "2.16.1",
    metadata_connection_config=None,
    stop_after: str = "pusher",
    warm_start: bool = False,
    drift_thresholds: dict[str, tuple[str, float]] | None = None,
) -> tfx.dsl.Pipeline:
    """Build ingestion -> statistics, schema, validation -> Transform -> text vectors -> Trainer
    -> Evaluator (against the latest blessed model) [-> InfraValidator] -> Pusher.

    ``infra_validation`` = 'docker' or 'kubernetes' adds TFX's InfraValidator, which loads the
    model in ``tensorflow/serving:<serving_image_tag>`` (e.g. '2.16.1-gpu') and sends it real eval
    examples before the Pusher may push; '' (default) skips it, since it needs Docker or a
    cluster.

    ``preprocessing_fn`` is a dotted path ("trainer.preprocessing.preprocessing_fn") so the same
    code runs in-process and inside a Kubeflow container image. Transform computes the
    vocabularies only (``materialize=False``); the Trainer reads ingestion's examples.
    ``trainer_config`` is the Trainer's ``custom_config`` (trainer/task.py names its keys).
    ``warm_start`` gives the Trainer the latest blessed model (the Evaluator's baseline) as its
    ``base_model``: continuous training starts from its weights (trainer/warm_start.py).
    ``drift_thresholds`` (feature -> (``infinity_norm`` | ``jensen_shannon_divergence``,
    threshold)) adds TFX's DistributionValidator: this run's train split against the previous
    run's statistics (resolved before this run computes its own), so a span whose items or
    categories moved is flagged in the anomalies `rtrec inspect` shows.
    """
    if stop_after not in STAGES:
        raise ValueError(f"stop_after={stop_after!r}; choose one of {STAGES}")
    ingestion = EventIngestion(
        events=events,
        items=items,
        ingestion_config=ingestion_config_json,
        history_length=history_length,
    ).with_id("EventIngestion")
    previous = _previous_statistics() if drift_thresholds else None
    if previous is not None:
        ingestion.add_upstream_node(previous)  # resolved before this run's statistics exist
    statistics = tfx.components.StatisticsGen(examples=ingestion.outputs["examples"])
    schema = tfx.components.SchemaGen(
        statistics=statistics.outputs["statistics"], infer_feature_shape=True
    )
    validation = tfx.components.ExampleValidator(
        statistics=statistics.outputs["statistics"], schema=schema.outputs["schema"]
    )
    drift = _drift_validator(statistics, previous, drift_thresholds) if drift_thresholds else None
    transform = tfx.components.Transform(
        examples=ingestion.outputs["examples"],
        schema=schema.outputs["schema"],
        preprocessing_fn=preprocessing_fn,
        custom_config=transform_config,
        materialize=False,
    )
    embeddings = TextEmbedder(
        item_catalog=ingestion.outputs["item_catalog"],
        examples=ingestion.outputs["examples"],
        encoder=encoder,
        max_tokens=max_tokens,
        cache_dir=embedding_cache_dir,
    )
    baseline = tfx.dsl.Resolver(
        strategy_class=tfx.dsl.experimental.LatestBlessedModelStrategy,
        model=tfx.dsl.Channel(type=tfx.types.standard_artifacts.Model),
        model_blessing=tfx.dsl.Channel(type=tfx.types.standard_artifacts.ModelBlessing),
    ).with_id("LatestBlessedModelResolver")
    trainer = RtrecTrainer(
        examples=ingestion.outputs["examples"],
        transform_graph=transform.outputs["transform_graph"],
        schema=schema.outputs["schema"],
        item_catalog=ingestion.outputs["item_catalog"],
        text_embeddings=embeddings.outputs["text_embeddings"],
        run_fn=run_fn,
        custom_config=dict(trainer_config or {}),
        base_model=baseline.outputs["model"] if warm_start else None,
    )
    evaluator = tfx.components.Evaluator(
        examples=ingestion.outputs["examples"],
        model=trainer.outputs["model"],
        baseline_model=baseline.outputs["model"],
        eval_config=eval_config,
        example_splits=["eval"],
    )
    infra = _infra_validator(infra_validation, serving_image_tag, trainer, ingestion)
    pusher = tfx.components.Pusher(
        model=trainer.outputs["model"],
        model_blessing=evaluator.outputs["blessing"],
        infra_blessing=infra.outputs["blessing"] if infra else None,
        push_destination=tfx.proto.PushDestination(
            filesystem=tfx.proto.PushDestination.Filesystem(base_directory=push_directory)
        ),
    )
    by_stage = [
        [previous, ingestion] if previous else [ingestion],
        [statistics],
        [schema],
        [validation, drift] if drift else [validation],
        [transform],
        [embeddings],
        [baseline, trainer] if warm_start else [trainer],
        [evaluator] if warm_start else [baseline, evaluator],
        [infra, pusher] if infra else [pusher],
    ]
    last = STAGES.index(stop_after)
    components = [c for stage in by_stage[: last + 1] for c in stage]
    return tfx.dsl.Pipeline(
        pipeline_name=pipeline_name,
        pipeline_root=pipeline_root,
        components=components,
        enable_cache=False,
        metadata_connection_config=metadata_connection_config,
        beam_pipeline_args=beam_pipeline_args,
    )
