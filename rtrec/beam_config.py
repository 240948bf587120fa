"""Where Beam runs: the typed ``beam`` section of the config and the arguments it produces.

Every Beam step of the pipeline (ingestion, statistics, Transform, the text embedder, the
Evaluator) gets the same ``beam_pipeline_args``, built here by :func:`beam_args` from one
:class:`BeamConfig`, so a runner is chosen once. Settings that only one runner reads are
refused for the others when the config loads: a Dataflow ``region`` under ``runner: flink``
is a mistake, not something to ignore.

The runner is always named: Beam >= 2.68 without ``--runner`` first tries to download its
Prism binary. Flink and Spark go through Beam's portable runners (a job server started from
``job_server_jar`` against ``master``, or an already running one at ``job_endpoint``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

RUNNERS = ("direct", "dataflow", "flink", "spark")
ENVIRONMENT_TYPES = ("DOCKER", "LOOPBACK", "EXTERNAL", "PROCESS")
_RUNNER_FLAG = {
    "direct": "DirectRunner",
    "dataflow": "DataflowRunner",
    "flink": "FlinkRunner",
    "spark": "SparkRunner",
}
_DATAFLOW_FIELDS = (
    "project",
    "region",
    "temp_location",
    "machine_type",
    "max_workers",
    "service_account",
    "sdk_container_image",
)
_PORTABLE_FIELDS = (
    "job_endpoint",
    "job_server_jar",
    "master",
    "environment_type",
    "environment_config",
)
_OWNER = {
    **{name: "dataflow" for name in _DATAFLOW_FIELDS},
    **{name: "flink/spark" for name in _PORTABLE_FIELDS},
}


@dataclass
class BeamConfig:
    """The Beam runner every pipeline step uses, and that runner's settings.

    ``runner: direct`` (default) runs in this machine's processes; ``dataflow`` on Google Cloud
    Dataflow; ``flink`` and ``spark`` on a cluster through Beam's portable job server.
    """

    runner: str = "direct"
    """One of direct, dataflow, flink, spark."""
    workers: int = 1
    """DirectRunner only: worker processes. 1 runs in-process (the fastest on small data);
    N > 1 runs Beam's multi_processing mode with N worker processes."""
    project: str = ""
    """Dataflow: the Google Cloud project (required)."""
    region: str = ""
    """Dataflow: the regional endpoint, e.g. europe-west1 (required)."""
    temp_location: str = ""
    """Dataflow: a gs:// folder for temporary and staged files (required)."""
    machine_type: str = ""
    """Dataflow: worker machine type, e.g. n1-standard-8 ('' is Dataflow's default)."""
    max_workers: int = 0
    """Dataflow: autoscaling ceiling (0 is Dataflow's default)."""
    service_account: str = ""
    """Dataflow: the workers' service account email ('' is the project's default)."""
    sdk_container_image: str = ""
    """Dataflow: the workers' container. '' uses the pipeline image when the pipeline is compiled
    for Kubeflow (it has rtrec installed); run locally, add ``--setup_file=./setup.py`` to
    ``extra_args`` instead, or the workers cannot import rtrec's transforms."""
    job_endpoint: str = ""
    """Flink/Spark: host:port of a running Beam job server; or give ``job_server_jar``."""
    job_server_jar: str = ""
    """Flink/Spark: path or URL of the job-server jar Beam starts (it talks to ``master``)."""
    master: str = ""
    """Flink/Spark with ``job_server_jar``: the cluster, e.g. flink-jobmanager:8081 or
    spark://spark-master:7077 (required with a jar)."""
    environment_type: str = ""
    """Flink/Spark: where Python workers run: DOCKER (a container per worker; the image is
    ``environment_config``), LOOPBACK (in the submitting process; local tests), EXTERNAL (a
    worker pool at ``environment_config``) or PROCESS. '' is Beam's default."""
    environment_config: str = ""
    """Flink/Spark: the DOCKER image ('' uses the pipeline image when compiled for Kubeflow),
    the EXTERNAL worker pool address, or the PROCESS command JSON."""
    extra_args: list[str] = field(default_factory=list)
    """Any further Beam flags, passed last and unchanged (e.g. --experiments=...)."""

    def validate(self) -> BeamConfig:
        """Refuse settings the runner cannot use, or a runner without what it needs."""
        if self.runner not in RUNNERS:
            raise ValueError(f"runner={self.runner!r}; use one of {', '.join(RUNNERS)}")
        mine = {"dataflow": _DATAFLOW_FIELDS, "flink": _PORTABLE_FIELDS, "spark": _PORTABLE_FIELDS}
        stray = [n for n in _OWNER if getattr(self, n) and n not in mine.get(self.runner, ())]
        if stray:
            owners = "/".join(sorted({_OWNER[n] for n in stray}))
            raise ValueError(
                f"{', '.join(stray)}: {owners} setting(s), but runner is {self.runner!r}; "
                "remove them or change runner"
            )
        if self.workers < 1:
            raise ValueError(f"workers={self.workers}; must be at least 1")
        if self.workers != 1 and self.runner != "direct":
            raise ValueError(
                f"workers applies to the DirectRunner only (runner is {self.runner!r}): "
                + (
                    "Dataflow autoscales up to max_workers"
                    if self.runner == "dataflow"
                    else "the cluster sets parallelism"
                )
            )
        if self.max_workers < 0:
            raise ValueError(f"max_workers={self.max_workers}; must be 0 (default) or more")
        if self.runner == "dataflow":
            self._validate_dataflow()
        elif self.runner in ("flink", "spark"):
            self._validate_portable()
        for i, arg in enumerate(self.extra_args):
            if not arg.startswith("--"):
                raise ValueError(f"extra_args[{i}]={arg!r}: Beam flags look like --name=value")
            if arg.split("=", 1)[0] == "--runner":
                raise ValueError(f"extra_args[{i}]={arg!r}: choose the runner with runner")
        return self

    def _validate_dataflow(self) -> None:
        missing = [n for n in ("project", "region", "temp_location") if not getattr(self, n)]
        if missing:
            raise ValueError(
                f"runner 'dataflow' needs {', '.join(missing)} "
                "(e.g. project: my-project, region: europe-west1, temp_location: gs://b/tmp)"
            )
        if not self.temp_location.startswith("gs://"):
            raise ValueError(
                f"temp_location={self.temp_location!r}: Dataflow stages files in Cloud Storage; "
                "use a gs:// folder"
            )

    def _validate_portable(self) -> None:
        if bool(self.job_endpoint) == bool(self.job_server_jar):
            raise ValueError(
                f"runner {self.runner!r} needs exactly one of job_endpoint (a running Beam job "
                "server, host:port) or job_server_jar (Beam starts one; with master)"
            )
        if self.job_server_jar and not self.master:
            example = "flink-jobmanager:8081" if self.runner == "flink" else "spark://host:7077"
            raise ValueError(f"job_server_jar needs master, the cluster to submit to ({example})")
        if self.job_endpoint and self.master:
            raise ValueError("master is for job_server_jar; a job_endpoint server knows its own")
        if self.environment_type and self.environment_type not in ENVIRONMENT_TYPES:
            raise ValueError(
                f"environment_type={self.environment_type!r}; use one of "
                f"{', '.join(ENVIRONMENT_TYPES)} (or '' for Beam's default)"
            )
        if self.environment_type in ("EXTERNAL", "PROCESS") and not self.environment_config:
            raise ValueError(f"environment_type {self.environment_type} needs environment_config")
        if self.environment_config and not self.environment_type:
            raise ValueError("environment_config needs environment_type (e.g. DOCKER)")
        if self.environment_type == "LOOPBACK" and self.environment_config:
            raise ValueError("environment_type LOOPBACK takes no environment_config")


