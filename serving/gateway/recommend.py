"""Recommendations and search for one user, from the freshest history, with reasons.

A request resolves the user's A/B arm (a hash of the pseudonym) to a version, rebuilds the
history from the store (``history.py``), and asks that version's ``recommend`` (or ``search``)
for the catalog's best items. When the store holds items added through the API, or the caller
wants seen items back, the same history goes to ``user_vectors`` in parallel, and those items
are scored with the same dot product the model uses for its catalog, then merged by score.
Every response is logged as an impression (request id, user, arm, version, items) so a later
click that names the request id is credited to its arm, and its model inputs (the history, no
user key) go to the request log that ``rtrec skew`` compares with the training data.
"""

from __future__ import annotations

import contextvars
import math
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from rtrec import features as fk
from rtrec.timeline import pseudonymize
from serving.gateway import ranking
from serving.gateway.ab import ArmConfig
from serving.gateway.history import History, served_history
from serving.gateway.items import AddedItems
from serving.gateway.models import ModelAccess, output
from serving.gateway.ranking import Candidate
from serving.gateway.schemas import Recommendations, ScoredItem, SearchResults
from serving.gateway.settings import Settings
from serving.gateway.store import OnlineStore, StoredItem

POOL_FACTOR = 3
"""With diversity, MMR picks k items out of about this many times k of the best."""


@dataclass
class _Request:
    user_key: str
    arm: ArmConfig
    version: int
    history: History
    now: int


