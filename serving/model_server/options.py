"""The options of ``rtrec serve-model``: TF Serving's flag names and defaults, in one place.

Kept free of heavy imports (TensorFlow, the web stack) so the command line can be built, and
``--help`` shown, without loading them; the config files are read only when a server starts.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tensorflow_serving.config.model_server_config_pb2 import ModelServerConfig

    from serving.model_server.batching import BatchingOptions

DEFAULT_MAX_BODY_BYTES = 32 * 1024 * 1024


@dataclass
class ServerOptions:
    """The flags of ``rtrec serve-model``, named and defaulted as TF Serving's."""

    rest_api_port: int = 8501
    rest_api_host: str = "0.0.0.0"
    model_name: str = "default"
    model_base_path: str = ""
    model_config_file: str = ""
    model_config_file_poll_wait_seconds: int = 0
    file_system_poll_wait_seconds: int = 1
    enable_batching: bool = False
    batching_parameters_file: str = ""
    monitoring_config_file: str = ""
    enable_model_warmup: bool = True
    num_request_iterations_for_warmup: int = 1
    rest_api_num_threads: int = 4 * (os.cpu_count() or 1)
    rest_api_timeout_in_ms: int = 30_000
    tensorflow_intra_op_parallelism: int = 0
    tensorflow_inter_op_parallelism: int = 0
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES

    def model_server_config(self) -> ModelServerConfig:
        """The config file if given, else one model from --model_name/--model_base_path."""
        from serving.tfserving import configs

        if self.model_config_file:
            return configs.load_model_server_config(self.model_config_file)
        if not self.model_base_path:
            raise configs.ConfigError(
                "Both --model_config_file and --model_base_path are empty: give a models.config "
                "(e.g. serving/tfserving/models.config) or a base path holding numbered "
                "SavedModel version folders."
            )
        return configs.single_model_config(self.model_name, self.model_base_path)

    def batching(self) -> BatchingOptions | None:
        from serving.model_server.batching import BatchingOptions
        from serving.tfserving import configs

        if not self.enable_batching:
            return None
        if not self.batching_parameters_file:
            return BatchingOptions()
        return BatchingOptions.from_proto(
            configs.load_batching_parameters(self.batching_parameters_file)
        )

    def metrics_path(self) -> str | None:
        from serving.tfserving import configs

        monitoring = (
            configs.load_monitoring_config(self.monitoring_config_file)
            if self.monitoring_config_file
            else None
        )
        return configs.prometheus_path(monitoring)
