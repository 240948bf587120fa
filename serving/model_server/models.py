"""Version manager of one model: policy, labels, loading, hot swap and status, as TF Serving does.

Mirrors TF Serving's file-system source + ``AvailabilityPreservingPolicy``: each poll lists the
numeric folders under ``base_path``, the version policy picks the aspired ones (``latest``,
``all``, ``specific``), new aspired versions are loaded (and warmed up) before any old one is
unloaded, and an old version goes only once an aspired one is AVAILABLE. So a corrupt or
half-copied folder is reported (END, with the error) while the previous version keeps serving;
unlike TF Serving, which gives up on it, it is retried as soon as its files change.

Requests hold a version for their whole run (:meth:`ModelManager.acquire`): unloading takes the
version out of the table atomically, marks it UNLOADING, and only closes it when its last
request is done, so a request that started on version N finishes on N.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from tensorflow_serving.config import model_server_config_pb2

from serving.model_server.errors import (
    ServingError,
    from_tensorflow,
    invalid_argument,
    not_found,
)
from serving.model_server.servable import Servable

log = logging.getLogger(__name__)

START, LOADING, AVAILABLE, UNLOADING, END = "START", "LOADING", "AVAILABLE", "UNLOADING", "END"


@dataclass
class VersionState:
    """One row of GetModelStatus: a version's manager state and health."""

    version: int
    state: str
    error_code: str = "OK"
    error_message: str = ""
    fingerprint: tuple = ()


def aspired_versions(policy, on_disk: set[int]) -> set[int]:
    """The versions a ``ServableVersionPolicy`` wants loaded among those on disk."""
    choice = policy.WhichOneof("policy_choice")
    if choice == "all":
        return set(on_disk)
    if choice == "specific":
        return set(policy.specific.versions) & on_disk
    keep = policy.latest.num_versions if choice == "latest" else 1
    return set(sorted(on_disk)[-max(keep, 1) :]) if on_disk else set()


def versions_on_disk(base_path: str) -> dict[int, str]:
    """Numeric sub-folders of ``base_path`` (TF Serving ignores every other name)."""
    try:
        entries = os.listdir(base_path)
    except OSError:
        return {}
    found = {}
    for entry in entries:
        path = os.path.join(base_path, entry)
        if entry.isdigit() and os.path.isdir(path):
            found[int(entry)] = path
    return found


def fingerprint(path: str) -> tuple:
    """What changes when a version folder's files do (names, sizes, modification times)."""
    files = []
    for root, _, names in os.walk(path):
        for name in names:
            full = os.path.join(root, name)
            with contextlib.suppress(OSError):
                stat = os.stat(full)
                files.append((os.path.relpath(full, path), stat.st_size, stat.st_mtime_ns))
    return tuple(sorted(files))


