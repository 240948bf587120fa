"""The gateway's online store: one interface (`OnlineStore`), SQLite and Redis backends."""

from serving.gateway.store.base import (
    DuplicateImpressionError,
    Impression,
    OnlineStore,
    StoredEvent,
    StoredItem,
    StoreError,
    StoreUnavailableError,
    UnknownImpressionError,
    UserForgottenError,
)
from serving.gateway.store.factory import StoreUrlError, open_store

__all__ = [
    "DuplicateImpressionError",
    "Impression",
    "OnlineStore",
    "StoreError",
    "StoreUnavailableError",
    "StoreUrlError",
    "StoredEvent",
    "StoredItem",
    "UnknownImpressionError",
    "UserForgottenError",
    "open_store",
]
