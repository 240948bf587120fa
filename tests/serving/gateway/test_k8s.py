"""serving/gateway/k8s: every manifest parses, fits Kubernetes' API types, and ties to the others.

Files are read with PyYAML and round-tripped through the Kubernetes Python client's models
(an unknown or misspelt field is dropped there, so the round trip shows it). The checks tie
names, ports, probes and Secret keys together across files, and the gateway's model URL to TF
Serving's Service. Where ``kubectl`` is installed, ``kubectl kustomize`` builds both variants.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from kubernetes.client import ApiClient

from rtrec.config import IngestionConfig

ROOT = Path(__file__).resolve().parents[3]
K8S = ROOT / "serving" / "gateway" / "k8s"
TFSERVING = ROOT / "serving" / "tfserving" / "k8s"
VARIANTS = {"in-cluster Redis": K8S, "external Redis": K8S / "external-redis"}


def _docs(path: Path) -> list[dict]:
    return [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d]


def _resources(folder: Path) -> list[dict]:
    """Every object a kustomization folder builds, following its folders (no kubectl)."""
    [kustomization] = _docs(folder / "kustomization.yaml")
    objects = []
    for entry in kustomization["resources"]:
        path = (folder / entry).resolve()
        objects += _resources(path) if path.is_dir() else _docs(path)
    return objects


def _by_kind(folder: Path = K8S) -> dict[tuple[str, str], dict]:
    return {(d["kind"], d["metadata"]["name"]): d for d in _resources(folder)}


def _gateway() -> tuple[dict, dict]:
    deployment = _by_kind()[("Deployment", "rtrec-gateway")]
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    return deployment, container


def _flags(args: list[str]) -> dict[str, str]:
    assert all(a.startswith("--") and "=" in a for a in args), args
    return dict(a[2:].split("=", 1) for a in args)


def _secret_refs(container: dict) -> dict[str, tuple[str, str]]:
    return {
        e["name"]: (e["valueFrom"]["secretKeyRef"]["name"], e["valueFrom"]["secretKeyRef"]["key"])
        for e in container.get("env", [])
        if "secretKeyRef" in e.get("valueFrom", {})
    }


def _model_name(doc: dict) -> str:
    version = doc["apiVersion"].rsplit("/", 1)[-1]
    return f"{version.capitalize()}{doc['kind']}"


def test_every_file_is_built_by_a_kustomization_and_fits_the_api_types():
    files = {p for p in K8S.rglob("*.yaml") if p.name != "kustomization.yaml"}
    listed = set()
    for kustomization in K8S.rglob("kustomization.yaml"):
        for entry in _docs(kustomization)[0]["resources"]:
            path = (kustomization.parent / entry).resolve()
            assert path.exists(), (kustomization, entry)
            listed |= {path} if path.is_file() else set()
    assert listed == files  # no manifest is left out of the build
    client = ApiClient()
    for path in sorted(files):
        for doc in _docs(path):
            model = client._ApiClient__deserialize(doc, _model_name(doc))
            assert client.sanitize_for_serialization(model) == doc, path  # no unknown field


def test_the_gateway_reaches_tf_serving_through_its_service():
    [service] = _docs(TFSERVING / "service.yaml")
    http = {p["name"]: p["port"] for p in service["spec"]["ports"]}["http"]
    _, container = _gateway()
    assert _flags(container["args"])["model-url"] == f"http://{service['metadata']['name']}:{http}"


def test_ports_probes_service_and_autoscaler_agree():
    deployment, container = _gateway()
    pod = deployment["spec"]["template"]
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert int(_flags(container["args"])["port"]) == ports["http"]
    assert _flags(container["args"])["host"] == "0.0.0.0"  # reachable from outside the pod
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert container["startupProbe"]["httpGet"]["path"] == "/healthz"
    service = _by_kind()[("Service", "rtrec-gateway")]
    assert service["spec"]["selector"].items() <= pod["metadata"]["labels"].items()
    assert deployment["spec"]["selector"]["matchLabels"] == service["spec"]["selector"]
    assert [p["targetPort"] for p in service["spec"]["ports"]] == ["http"]
    hpa = _by_kind()[("HorizontalPodAutoscaler", "rtrec-gateway")]
    target = hpa["spec"]["scaleTargetRef"]
    assert (target["kind"], target["name"]) == ("Deployment", "rtrec-gateway")
    [metric] = hpa["spec"]["metrics"]
    assert metric["resource"]["name"] == "cpu"
    assert "cpu" in container["resources"]["requests"]  # utilization is relative to it
    assert 2 <= hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"]


def test_secrets_come_from_secret_refs_that_the_documented_command_creates():
    _, container = _gateway()
    refs = _secret_refs(container)
    assert refs["RTREC_GATEWAY_TOKEN"] == ("rtrec-gateway", "token")
    assert refs[IngestionConfig().pseudonym_key_env] == ("rtrec-pseudonym", "key")
    assert _flags(container["args"])["store"] == "$(RTREC_GATEWAY_STORE)"
    assert refs["RTREC_GATEWAY_STORE"] == ("rtrec-gateway", "store-url")
    redis = _by_kind()[("StatefulSet", "rtrec-redis")]["spec"]["template"]["spec"]
    [redis_container] = redis["containers"]
    used = {**refs, **_secret_refs(redis_container)}
    for each in (container, redis_container):  # every $(VAR) in args is defined in env
        names = {e["name"] for e in each["env"]}
        assert set(re.findall(r"\$\((\w+)\)", " ".join(each["args"]))) <= names
    howto = (K8S / "kustomization.yaml").read_text(encoding="utf-8")
    created: dict[str, set[str]] = {}
    for name, literals in re.findall(r"create secret generic (\S+)((?:\\\n|[^\n])*)", howto):
        created[name] = set(re.findall(r"--from-literal=([\w-]+)=", literals))
    for secret, key in used.values():
        assert key in created.get(secret, set()), (secret, key)
    url = re.search(r"store-url=(\S+)", howto).group(1)
    service = _by_kind()[("Service", "rtrec-redis")]
    assert url.endswith(f"@{service['metadata']['name']}:{service['spec']['ports'][0]['port']}/0")


def test_redis_keeps_its_data_on_a_volume_with_the_append_only_file():
    statefulset = _by_kind()[("StatefulSet", "rtrec-redis")]
    service = _by_kind()[("Service", "rtrec-redis")]
    assert statefulset["spec"]["serviceName"] == service["metadata"]["name"]
    assert service["spec"]["clusterIP"] == "None"  # headless: the StatefulSet's stable name
    [container] = statefulset["spec"]["template"]["spec"]["containers"]
    args = container["args"]
    options = dict(zip(args[1::2], args[2::2]))
    assert args[0] == "redis-server" and options["--appendonly"] == "yes"
    assert options["--appendfsync"] in ("everysec", "always")
    assert options["--maxmemory-policy"] == "noeviction"  # a full store fails, never forgets
    [claim] = statefulset["spec"]["volumeClaimTemplates"]
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    assert mounts[claim["metadata"]["name"]] == options["--dir"]
    policy = _by_kind()[("NetworkPolicy", "rtrec-redis")]
    pod_labels = statefulset["spec"]["template"]["metadata"]["labels"]
    assert policy["spec"]["podSelector"]["matchLabels"].items() <= pod_labels.items()
    [rule] = policy["spec"]["ingress"]
    deployment, _ = _gateway()
    gateway_labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert rule["from"][0]["podSelector"]["matchLabels"].items() <= gateway_labels.items()
    assert rule["ports"][0]["port"] == service["spec"]["ports"][0]["port"]


def test_every_replica_writes_the_event_log_to_one_shared_volume():
    deployment, container = _gateway()
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    volume = mounts[_flags(container["args"])["event-log"]]
    volumes = {v["name"]: v for v in deployment["spec"]["template"]["spec"]["volumes"]}
    claim = volumes[volume]["persistentVolumeClaim"]["claimName"]
    pvc = _by_kind()[("PersistentVolumeClaim", claim)]
    assert pvc["spec"]["accessModes"] == ["ReadWriteMany"]  # several replicas write to it


def test_the_external_redis_variant_is_the_gateway_without_redis():
    external = _by_kind(VARIANTS["external Redis"])
    assert ("Deployment", "rtrec-gateway") in external
    assert not any(name == "rtrec-redis" for _, name in external)
    assert set(external) < set(_by_kind())


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
@pytest.mark.parametrize("variant", VARIANTS)
def test_kubectl_kustomize_builds_each_variant(variant):
    built = subprocess.run(
        ["kubectl", "kustomize", str(VARIANTS[variant])], capture_output=True, text=True
    )
    assert built.returncode == 0, built.stderr
    docs = {(d["kind"], d["metadata"]["name"]): d for d in yaml.safe_load_all(built.stdout)}
    assert set(docs) == set(_by_kind(VARIANTS[variant]))
    [container] = docs[("Deployment", "rtrec-gateway")]["spec"]["template"]["spec"]["containers"]
    assert re.fullmatch(r"rtrec-pipeline:\d+\.\d+\.\d+", container["image"])


def test_the_gateway_command_takes_every_flag_the_manifest_passes():
    from cli.main import main

    command = main.commands.get("gateway")
    if command is None:
        pytest.skip("`rtrec gateway` is not in this checkout yet (serving/gateway's app)")
    _, container = _gateway()
    assert container["command"] == ["rtrec", "gateway"]
    options = {opt for param in command.params for opt in getattr(param, "opts", [])}
    assert {f"--{name}" for name in _flags(container["args"])} <= options
