"""The Kubeflow definition: KFP's own protos and clients read it, with images, GPUs and Beam args.

Nothing runs on a cluster here. The JSON is parsed strictly into ``PipelineSpec`` and its
deployment config (kfp-pipeline-spec 0.2.2), the YAML by the parser ``kfp.Client`` uploads
with, and the JSON by Vertex AI's ``PipelineJob`` (offline: nothing is submitted).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from google.protobuf import json_format
from kfp.pipeline_spec import pipeline_spec_pb2

from cli.main import main
from pipeline.configs import pipeline_kwargs
from pipeline.kubeflow_runner import GPU_COMPONENTS, build, compile_pipeline
from pipeline.pipeline import create_pipeline
from rtrec import config as config_lib
from rtrec.beam_config import beam_args

IMAGE = "europe-docker.pkg.dev/my-project/rtrec/pipeline:1.0.0"
SHARED = (
    "events=gs://bucket/events/*.parquet",
    "items=gs://bucket/items.parquet",
    "output_dir=gs://bucket/runs/prod",
    "trainer.embedding_cache_dir=gs://bucket/embedding_cache",
)
DATAFLOW = (
    "beam.runner=dataflow",
    "beam.project=my-project",
    "beam.region=europe-west4",
    "beam.temp_location=gs://bucket/beam-tmp",
    "beam.max_workers=8",
)
EXECUTOR_COMMAND = [
    "python",
    "-m",
    "tfx.orchestration.kubeflow.v2.container.kubeflow_v2_run_executor",
]


def _cfg(*settings: str) -> config_lib.RtrecConfig:
    return config_lib.load(None, [*SHARED, *settings])


def _compile(tmp_path, name: str = "rtrec.json", *settings: str, **kwargs) -> dict:
    path = compile_pipeline(_cfg(*settings), IMAGE, str(tmp_path / name), **kwargs)
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def _executors(job: dict) -> tuple[pipeline_spec_pb2.PipelineSpec, dict]:
    """The strictly parsed spec, and task name -> its executor (a PipelineDeploymentConfig
    ExecutorSpec)."""
    spec = json_format.ParseDict(job["pipelineSpec"], pipeline_spec_pb2.PipelineSpec())
    deployment = json_format.ParseDict(
        json_format.MessageToDict(spec.deployment_spec),
        pipeline_spec_pb2.PipelineDeploymentConfig(),
    )
    by_task = {}
    for name, task in spec.root.dag.tasks.items():
        label = spec.components[task.component_ref.name].executor_label
        by_task[name] = deployment.executors[label]
    return spec, by_task


def test_kubeflow_runner_compiles_the_same_graph(tmp_path):
    """Every component of the local graph is a task, in the configured image, with the Beam
    arguments of the config's runner and GPUs on the Trainer and the TextEmbedder only."""
    job = _compile(tmp_path, "rtrec.json", *DATAFLOW, gpus=2)
    spec, executors = _executors(job)
    assert spec.pipeline_info.name == "rtrec"
    assert job["runtimeConfig"]["gcsOutputDirectory"] == "gs://bucket/runs/prod/pipeline"
    local = {c.id for c in create_pipeline(**pipeline_kwargs(_cfg())).components}
    resolver = "LatestBlessedModelResolver"  # KFP v2 resolves the model and its blessing apart
    local = local - {resolver} | {
        f"{resolver}-model-resolver",
        f"{resolver}-model-blessing-resolver",
    }
    assert set(executors) == local
    expected_beam = beam_args(_cfg(*DATAFLOW).beam, IMAGE)
    assert f"--sdk_container_image={IMAGE}" in expected_beam  # Dataflow workers: same image
    containers = 0
    for name, executor in executors.items():
        if executor.WhichOneof("spec") != "container":
            assert name.startswith("LatestBlessedModelResolver")  # resolved by the backend
            continue
        containers += 1
        container = executor.container
        assert container.image == IMAGE, name
        assert list(container.command) == EXECUTOR_COMMAND, name
        assert list(container.args[-len(expected_beam) :]) == expected_beam, name
        accelerator = container.resources.accelerator
        if name in GPU_COMPONENTS:
            assert (accelerator.type, accelerator.count) == ("nvidia.com/gpu", 2), name
        else:
            assert not container.HasField("resources"), name
    assert containers == len(executors) - 2  # the two resolver steps have no container


def test_without_gpus_nothing_asks_for_one_and_vertex_names_its_gpu_kind(tmp_path):
    _, plain = _executors(_compile(tmp_path, "cpu.json"))
    assert not any(e.container.HasField("resources") for e in plain.values())
    _, vertex = _executors(_compile(tmp_path, "l4.json", gpus=1, accelerator="NVIDIA_L4"))
    for name in GPU_COMPONENTS:
        accelerator = vertex[name].container.resources.accelerator
        assert (accelerator.type, accelerator.count) == ("NVIDIA_L4", 1)