class ModelManager:
    """Loads, serves and unloads the versions of one configured model."""

    def __init__(
        self,
        config: model_server_config_pb2.ModelConfig,
        load: Callable[[str, int, str], Servable],
        on_change: Callable[[str, VersionState], None] = lambda name, state: None,
    ) -> None:
        self.name = config.name
        self._config = config
        self._load = load
        self._on_change = on_change
        self._lock = threading.Lock()
        self._poll_lock = threading.Lock()
        self._available: dict[int, Servable] = {}
        self._states: dict[int, VersionState] = {}

    def update_config(self, config: model_server_config_pb2.ModelConfig) -> None:
        """New policy and labels (a reloaded models.config); applied on the next poll."""
        with self._lock:
            self._config = config

    def poll(self) -> None:
        """One pass of the file-system source: load what is aspired, then unload the rest."""
        with self._poll_lock:
            with self._lock:
                config = self._config
            on_disk = versions_on_disk(config.base_path)
            aspired = aspired_versions(config.model_version_policy, set(on_disk))
            for version in sorted(aspired, reverse=True):
                if self._should_load(version, on_disk[version]):
                    self._load_version(version, on_disk[version])
            self._unload_unaspired(aspired)

    def _should_load(self, version: int, path: str) -> bool:
        with self._lock:
            if version in self._available:
                return False
            state = self._states.get(version)
        if state is None or state.state != END:
            return state is None
        if state.error_code == "OK":
            return True  # unloaded earlier, aspired again
        return fingerprint(path) != state.fingerprint  # failed: retry once its files change

    def _load_version(self, version: int, path: str) -> None:
        files = fingerprint(path)
        self._set_state(VersionState(version, START, fingerprint=files))
        self._set_state(VersionState(version, LOADING, fingerprint=files))
        try:
            servable = self._load(self.name, version, path)
        except Exception as error:  # any failure of one version must not take the server down
            code = error.code if isinstance(error, ServingError) else from_tensorflow(error).code
            message = (
                f"Failed to load version {version} of model {self.name} from {path}: {error}. "
                "The previous version keeps serving; fix or replace the folder and it is "
                "retried when its files change."
            )
            log.error(message)
            self._set_state(VersionState(version, END, code, message, files))
            return
        with self._lock:
            self._available[version] = servable
        self._set_state(VersionState(version, AVAILABLE, fingerprint=files))
        log.info("model %s version %d AVAILABLE", self.name, version)

    def _unload_unaspired(self, aspired: set[int]) -> None:
        with self._lock:
            serving_aspired = any(v in self._available for v in aspired)
            doomed = [v for v in self._available if v not in aspired]
            if not serving_aspired and doomed:
                doomed.remove(max(doomed))  # keep serving something until an aspired one loads
            removed = [(v, self._available.pop(v)) for v in doomed]
        for version, servable in removed:
            self._set_state(VersionState(version, UNLOADING))
            threading.Thread(
                target=self._finish_unload, args=(version, servable), daemon=True
            ).start()

    def _finish_unload(self, version: int, servable: Servable) -> None:
        servable.wait_idle()
        servable.close()
        self._set_state(VersionState(version, END))
        log.info("model %s version %d unloaded", self.name, version)

    def _set_state(self, state: VersionState) -> None:
        with self._lock:
            self._states[state.version] = state
        self._on_change(self.name, state)

    def resolve_label(self, label: str) -> int:
        """The version a label names (``version_labels`` in models.config)."""
        with self._lock:
            labels = dict(self._config.version_labels)
        if label not in labels:
            raise invalid_argument(f"Unrecognized servable version label: {label}")
        return labels[label]

    @contextlib.contextmanager
    def acquire(self, version: int | None = None, label: str | None = None) -> Iterator[Servable]:
        """Hold a version (the latest AVAILABLE one by default) for the length of a request."""
        if label is not None:
            version = self.resolve_label(label)
        with self._lock:
            if version is None:
                servable = self._available[max(self._available)] if self._available else None
                request = f"Latest({self.name})"
            else:
                servable = self._available.get(version)
                request = f"Specific({self.name}, {version})"
            if servable is None:
                raise not_found(f"Servable not found for request: {request}")
            servable.acquire()
        try:
            yield servable
        finally:
            servable.release()

    def status(self, version: int | None = None, label: str | None = None) -> list[VersionState]:
        """GetModelStatus rows, newest version first (TF Serving's order)."""
        if label is not None:
            version = self.resolve_label(label)
        with self._lock:
            states = dict(self._states)
        if version is not None:
            if version not in states:
                raise not_found(f"Could not find version {version} of model {self.name}")
            return [states[version]]
        if not states:
            raise not_found(f"Could not find any versions of model {self.name}")
        return [states[v] for v in sorted(states, reverse=True)]

    def available_versions(self) -> list[int]:
        with self._lock:
            return sorted(self._available)

    def close(self) -> None:
        """Unload every version (server shutdown or model removed from the config)."""
        with self._lock:
            last = list(self._available.items())
            self._available.clear()
        for version, servable in last:
            self._set_state(VersionState(version, UNLOADING))
            self._finish_unload(version, servable)
