"""Store URLs -> backends: the one place the gateway's `--store` setting is parsed.

``sqlite:///PATH`` follows SQLAlchemy's convention: what follows the third slash is the path,
so ``sqlite:///state/gateway.db`` is relative and ``sqlite:////var/lib/rtrec/gateway.db`` is
absolute. ``redis://HOST:PORT/DB`` (or ``rediss://`` for TLS) is handed to redis-py as is.
The Redis backend is imported only when asked for, so a SQLite gateway needs no Redis client.
"""

from __future__ import annotations

from serving.gateway.store.base import OnlineStore

SQLITE_PREFIX = "sqlite:///"
REDIS_SCHEMES = ("redis://", "rediss://")


class StoreUrlError(ValueError):
    """A store URL that names no supported backend."""


def open_store(url: str) -> OnlineStore:
    """Open the store `url` names; raises `StoreUrlError` saying which forms are accepted."""
    if url.startswith(SQLITE_PREFIX):
        path = url[len(SQLITE_PREFIX) :]
        if not path or path == ":memory:":
            raise StoreUrlError(
                f"store URL {url!r} names no file: use sqlite:///PATH (relative) or "
                "sqlite:////ABSOLUTE/PATH; an in-memory database would not be shared by threads"
            )
        from serving.gateway.store.sqlite_store import SQLiteStore

        return SQLiteStore(path)
    if url.startswith(REDIS_SCHEMES):
        from serving.gateway.store.redis_store import RedisStore

        return RedisStore(url)
    raise StoreUrlError(
        f"store URL {url!r} is not supported: use sqlite:///PATH (e.g. sqlite:///gateway.db, "
        "or sqlite:////abs/path.db) or redis://HOST:PORT/DB (e.g. redis://localhost:6379/0)"
    )
