"""The ``beam`` section: the exact Beam arguments each runner gets, and the settings refused.

Dataflow, Flink and Spark cannot run here (no cloud project, no job-server jars), so they are
tested by the arguments they produce; Beam's own option parser reads each list back, so every
flag is one Beam 2.74 knows, with the value meant.
"""

from __future__ import annotations

import pytest
from apache_beam.options.pipeline_options import (
    DirectOptions,
    FlinkRunnerOptions,
    GoogleCloudOptions,
    PipelineOptions,
    PortableOptions,
    SparkRunnerOptions,
    StandardOptions,
    WorkerOptions,
)

from rtrec import config as config_lib
from rtrec.beam_config import BeamConfig, beam_args

IMAGE = "europe-docker.pkg.dev/p/rtrec/pipeline:1"


def _args(*settings: str, image: str = "") -> list[str]:
    return beam_args(config_lib.load(None, list(settings)).beam, image)


def test_the_default_is_the_named_direct_runner_in_one_process():
    assert _args() == list(config_lib.LOCAL_BEAM_ARGS)
    assert _args() == ["--runner=DirectRunner", "--direct_num_workers=1"]


def test_direct_workers_run_beams_multi_processing_mode():
    args = _args("beam.workers=4")
    assert args == [
        "--runner=DirectRunner",
        "--direct_running_mode=multi_processing",
        "--direct_num_workers=4",
    ]
    options = PipelineOptions(args).view_as(DirectOptions)
    assert (options.direct_running_mode, options.direct_num_workers) == ("multi_processing", 4)


def test_dataflow_arguments_and_the_pipeline_image_for_its_workers():
    settings = (
        "beam.runner=dataflow",
        "beam.project=my-project",
        "beam.region=europe-west1",
        "beam.temp_location=gs://bucket/tmp",
        "beam.machine_type=n1-highmem-8",
        "beam.max_workers=20",
        "beam.service_account=beam@my-project.iam.gserviceaccount.com",
        "beam.extra_args=['--experiments=shuffle_mode=service']",
    )
    args = _args(*settings, image=IMAGE)
    assert args == [
        "--runner=DataflowRunner",
        "--project=my-project",
        "--region=europe-west1",
        "--temp_location=gs://bucket/tmp",
        "--machine_type=n1-highmem-8",
        "--max_num_workers=20",
        "--service_account_email=beam@my-project.iam.gserviceaccount.com",
        f"--sdk_container_image={IMAGE}",
        "--experiments=shuffle_mode=service",
    ]
    options = PipelineOptions(args)
    cloud, workers = options.view_as(GoogleCloudOptions), options.view_as(WorkerOptions)
    assert options.view_as(StandardOptions).runner == "DataflowRunner"
    assert (cloud.project, cloud.region, cloud.temp_location) == (
        "my-project",
        "europe-west1",
        "gs://bucket/tmp",
    )
    assert cloud.service_account_email.startswith("beam@")
    assert (workers.machine_type, workers.max_num_workers) == ("n1-highmem-8", 20)
    assert workers.sdk_container_image == IMAGE
    # Without a pipeline image (a local orchestrator) Dataflow keeps its default container.
    minimal = _args(*settings[:4])
    assert not any(a.startswith("--sdk_container_image") for a in minimal)
    own = _args(*settings[:4], "beam.sdk_container_image=my/worker:2", image=IMAGE)
    assert "--sdk_container_image=my/worker:2" in own


def test_flink_on_a_running_job_server_with_docker_workers_of_the_pipeline_image():
    args = _args(
        "beam.runner=flink",
        "beam.job_endpoint=beam-job-server:8099",
        "beam.environment_type=DOCKER",
        image=IMAGE,
    )
    assert args == [
        "--runner=FlinkRunner",
        "--job_endpoint=beam-job-server:8099",
        "--environment_type=DOCKER",
        f"--environment_config={IMAGE}",
    ]
    portable = PipelineOptions(args).view_as(PortableOptions)
    assert (portable.job_endpoint, portable.environment_type) == ("beam-job-server:8099", "DOCKER")
    assert portable.environment_config == IMAGE


def test_flink_from_a_job_server_jar_against_a_cluster():
    args = _args(
        "beam.runner=flink",
        "beam.job_server_jar=/opt/beam/beam-runners-flink-1.18-job-server-2.74.0.jar",
        "beam.master=flink-jobmanager:8081",
        "beam.environment_type=EXTERNAL",
        "beam.environment_config=localhost:50000",
    )
    assert args == [
        "--runner=FlinkRunner",
        "--flink_job_server_jar=/opt/beam/beam-runners-flink-1.18-job-server-2.74.0.jar",
        "--flink_master=flink-jobmanager:8081",
        "--environment_type=EXTERNAL",
        "--environment_config=localhost:50000",
    ]
    flink = PipelineOptions(args).view_as(FlinkRunnerOptions)
    assert flink.flink_master == "flink-jobmanager:8081"
    assert flink.flink_job_server_jar.endswith("job-server-2.74.0.jar")


