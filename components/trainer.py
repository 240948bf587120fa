"""RtrecTrainer: TFX's Trainer with two more inputs, the item catalog and its text vectors.

The standard Trainer only passes examples, transform graph and schema to ``run_fn``; retrieval
needs the whole catalog (items nobody has interacted with too) and the frozen BERT vectors. The
spec adds the two channels and the executor hands their URIs to ``run_fn`` in
``custom_config``; everything else is TFX's GenericExecutor.
"""

from __future__ import annotations

import json

from tfx import types
from tfx.components.trainer import executor as trainer_executor
from tfx.dsl.components.base import base_component, executor_spec
from tfx.proto import trainer_pb2
from tfx.types import channel, standard_artifacts
from tfx.types.component_spec import ChannelParameter
from tfx.types.standard_component_specs import TrainerSpec
from tfx.utils import json_utils

from components.artifacts import ItemCatalog, TextEmbeddings
from trainer.task import CATALOG_URI, EMBEDDINGS_URI

ITEM_CATALOG_KEY = "item_catalog"
TEXT_EMBEDDINGS_KEY = "text_embeddings"


class RtrecTrainerSpec(types.ComponentSpec):
    PARAMETERS = TrainerSpec.PARAMETERS
    INPUTS = {
        **TrainerSpec.INPUTS,
        ITEM_CATALOG_KEY: ChannelParameter(type=ItemCatalog),
        TEXT_EMBEDDINGS_KEY: ChannelParameter(type=TextEmbeddings),
    }
    OUTPUTS = TrainerSpec.OUTPUTS


class RtrecTrainerExecutor(trainer_executor.GenericExecutor):
    """Adds the catalog and embedding URIs to custom_config, then trains as usual."""

    def Do(self, input_dict, output_dict, exec_properties):  # noqa: N802  (TFX's API)
        config = json_utils.loads(exec_properties.get("custom_config") or "null") or {}
        config[CATALOG_URI] = input_dict[ITEM_CATALOG_KEY][0].uri
        config[EMBEDDINGS_URI] = input_dict[TEXT_EMBEDDINGS_KEY][0].uri
        exec_properties = {**exec_properties, "custom_config": json_utils.dumps(config)}
        return super().Do(input_dict, output_dict, exec_properties)


class RtrecTrainer(base_component.BaseComponent):
    """Trainer over transformed examples + catalog + text vectors; ``run_fn`` by dotted path."""

    SPEC_CLASS = RtrecTrainerSpec
    EXECUTOR_SPEC = executor_spec.ExecutorClassSpec(RtrecTrainerExecutor)

    def __init__(
        self,
        examples,
        transform_graph,
        schema,
        item_catalog,
        text_embeddings,
        run_fn: str,
        custom_config: dict,
        train_steps: int | None = None,
        eval_steps: int | None = None,
        base_model=None,
    ):
        """``base_model``: a channel of the model to warm-start from (continuous training)."""
        spec = RtrecTrainerSpec(
            examples=examples,
            transform_graph=transform_graph,
            schema=schema,
            base_model=base_model,
            item_catalog=item_catalog,
            text_embeddings=text_embeddings,
            run_fn=run_fn,
            train_args=trainer_pb2.TrainArgs(num_steps=train_steps),
            eval_args=trainer_pb2.EvalArgs(num_steps=eval_steps),
            custom_config=json.dumps(custom_config),
            model=channel.Channel(type=standard_artifacts.Model),
            model_run=channel.Channel(type=standard_artifacts.ModelRun),
        )
        super().__init__(spec=spec)
