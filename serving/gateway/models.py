"""The gateway's access to the model server: labels to versions, signature calls, vector caches.

Everything goes through ``serving.client.ModelClient``, so the gateway works the same against
TF Serving and ``rtrec serve-model``. REST predict answers do not say which version ran, so a
label is resolved to its version with the status API (reused for ``version_cache_s``) and every
predict names that version: the ``model_version`` a response reports is the one that ran.
Catalog membership and served item vectors never change within a version, so they are cached
per version (one ``item_vectors`` call per new id, batched), as are added items' embeddings.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from rtrec import features as fk
from serving.client import ModelClient, ModelServerError, ModelServerUnreachableError

LATEST = "@latest"
"""The pseudo-label of "the newest AVAILABLE version" (an experiment without labels); TF
Serving labels cannot hold '@', so it never shadows a real one."""


class ModelUnavailableError(RuntimeError):
    """The model server cannot answer now (down, overloaded, or the label is not served)."""


class ModelRequestError(RuntimeError):
    """The model server refused a request the gateway built: a gateway bug or a model whose
    signatures do not match ``rtrec/features.py``."""


@dataclass(frozen=True)
class ItemInfo:
    known: bool
    vector: np.ndarray


def output(outputs: dict | list, name: str):
    """One named output: TF Serving's columnar answer drops the name of a lone output."""
    return outputs[name] if isinstance(outputs, dict) else outputs


class ModelAccess:
    """One model on one server, called from many request threads."""

    def __init__(
        self,
        client: ModelClient,
        url: str,
        version_cache_s: float,
        observe: Callable[[str, float], None] = lambda signature, seconds: None,
    ) -> None:
        """``observe(signature, seconds)`` is told the duration of every call (metrics)."""
        self.client, self.url = client, url
        self._ttl = version_cache_s
        self._observe = observe
        self._versions: dict[str, tuple[int, float]] = {}
        self._items: dict[int, dict[str, ItemInfo]] = {}
        self._embedded: dict[int, dict[str, np.ndarray]] = {}
        self._lock = threading.Lock()

    def _unreachable(self, error: Exception) -> ModelUnavailableError:
        return ModelUnavailableError(
            f"model server unreachable at {self.url}: {error}; recommendations and search "
            "answer 503 until it is back (events are still accepted and logged)"
        )

    def version(self, label: str) -> int:
        """The version ``label`` serves now (LATEST: the newest AVAILABLE), cached briefly."""
        cached = self._versions.get(label)
        if cached is not None and time.monotonic() - cached[1] < self._ttl:
            return cached[0]
        try:
            rows = self.client.status(label=None if label == LATEST else label)
        except ModelServerUnreachableError as error:
            raise self._unreachable(error) from error
        except ModelServerError as error:
            if error.status >= 500:
                raise self._unreachable(error) from error
            raise ModelUnavailableError(
                f"model server at {self.url} does not serve model {self.client.model_name!r} "
                f"label {label!r}: {error.message}; check models.config's "
                "version_labels against the gateway's arms"
            ) from error
        available = [int(r["version"]) for r in rows if r.get("state") == "AVAILABLE"]
        if not available:
            raise ModelUnavailableError(
                f"model {self.client.model_name!r} label {label!r} at {self.url} "
                f"has no AVAILABLE version yet ({rows}); wait for it to load"
            )
        version = max(available)
        self._versions[label] = (version, time.monotonic())
        return version

    def forget_versions(self) -> None:
        """Drop cached label resolutions (after the server came back, say)."""
        self._versions.clear()

    def predict(self, signature: str, inputs: dict, version: int) -> dict:
        """Run ``signature`` on ``version``; errors become ModelUnavailable / ModelRequest."""
        start = time.perf_counter()
        try:
            return self.client.predict(inputs, signature_name=signature, version=version)
        except ModelServerUnreachableError as error:
            self.forget_versions()
            raise self._unreachable(error) from error
        except ModelServerError as error:
            if error.status >= 500 or error.status == 404:  # 404: the version went away
                self.forget_versions()
                raise self._unreachable(error) from error
            raise ModelRequestError(
                f"model server at {self.url} refused the gateway's {signature} request: "
                f"{error.message}"
            ) from error
        finally:
            self._observe(signature, time.perf_counter() - start)

    def item_info(self, version: int, item_ids: Sequence[str]) -> dict[str, ItemInfo]:
        """Catalog membership and served vector of each id under ``version`` (cached)."""
        cache = self._items.setdefault(version, {})
        missing = sorted({i for i in item_ids if i not in cache})
        if missing:
            out = self.predict(fk.ITEM_VECTORS, {fk.ITEM_IDS: missing}, version)
            vectors = np.asarray(out["item_vectors"], np.float32)
            with self._lock:
                for item, known, vector in zip(missing, out["known"], vectors):
                    cache[item] = ItemInfo(bool(known), vector)
        return {i: cache[i] for i in item_ids}

    def cached_known(self, item_id: str) -> bool | None:
        """Membership from any version's cache, without a call (None: never looked up)."""
        answers = [c[item_id].known for c in list(self._items.values()) if item_id in c]
        return any(answers) if answers else None

    def embed(self, version: int, items: Sequence[tuple[str, str, str]]) -> dict[str, np.ndarray]:
        """Vectors of (item_id, text, categories "A|B") under ``version``, as the model would
        index them; cached per version, so each added item is embedded once per version."""
        cache = self._embedded.setdefault(version, {})
        missing = [item for item in items if item[0] not in cache]
        if missing:
            out = self.predict(
                fk.EMBED_ITEMS,
                {
                    fk.ITEM_IDS: [i for i, _, _ in missing],
                    fk.TEXTS: [t for _, t, _ in missing],
                    fk.CATEGORIES: [c for _, _, c in missing],
                },
                version,
            )
            with self._lock:
                for (item, _, _), vector in zip(missing, output(out, "embeddings")):
                    cache[item] = np.asarray(vector, np.float32)
        return {item: cache[item] for item, _, _ in items}

    def reembed(self, item_ids: Sequence[str]) -> None:
        """Forget cached embeddings of ``item_ids`` (an item re-posted with a new text)."""
        with self._lock:
            for cache in self._embedded.values():
                for item in item_ids:
                    cache.pop(item, None)

    def ping(self) -> None:
        """Raise ModelUnavailableError unless some version of the model is AVAILABLE."""
        self.version(LATEST)