def test_spark_from_a_job_server_jar_and_on_a_job_endpoint():
    jar = _args(
        "beam.runner=spark",
        "beam.job_server_jar=https://example.org/beam-runners-spark-3-job-server-2.74.0.jar",
        "beam.master=spark://spark-master:7077",
        "beam.environment_type=LOOPBACK",
    )
    assert jar == [
        "--runner=SparkRunner",
        "--spark_job_server_jar=https://example.org/beam-runners-spark-3-job-server-2.74.0.jar",
        "--spark_master_url=spark://spark-master:7077",
        "--environment_type=LOOPBACK",
    ]
    spark = PipelineOptions(jar).view_as(SparkRunnerOptions)
    assert spark.spark_master_url == "spark://spark-master:7077"
    endpoint = _args(
        "beam.runner=spark",
        "beam.job_endpoint=spark-job-server:8099",
        "beam.environment_type=DOCKER",
        "beam.environment_config=my/worker:3",
        image=IMAGE,
    )
    assert endpoint == [
        "--runner=SparkRunner",
        "--job_endpoint=spark-job-server:8099",
        "--environment_type=DOCKER",
        "--environment_config=my/worker:3",  # the config's image wins over the pipeline's
    ]


def test_a_docker_environment_without_any_image_is_refused_when_args_are_built():
    beam = BeamConfig(runner="flink", job_endpoint="js:8099", environment_type="DOCKER")
    with pytest.raises(ValueError, match="DOCKER needs an image with rtrec installed"):
        beam_args(beam)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (["beam.runner=prism"], "runner='prism'; use one of direct, dataflow, flink, spark"),
        (["beam.runner=dataflow"], "needs project, region, temp_location"),
        (
            ["beam.runner=dataflow", "beam.project=p", "beam.region=r"],
            "'dataflow' needs temp_location",
        ),
        (
            ["beam.runner=dataflow", "beam.project=p", "beam.region=r", "beam.temp_location=/t"],
            "use a gs:// folder",
        ),
        (["beam.region=europe-west1"], "region: dataflow setting.*runner is 'direct'"),
        (["beam.job_endpoint=js:8099"], "job_endpoint: flink/spark setting"),
        (["beam.workers=0"], "workers=0; must be at least 1"),
        (["beam.workers=two"], "config.beam.workers must be int"),
        (["beam.runner=flink"], "exactly one of job_endpoint .* or job_server_jar"),
        (
            ["beam.runner=flink", "beam.job_endpoint=a:1", "beam.job_server_jar=j.jar"],
            "exactly one of job_endpoint",
        ),
        (["beam.runner=spark", "beam.job_server_jar=j.jar"], "job_server_jar needs master"),
        (["beam.runner=flink", "beam.job_endpoint=a:1", "beam.workers=2"], "DirectRunner only"),
        (
            ["beam.runner=flink", "beam.job_endpoint=a:1", "beam.environment_type=docker"],
            "environment_type='docker'; use one of DOCKER",
        ),
        (
            ["beam.runner=flink", "beam.job_endpoint=a:1", "beam.environment_type=EXTERNAL"],
            "EXTERNAL needs environment_config",
        ),
        (["beam.extra_args=['--runner=PrismRunner']"], "choose the runner with runner"),
        (["beam.extra_args=['direct_num_workers=2']"], "Beam flags look like --name=value"),
        (["beam.worker=2"], r"config.beam: unknown setting\(s\) \['worker'\]"),
        (["beam_args=['--runner=DirectRunner']"], "beam_args was replaced by the typed beam"),
    ],
)
def test_bad_beam_settings_are_refused_when_the_config_loads(settings, message):
    with pytest.raises(ValueError, match=message):
        config_lib.load(None, settings)


def test_every_component_gets_the_beam_sections_arguments():
    from pipeline.configs import pipeline_kwargs

    cfg = config_lib.load(None, ["beam.workers=2"])
    assert pipeline_kwargs(cfg)["beam_pipeline_args"] == beam_args(cfg.beam)
    assert "--direct_num_workers=2" in pipeline_kwargs(cfg)["beam_pipeline_args"]


def test_storage_uris_keep_their_double_slash():
    cfg = config_lib.load(None, ["output_dir=gs://bucket/runs/a"])
    assert cfg.pipeline_root == "gs://bucket/runs/a/pipeline"
    assert cfg.push_directory == "gs://bucket/runs/a/serving/rtrec"