def beam_args(beam: BeamConfig, image: str = "") -> list[str]:
    """The ``beam_pipeline_args`` for ``beam``; ``image`` is the pipeline's container image
    (Kubeflow), used where Beam workers need rtrec installed and no image is set.

    Raises ValueError when a DOCKER environment has no image at all.
    """
    beam.validate()
    args = [f"--runner={_RUNNER_FLAG[beam.runner]}"]
    if beam.runner == "direct":
        if beam.workers > 1:
            args.append("--direct_running_mode=multi_processing")
        args.append(f"--direct_num_workers={beam.workers}")
    elif beam.runner == "dataflow":
        args += [
            f"--project={beam.project}",
            f"--region={beam.region}",
            f"--temp_location={beam.temp_location}",
        ]
        optional = {
            "--machine_type": beam.machine_type,
            "--max_num_workers": beam.max_workers or "",
            "--service_account_email": beam.service_account,
            "--sdk_container_image": beam.sdk_container_image or image,
        }
        args += [f"{flag}={value}" for flag, value in optional.items() if value]
    else:
        args += _portable_args(beam, image)
    return args + list(beam.extra_args)


def _portable_args(beam: BeamConfig, image: str) -> list[str]:
    if beam.job_endpoint:
        args = [f"--job_endpoint={beam.job_endpoint}"]
    else:
        jar, master = ("flink_job_server_jar", "flink_master")
        if beam.runner == "spark":
            jar, master = ("spark_job_server_jar", "spark_master_url")
        args = [f"--{jar}={beam.job_server_jar}", f"--{master}={beam.master}"]
    if beam.environment_type:
        args.append(f"--environment_type={beam.environment_type}")
        config = beam.environment_config
        if beam.environment_type == "DOCKER":
            config = config or image
            if not config:
                raise ValueError(
                    "environment_type DOCKER needs an image with rtrec installed: set "
                    "beam.environment_config, or compile for Kubeflow with --image"
                )
        if config:
            args.append(f"--environment_config={config}")
    return args