class Recommender:
    def __init__(
        self, settings: Settings, store: OnlineStore, models: ModelAccess, added: AddedItems,
        log_request: Callable[[dict, float], object] | None = None,
    ) -> None:  # fmt: skip
        self.s, self.store, self.models, self.added = settings, store, models, added
        self.log_request = log_request
        self._pool = ThreadPoolExecutor(max_workers=16, thread_name_prefix="user-vectors")

    def _submit(self, fn, *args):
        """Run ``fn`` in the pool inside this request's context (its model time is counted)."""
        return self._pool.submit(contextvars.copy_context().run, fn, *args)

    def close(self) -> None:
        self._pool.shutdown(wait=False)

    def _request(self, user_id: str) -> _Request:
        s = self.s
        user_key = pseudonymize(user_id, s.key) if user_id else ""
        arm = s.experiment.assign(user_key) if user_key else s.experiment.arms[0]
        version = self.models.version(arm.label)
        stored = self.store.events(user_key) if user_key else []
        history = served_history(
            user_key, stored, s.session_gap_s, s.event_weights, s.history_length
        )
        return _Request(user_key, arm, version, history, int(time.time()))

    def _inputs(self, req: _Request) -> dict:
        return {**req.history.inputs(), fk.USER_KEY: [req.user_key], fk.NOW: [req.now]}

    def _user_vector(self, req: _Request, query: str) -> np.ndarray:
        out = self.models.predict(
            fk.USER_VECTORS, {**self._inputs(req), fk.QUERY: [query]}, req.version
        )
        return np.asarray(output(out, "user_vectors"), np.float32)[0]

    def _catalog(self, signature: str, inputs: dict, version: int) -> list[Candidate]:
        out = self.models.predict(signature, inputs, version)
        return [
            Candidate(str(item), float(score))
            for item, score in zip(out["item_ids"][0], out["scores"][0])
            if item and math.isfinite(float(score))
        ]

    def _vectors(self, version: int, ids: list[str], added: dict[str, StoredItem]) -> np.ndarray:
        """Served vectors of ``ids``: the model's for catalog items, embeddings for added ones."""
        if not ids:
            return np.zeros((0, 1), np.float32)
        new = [added[i] for i in ids if i in added]
        new_vectors = dict(zip([i.item_id for i in new], self.added.vectors(version, new)))
        info = self.models.item_info(version, [i for i in ids if i not in added])
        return np.stack([new_vectors[i] if i in added else info[i].vector for i in ids])

    def _rank(
        self, req: _Request, catalog: list[Candidate], user: np.ndarray | None,
        added: dict[str, StoredItem], k: int, exclude_seen: bool, diversity: float,
    ) -> list[Candidate]:  # fmt: skip
        seen = set(req.history.item_ids)
        extra: list[Candidate] = []
        if user is not None:
            scored = [i for i in added.values() if not (exclude_seen and i.item_id in seen)]
            if not exclude_seen:  # the model left the history out: score it back in
                scored_ids = {i.item_id for i in scored}
                back = [i for i in dict.fromkeys(req.history.item_ids) if i not in scored_ids]
                extra += [
                    Candidate(i, float(np.float32(v @ user)))
                    for i, v in zip(back, self._vectors(req.version, back, added))
                ]
            vectors = self.added.vectors(req.version, scored)
            extra += [
                Candidate(i.item_id, float(np.float32(v @ user)), True)
                for i, v in zip(scored, vectors)
            ]
        merged = ranking.merge([catalog, extra], set())
        if diversity <= 0:
            return merged[:k]
        vectors = self._vectors(req.version, [c.item_id for c in merged], added)
        scores = np.array([c.score for c in merged])
        return [merged[i] for i in ranking.mmr(scores, vectors, k, diversity)]

    def _log(self, req: _Request, items: list[Candidate]) -> str:
        request_id = uuid.uuid4().hex
        if self.log_request is not None:
            row = {**{key: value[0] for key, value in req.history.inputs().items()},
                   fk.NOW: req.now, "model_version": req.version, "arm": req.arm.name}  # fmt: skip
            self.log_request(row, req.now)
        if req.user_key:  # anonymous searches have nobody to credit a click to
            self.store.log_impression(request_id, req.user_key, req.arm.name, str(req.version),
                                      [c.item_id for c in items], time.time())  # fmt: skip
        return request_id

    def recommend(
        self, user_id: str, k: int, exclude_seen: bool, diversity: float
    ) -> Recommendations:
        req = self._request(user_id)
        added = {i.item_id: i for i in self.added.all()}
        need_user = bool(added) or not exclude_seen
        pool = k if diversity <= 0 else max(POOL_FACTOR * k, k + 10)
        fetch = min(fk.MAX_K, pool)
        user_future = self._submit(self._user_vector, req, "") if need_user else None
        inputs = {**self._inputs(req), fk.EXCLUDE_ITEM_IDS: [[fk.PAD_ITEM]], fk.K: fetch}
        catalog = self._catalog(fk.RECOMMEND, inputs, req.version)
        user = user_future.result() if user_future is not None else None
        picked = self._rank(req, catalog, user, added, k, exclude_seen, diversity)
        items = self._explain(req, picked, added)
        return Recommendations(
            user_id=user_id, items=items, model_version=req.version, arm=req.arm.name,
            request_id=self._log(req, picked), cold_start=len(req.history) == 0,
        )  # fmt: skip

    def search(self, query: str, user_id: str, k: int) -> SearchResults:
        req = self._request(user_id)
        added = {i.item_id: i for i in self.added.all()}
        user_future = self._submit(self._user_vector, req, query) if added else None
        inputs = {**self._inputs(req), fk.QUERY: [query], fk.K: k}
        catalog = self._catalog(fk.SEARCH, inputs, req.version)
        user = user_future.result() if user_future is not None else None
        picked = self._rank(req, catalog, user, added, k, True, 0.0)
        items = [
            ScoredItem(item_id=c.item_id, score=c.score, reason=ranking.MATCHES_QUERY)
            for c in picked
        ]
        return SearchResults(
            user_id=user_id, query=query, items=items, model_version=req.version,
            arm=req.arm.name, request_id=self._log(req, picked),
            cold_start=len(req.history) == 0,
        )  # fmt: skip

    def _explain(
        self, req: _Request, picked: list[Candidate], added: dict[str, StoredItem]
    ) -> list[ScoredItem]:
        """Each item's reason: the history item closest to it, 'popular', or 'new item'."""
        h = req.history
        if not picked:
            return []
        item_vectors = self._vectors(req.version, [c.item_id for c in picked], added)
        history_vectors = self._vectors(req.version, h.item_ids, added)
        why = ranking.reasons(item_vectors, history_vectors, h.item_ids, h.event_types)
        out = []
        for cand, (reason, because) in zip(picked, why):
            if cand.item_id in added:
                reason = ranking.NEW_ITEM
            out.append(ScoredItem(item_id=cand.item_id, score=cand.score, reason=reason,
                                  because_item_id=because))  # fmt: skip
        return out