def test_the_yaml_package_is_what_kfp_client_uploads(tmp_path):
    """With the platform spec that gives ingestion the gateway's pseudonym key Secret."""
    from kfp.client.client import _extract_pipeline_yaml

    path = compile_pipeline(_cfg(), IMAGE, str(tmp_path / "rtrec.yaml"), gpus=1)
    doc = _extract_pipeline_yaml(path)  # what create_run_from_pipeline_package reads
    assert doc.pipeline_spec.default_pipeline_root == "gs://bucket/runs/prod/pipeline"
    assert "RtrecTrainer" in doc.pipeline_spec.root.dag.tasks
    platform = json_format.MessageToDict(doc.platform_spec)
    executors = platform["platforms"]["kubernetes"]["deploymentSpec"]["executors"]
    label = doc.pipeline_spec.components["EventIngestion"].executor_label
    assert list(executors) == [label]  # only ingestion hashes user ids
    [secret] = executors[label]["secretAsEnv"]
    [to_env] = secret["keyToEnv"]
    gateway = yaml.safe_load(
        (
            Path(__file__).resolve().parents[2] / "serving/gateway/k8s/gateway/deployment.yaml"
        ).read_text()
    )
    [container] = gateway["spec"]["template"]["spec"]["containers"]
    env = {e["name"]: e.get("valueFrom", {}).get("secretKeyRef") for e in container["env"]}
    key_env = _cfg().ingestion.pseudonym_key_env
    assert to_env["envVar"] == key_env
    assert env[key_env] == {"name": secret["secretName"], "key": to_env["secretKey"]}
    plain = compile_pipeline(_cfg(), IMAGE, str(tmp_path / "plain.yaml"), pseudonym_secret="")
    assert _extract_pipeline_yaml(plain).platform_spec == pipeline_spec_pb2.PlatformSpec()


def test_vertex_ai_pipeline_job_takes_the_json(tmp_path):
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import aiplatform

    path = compile_pipeline(_cfg(), IMAGE, str(tmp_path / "rtrec.json"))
    job = aiplatform.PipelineJob(
        display_name="rtrec",
        template_path=path,
        project="my-project",
        location="europe-west4",
        credentials=AnonymousCredentials(),
    )
    resource = job._gca_resource  # built offline; submit() would send it
    assert resource.runtime_config.gcs_output_directory == "gs://bucket/runs/prod/pipeline"
    assert "RtrecTrainer" in job.pipeline_spec["root"]["dag"]["tasks"]


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (["output_dir=outputs/run"], "output_dir='outputs/run': relative paths mean nothing"),
        (["trainer.embedding_cache_dir=cache"], "trainer.embedding_cache_dir='cache'"),
        (["events=''"], "set events"),
        (["evaluation.infra_validation=kubernetes"], "not supported by TFX 1.16"),
    ],
)
def test_what_cannot_work_in_a_pod_is_refused(settings, message):
    with pytest.raises(ValueError, match=message):
        build(_cfg(*settings), IMAGE)


def test_absolute_mounted_paths_and_no_cache_are_fine():
    graph = build(_cfg("output_dir=/mnt/rtrec/runs/a", "trainer.embedding_cache_dir=''"), IMAGE)
    assert graph.pipeline_info.pipeline_root == "/mnt/rtrec/runs/a/pipeline"


def test_compile_kubeflow_command(tmp_path):
    out = tmp_path / "job.json"
    args = ["compile-kubeflow", "--image", IMAGE, "--out", str(out), "--gpu", "1"]
    result = CliRunner().invoke(main, [*args, *[a for s in SHARED for a in ("--set", s)]])
    assert result.exit_code == 0, result.output
    assert "1 x nvidia.com/gpu on RtrecTrainer and TextEmbedder" in result.output
    assert "nothing in" in result.output and "RTREC_PSEUDONYM_KEY" in result.output  # .json
    _, executors = _executors(json.loads(out.read_text()))
    assert executors["RtrecTrainer"].container.resources.accelerator.count == 1
    refused = CliRunner().invoke(main, [*args, "--set", "events=e.csv", "--set", "items=i.csv"])
    assert refused.exit_code == 2 and "relative paths mean nothing" in refused.output
    bad_gpu = CliRunner().invoke(main, [*args[:-1], "-1"])
    assert bad_gpu.exit_code == 2 and "-1" in bad_gpu.output


def test_the_documented_production_config_compiles(tmp_path):
    """docs/production.md's rtrec-kubeflow.yaml, as written there."""
    doc = (Path(__file__).resolve().parents[2] / "docs" / "production.md").read_text()
    block = re.search(r"\(`rtrec-kubeflow.yaml`\):\n\n```yaml\n(.*?)```", doc, re.S).group(1)
    (tmp_path / "rtrec-kubeflow.yaml").write_text(block)
    cfg = config_lib.load(str(tmp_path / "rtrec-kubeflow.yaml"))
    path = compile_pipeline(cfg, IMAGE, str(tmp_path / "rtrec.yaml"), gpus=1)
    assert cfg.beam.runner == "dataflow" and "--runner=DataflowRunner" in Path(path).read_text()
