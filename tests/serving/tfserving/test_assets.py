"""serving/tfserving: every file parses, with TF Serving's own protos where TF Serving reads it.

models.config, the batching parameters and the monitoring config are parsed as
``ModelServerConfig`` (tensorflow-serving-api 2.16.1), ``BatchingParameters`` and
``MonitoringConfig`` (generated from TF Serving's protos); compose and Kubernetes files with
PyYAML. The checks tie the files together: mounts, paths, flags, labels and names agree.
"""

from __future__ import annotations

import os
import re

import httpx
import pytest
import yaml
from google.protobuf import text_format
from tensorflow_serving.config import model_server_config_pb2

from serving.model_server.server import ModelServer, ServerOptions
from serving.tfserving.configs import asset_path
from serving.tfserving.protos import monitoring_config_pb2, session_bundle_config_pb2

ASSETS = os.path.dirname(asset_path("models.config"))
# tensorflow_model_server 2.16 flags the manifests may use (model_servers/main.cc).
TF_SERVING_FLAGS = {
    "port", "rest_api_port", "rest_api_num_threads", "rest_api_timeout_in_ms",
    "model_config_file", "model_config_file_poll_wait_seconds", "model_name", "model_base_path",
    "allow_version_labels_for_unavailable_models", "file_system_poll_wait_seconds",
    "monitoring_config_file", "enable_batching", "batching_parameters_file",
    "enable_model_warmup", "num_request_iterations_for_warmup", "tensorflow_session_parallelism",
    "tensorflow_intra_op_parallelism", "tensorflow_inter_op_parallelism",
}  # fmt: skip
CONTAINER_FILES = {
    "models.config": "/config/models.config",
    "batching_parameters.txt": "/config/batching_parameters.txt",
    "monitoring.config": "/config/monitoring.config",
}


def text(name: str) -> str:
    with open(os.path.join(ASSETS, name), encoding="utf-8") as handle:
        return handle.read()


def yaml_docs(name: str) -> list[dict]:
    return list(yaml.safe_load_all(text(name)))


def flags(args: list[str]) -> dict[str, str]:
    parsed = {}
    for arg in args:
        assert arg.startswith("--") and "=" in arg, arg
        name, value = arg[2:].split("=", 1)
        assert name in TF_SERVING_FLAGS, f"{name} is not a TF Serving 2.16 flag"
        parsed[name] = value
    return parsed


def model_config() -> model_server_config_pb2.ModelConfig:
    config = text_format.Parse(text("models.config"), model_server_config_pb2.ModelServerConfig())
    [model] = config.model_config_list.config
    return model


def test_models_config_has_the_model_policy_and_labels():
    model = model_config()
    assert (model.name, model.base_path, model.model_platform) == (
        "rtrec",
        "/models/rtrec",
        "tensorflow",
    )
    assert model.model_version_policy.WhichOneof("policy_choice") == "specific"
    versions = set(model.model_version_policy.specific.versions)
    assert set(model.version_labels) == {"stable", "canary"}
    assert set(model.version_labels.values()) <= versions  # labels name loaded versions
    assert model.version_labels["stable"] != model.version_labels["canary"]


def test_batching_parameters_parse_as_tf_servings_proto():
    params = text_format.Parse(
        text("batching_parameters.txt"), session_bundle_config_pb2.BatchingParameters()
    )
    for field in ("max_batch_size", "batch_timeout_micros", "max_enqueued_batches"):
        assert params.HasField(field) and getattr(params, field).value > 0
    assert params.num_batch_threads.value >= 1
    assert params.pad_variable_length_inputs


def test_generated_protos_match_tf_servings_field_numbers():
    fields = {
        f.name: f.number for f in session_bundle_config_pb2.BatchingParameters.DESCRIPTOR.fields
    }
    assert fields == {
        "max_batch_size": 1, "batch_timeout_micros": 2, "max_enqueued_batches": 3,
        "num_batch_threads": 4, "thread_pool_name": 5, "allowed_batch_sizes": 6,
        "pad_variable_length_inputs": 7,
    }  # fmt: skip
    prometheus = monitoring_config_pb2.PrometheusConfig.DESCRIPTOR
    assert {f.name: f.number for f in prometheus.fields} == {"enable": 1, "path": 2}
    assert monitoring_config_pb2.MonitoringConfig.DESCRIPTOR.full_name == (
        "tensorflow.serving.MonitoringConfig"
    )


def test_monitoring_config_serves_prometheus_at_the_documented_path():
    config = text_format.Parse(text("monitoring.config"), monitoring_config_pb2.MonitoringConfig())
    assert config.prometheus_config.enable
    assert config.prometheus_config.path == "/monitoring/prometheus/metrics"


