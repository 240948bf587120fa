"""The gateway's parts wired together once per process: store, model access, logs, metrics.

``Gateway.open(settings)`` opens everything the routes use and ``close()`` releases it; tests
build one per store backend and hand it to ``app.create_app``. Forgetting a user lives here too:
it touches the store and the tombstone log, nothing else.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from rtrec.timeline import pseudonymize
from serving.client import ModelClient
from serving.gateway.event_log import EventLog
from serving.gateway.events import EventIngest
from serving.gateway.items import AddedItems
from serving.gateway.metrics import GatewayMetrics
from serving.gateway.models import ModelAccess, ModelUnavailableError
from serving.gateway.recommend import Recommender
from serving.gateway.settings import Settings
from serving.gateway.store import OnlineStore, open_store

log = logging.getLogger(__name__)


@dataclass
class Gateway:
    settings: Settings
    store: OnlineStore
    models: ModelAccess
    event_log: EventLog
    metrics: GatewayMetrics
    added: AddedItems
    events: EventIngest = field(init=False)
    recommender: Recommender = field(init=False)

    def __post_init__(self) -> None:
        s, m = self.settings, self.metrics
        self.events = EventIngest(s, self.store, self.event_log, self.known_items, m.count_events)
        self.recommender = Recommender(
            s, self.store, self.models, self.added, self.event_log.append_request
        )

    @classmethod
    def open(cls, settings: Settings, store: OnlineStore | None = None) -> Gateway:
        gw = settings.gateway
        metrics = GatewayMetrics()
        store = store or open_store(gw.store)
        client = ModelClient(gw.model_url, gw.model_name, timeout=gw.model_timeout_s, retries=1,
                             backoff=0.02, max_backoff=0.1)  # fmt: skip
        models = ModelAccess(client, gw.model_url, gw.version_cache_s, metrics.observe_model)
        event_log = EventLog(gw.event_log)
        added = AddedItems(store, models)
        return cls(settings, store, models, event_log, metrics, added)

    def versions(self) -> list[int]:
        """The version every arm serves now, control first, each once."""
        found = [self.models.version(arm.label) for arm in self.settings.experiment.arms]
        return list(dict.fromkeys(found))

    def known_items(self, item_ids: set[str]) -> dict[str, bool | None]:
        """Catalog membership (any arm's version) or added through the API; None where the
        model server cannot be asked and no cached answer exists."""
        out: dict[str, bool | None] = {}
        ask = set()
        for item in item_ids:
            if self.models.cached_known(item):
                out[item] = True
            else:
                ask.add(item)
        if ask:
            try:
                for version in self.versions():
                    for item, info in self.models.item_info(version, sorted(ask)).items():
                        out[item] = out.get(item, False) or info.known
            except ModelUnavailableError:
                for item in ask:  # the last answer any version gave, else unknown (None)
                    out[item] = self.models.cached_known(item)
        for item in item_ids:
            if not out.get(item) and self.added.has(item):
                out[item] = True
            out.setdefault(item, None)
        return out

    def forget(self, user_id: str) -> bool:
        """Delete the user's history and write a tombstone ingestion will honour."""
        user_key = pseudonymize(user_id, self.settings.key)
        now = time.time()
        self.event_log.append_tombstone(user_key, now)
        return self.store.forget_user(user_key, at=now)

    def close(self) -> None:
        self.recommender.close()
        self.models.client.close()
        self.store.close()
