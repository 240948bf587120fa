"""Compiles the same pipeline for Kubeflow Pipelines v2 / Vertex AI Pipelines, to run in an image.

Only the orchestrator changes. The image (see the repository's Dockerfile) has this package
installed, so user code named by dotted path (``trainer.task.run_fn``) imports the same there;
every path in the config must be on storage all pods share (gs://, s3://, or an absolute path
on a mounted volume); the ``beam`` section picks where Beam runs, and Beam workers that need
rtrec (Dataflow, a DOCKER environment) run the same image unless it names another.

GPUs reach the Trainer and the TextEmbedder through TFX's ``with_platform_config``: for
KubeflowV2DagRunner that is KFP's container ``ResourceSpec``, which TFX 1.16 copies into each
executor's ``container.resources`` (tfx/orchestration/kubeflow/v2/step_builder.py).

Ingestion hashes user ids with the key the gateway uses. TFX cannot give a pod a Kubernetes
Secret, so the YAML package carries KFP's Kubernetes platform spec (the format kfp-kubernetes'
``use_secret_as_env`` writes) that sets the key's variable from the Secret on EventIngestion.
"""

from __future__ import annotations

import json
import os
import tempfile

import yaml
from kfp.pipeline_spec import pipeline_spec_pb2
from tfx import v1 as tfx

from pipeline.configs import pipeline_kwargs
from pipeline.pipeline import create_pipeline
from rtrec.config import RtrecConfig

GPU_COMPONENTS = ("RtrecTrainer", "TextEmbedder")
DEFAULT_ACCELERATOR = "nvidia.com/gpu"
"""Kubeflow Pipelines on Kubernetes: the device plugin's resource name. Vertex AI Pipelines
names a machine's GPUs instead (NVIDIA_TESLA_T4, NVIDIA_L4, ...)."""
ResourceSpec = pipeline_spec_pb2.PipelineDeploymentConfig.PipelineContainerSpec.ResourceSpec
PSEUDONYM_SECRET = "rtrec-pseudonym"
"""The Secret (key ``key``) holding the pseudonym key; serving/gateway/k8s reads the same one."""


def gpu_resources(count: int, accelerator: str = DEFAULT_ACCELERATOR) -> ResourceSpec:
    """KFP's container resources asking for ``count`` GPUs of kind ``accelerator``."""
    if count < 1:
        raise ValueError(f"gpus={count}; ask for at least 1 (or none at all)")
    return ResourceSpec(accelerator=ResourceSpec.AcceleratorConfig(type=accelerator, count=count))


def check_portable(cfg: RtrecConfig) -> None:
    """Refuse what cannot work in a pod: paths only this machine has, and InfraValidator."""
    paths = {
        "events": cfg.events,
        "items": cfg.items,
        "output_dir": cfg.output_dir,
        "evaluation.serving_root": cfg.evaluation.serving_root,
        "trainer.embedding_cache_dir": cfg.trainer.embedding_cache_dir,
    }
    missing = [name for name in ("events", "items") if not paths[name]]
    if missing:
        raise ValueError(f"set {' and '.join(missing)} (e.g. gs://bucket/events/*.parquet)")
    relative = [
        f"{name}={value!r}"
        for name, value in paths.items()
        if value and "://" not in value and not os.path.isabs(value)
    ]
    if relative:
        raise ValueError(
            f"{', '.join(relative)}: relative paths mean nothing inside a Kubeflow pod; use "
            "shared storage (gs://..., s3://...) or an absolute path on a mounted volume "
            '(trainer.embedding_cache_dir="" turns the cache off)'
        )
    if cfg.evaluation.infra_validation:
        raise ValueError(
            "evaluation.infra_validation is not supported by TFX 1.16's KubeflowV2DagRunner "
            "(it refuses InfraValidator); set evaluation.infra_validation=''"
        )


def secret_env_platform_spec(
    spec: dict, component: str, secret: str, key: str, env_var: str
) -> dict:
    """KFP's Kubernetes platform spec setting ``env_var`` from ``secret``'s ``key`` in the pod
    of ``component`` (kfp-kubernetes ``use_secret_as_env``'s format; KFP backend >= 2.0)."""
    label = spec["components"][component]["executorLabel"]
    to_env = {"secretName": secret, "keyToEnv": [{"secretKey": key, "envVar": env_var}]}
    executors = {label: {"secretAsEnv": [to_env]}}
    return {"platforms": {"kubernetes": {"deploymentSpec": {"executors": executors}}}}


def build(
    cfg: RtrecConfig, image: str, gpus: int = 0, accelerator: str = DEFAULT_ACCELERATOR
) -> tfx.dsl.Pipeline:
    """The pipeline for Kubeflow: ``cfg``'s graph, GPUs on the Trainer and the TextEmbedder."""
    check_portable(cfg)
    pipeline = create_pipeline(**pipeline_kwargs(cfg, image=image))
    if gpus:
        for component in pipeline.components:
            if component.id in GPU_COMPONENTS:
                component.with_platform_config(gpu_resources(gpus, accelerator))
    return pipeline


def compile_pipeline(
    cfg: RtrecConfig,
    image: str,
    output_file: str,
    gpus: int = 0,
    accelerator: str = DEFAULT_ACCELERATOR,
    pseudonym_secret: str = PSEUDONYM_SECRET,
) -> str:
    """Write the pipeline's Kubeflow definition; returns its path.

    A ``.json`` file is the PipelineJob TFX writes (Vertex AI's ``PipelineJob(template_path=)``
    takes it); a ``.yaml`` file is its bare PipelineSpec with the pipeline root as the default,
    the package ``kfp.Client().create_run_from_pipeline_package`` uploads, followed by the
    platform spec that gives EventIngestion the pseudonym key from ``pseudonym_secret`` ('':
    none).
    """
    pipeline = build(cfg, image, gpus, accelerator)
    as_yaml = output_file.endswith((".yaml", ".yml"))
    with tempfile.TemporaryDirectory() as tmp:
        folder = tmp if as_yaml else os.path.dirname(os.path.abspath(output_file))
        name = "pipeline_job.json" if as_yaml else os.path.basename(output_file)
        runner = tfx.orchestration.experimental.KubeflowV2DagRunner(
            config=tfx.orchestration.experimental.KubeflowV2DagRunnerConfig(default_image=image),
            output_dir=folder,
            output_filename=name,
        )
        runner.run(pipeline)
        if as_yaml:
            with open(os.path.join(folder, name), encoding="utf-8") as handle:
                job = json.load(handle)
            spec = job["pipelineSpec"]
            spec.setdefault("defaultPipelineRoot", job["runtimeConfig"]["gcsOutputDirectory"])
            docs = [spec]
            if pseudonym_secret:
                env_var = cfg.ingestion.pseudonym_key_env
                docs.append(
                    secret_env_platform_spec(
                        spec, "EventIngestion", pseudonym_secret, "key", env_var
                    )
                )
            with open(output_file, "w", encoding="utf-8") as handle:
                yaml.safe_dump_all(docs, handle, sort_keys=False)
    return output_file
