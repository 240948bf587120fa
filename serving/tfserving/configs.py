"""Read TF Serving's text-proto files with TF Serving's own protos, as the model server does.

``tensorflow_model_server`` parses ``--model_config_file`` as a ``ModelServerConfig``,
``--batching_parameters_file`` as ``BatchingParameters`` and ``--monitoring_config_file`` as a
``MonitoringConfig``; parsing them here with the same messages means a file that
``rtrec serve-model`` accepts is one TF Serving accepts, and a typo fails in both.
"""

from __future__ import annotations

from importlib import resources
from typing import TypeVar

from google.protobuf import message, text_format
from tensorflow_serving.config import model_server_config_pb2

from serving.tfserving.protos import monitoring_config_pb2, session_bundle_config_pb2

DEFAULT_PROMETHEUS_PATH = "/monitoring/prometheus/metrics"  # PrometheusExporter::kPrometheusPath
TENSORFLOW_PLATFORM = "tensorflow"
MessageT = TypeVar("MessageT", bound=message.Message)


class ConfigError(ValueError):
    """A TF Serving config file is missing, not a valid text proto, or inconsistent."""


def asset_path(name: str) -> str:
    """The path of one of the files shipped in ``serving/tfserving`` (e.g. ``models.config``)."""
    return str(resources.files("serving.tfserving").joinpath(name))


def read_text_proto(path: str, proto: type[MessageT]) -> MessageT:
    """Parse ``path`` as a text ``proto``, with an error naming the file and the message type."""
    kind = proto.DESCRIPTOR.full_name
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except OSError as error:
        raise ConfigError(f"cannot read the {kind} file {path!r}: {error.strerror}") from None
    try:
        return text_format.Parse(text, proto())
    except text_format.ParseError as error:
        raise ConfigError(
            f"{path}: not a valid {kind} text proto ({error}); TF Serving would refuse it too. "
            "Fix the field named in the message."
        ) from None


def load_model_server_config(path: str) -> model_server_config_pb2.ModelServerConfig:
    """``--model_config_file``: a ``model_config_list`` of uniquely named TensorFlow models."""
    config = read_text_proto(path, model_server_config_pb2.ModelServerConfig)
    validate_model_server_config(config, where=path)
    return config


def validate_model_server_config(
    config: model_server_config_pb2.ModelServerConfig, where: str = "model config"
) -> None:
    """Refuse what TF Serving refuses (custom configs, unnamed or duplicate models, no path)."""
    if config.WhichOneof("config") != "model_config_list":
        raise ConfigError(f"{where}: only model_config_list is supported (as in TF Serving)")
    seen: set[str] = set()
    for model in config.model_config_list.config:
        if not model.name or not model.base_path:
            raise ConfigError(f"{where}: every model needs a name and a base_path: {model}")
        if model.name in seen:
            raise ConfigError(f"{where}: model {model.name!r} is configured twice")
        if model.model_platform not in ("", TENSORFLOW_PLATFORM):
            raise ConfigError(
                f"{where}: model {model.name!r} has model_platform {model.model_platform!r}; "
                "only 'tensorflow' SavedModels are served"
            )
        seen.add(model.name)


def single_model_config(name: str, base_path: str) -> model_server_config_pb2.ModelServerConfig:
    """The config TF Serving builds from ``--model_name``/``--model_base_path`` (latest 1)."""
    config = model_server_config_pb2.ModelServerConfig()
    model = config.model_config_list.config.add()
    model.name = name
    model.base_path = base_path
    model.model_platform = TENSORFLOW_PLATFORM
    return config


def load_batching_parameters(path: str) -> session_bundle_config_pb2.BatchingParameters:
    """``--batching_parameters_file``: a ``BatchingParameters`` text proto."""
    return read_text_proto(path, session_bundle_config_pb2.BatchingParameters)


def load_monitoring_config(path: str) -> monitoring_config_pb2.MonitoringConfig:
    """``--monitoring_config_file``: a ``MonitoringConfig`` text proto."""
    return read_text_proto(path, monitoring_config_pb2.MonitoringConfig)


def prometheus_path(config: monitoring_config_pb2.MonitoringConfig | None) -> str | None:
    """Where metrics are served: the configured path, the default one, or None when disabled.

    TF Serving serves metrics only when a monitoring config enables them; ``rtrec serve-model``
    serves them at the default path unless a config says otherwise.
    """
    if config is None:
        return DEFAULT_PROMETHEUS_PATH
    if not config.prometheus_config.enable:
        return None
    return config.prometheus_config.path or DEFAULT_PROMETHEUS_PATH