@pytest.mark.parametrize(
    "name, image, gpu",
    [
        ("docker-compose.gpu.yml", "tensorflow/serving:2.16.1-gpu", True),
        ("docker-compose.cpu.yml", "tensorflow/serving:2.16.1", False),
    ],
)
def test_compose_files(name, image, gpu):
    [compose] = yaml_docs(name)
    service = compose["services"]["tfserving"]
    assert service["image"] == image
    assert {"8500:8500", "8501:8501"} <= set(service["ports"])
    mounts = {}
    for volume in service["volumes"]:  # host:container[:ro], the host part may hold ${A:-b}
        host, container, mode = re.fullmatch(r"(.+):(/[^:]*)(?::(ro|rw))?", volume).groups()
        mounts[container] = host
        assert mode == "ro"
    assert mounts["/models/rtrec"].endswith("outputs/serving/rtrec}")  # the Pusher's folder
    assert model_config().base_path in mounts
    for file_name, container in CONTAINER_FILES.items():
        assert mounts[container] == f"./{file_name}"
        assert os.path.exists(os.path.join(ASSETS, file_name))
    args = flags(service["command"])
    assert args["model_config_file"] == CONTAINER_FILES["models.config"]
    assert args["monitoring_config_file"] == CONTAINER_FILES["monitoring.config"]
    assert args["batching_parameters_file"] == CONTAINER_FILES["batching_parameters.txt"]
    assert args["rest_api_port"] == "8501" and args["port"] == "8500"
    assert args["allow_version_labels_for_unavailable_models"] == "true"
    devices = service.get("deploy", {}).get("resources", {}).get("reservations", {})
    if gpu:
        assert service["runtime"] == "nvidia"
        [device] = devices["devices"]
        assert device["driver"] == "nvidia" and "gpu" in device["capabilities"]
    else:
        assert "runtime" not in service and not devices


def test_kubernetes_manifests_fit_together():
    [kustomization] = yaml_docs("kustomization.yaml")
    docs = {}
    for resource in kustomization["resources"]:
        for doc in yaml_docs(resource):
            docs[doc["kind"]] = doc
    [generator] = kustomization["configMapGenerator"]
    assert sorted(generator["files"]) == sorted(CONTAINER_FILES)
    deployment, service, hpa = docs["Deployment"], docs["Service"], docs["HorizontalPodAutoscaler"]
    pod = deployment["spec"]["template"]
    [container] = pod["spec"]["containers"]
    assert container["image"] == "tensorflow/serving:2.16.1-gpu"
    assert container["resources"]["limits"]["nvidia.com/gpu"] == 1
    assert container["resources"]["requests"]["nvidia.com/gpu"] == 1
    [compose] = yaml_docs("docker-compose.gpu.yml")
    assert flags(container["args"]) == flags(compose["services"]["tfserving"]["command"])
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["spec"]["volumes"]}
    assert mounts["config"] == "/config"
    assert volumes["config"]["configMap"]["name"] == generator["name"]
    assert mounts["models"] == os.path.dirname(model_config().base_path)
    assert container["readinessProbe"]["httpGet"]["path"] == "/v1/models/rtrec"
    annotations = pod["metadata"]["annotations"]
    assert annotations["prometheus.io/path"] == "/monitoring/prometheus/metrics"
    assert service["spec"]["selector"].items() <= pod["metadata"]["labels"].items()
    assert {p["port"] for p in service["spec"]["ports"]} == {8500, 8501}
    target = hpa["spec"]["scaleTargetRef"]
    assert (target["kind"], target["name"]) == ("Deployment", deployment["metadata"]["name"])
    assert 1 <= hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"]


def test_kserve_inference_service():
    [service] = yaml_docs("kserve/inferenceservice.yaml")
    assert service["apiVersion"] == "serving.kserve.io/v1beta1"
    assert service["kind"] == "InferenceService"
    assert service["metadata"]["name"] == model_config().name  # KServe's model name
    model = service["spec"]["predictor"]["model"]
    assert model["modelFormat"]["name"] == "tensorflow"
    assert model["runtimeVersion"] == "2.16.1-gpu"
    assert model["resources"]["limits"]["nvidia.com/gpu"] == 1
    assert model["storageUri"].startswith("pvc://rtrec-models/")


def test_rtrec_serve_model_accepts_the_shipped_files():
    """The twin reads the production files as they are (the base path is absent here)."""
    options = ServerOptions(
        rest_api_port=0,
        rest_api_host="127.0.0.1",
        model_config_file=asset_path("models.config"),
        batching_parameters_file=asset_path("batching_parameters.txt"),
        monitoring_config_file=asset_path("monitoring.config"),
        enable_batching=True,
        file_system_poll_wait_seconds=0,
    )
    assert options.metrics_path() == "/monitoring/prometheus/metrics"
    with ModelServer(options) as server:
        answer = httpx.get(server.url + "/v1/models/rtrec", timeout=10)
        assert answer.status_code == 404
        assert answer.json() == {"error": "Could not find any versions of model rtrec"}
        assert httpx.get(server.url + "/monitoring/prometheus/metrics").status_code == 200
