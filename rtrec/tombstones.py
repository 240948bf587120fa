"""Tombstones of forgotten users: the file format the gateway writes and ingestion honours.

A user who asks to be forgotten (``DELETE /v1/users/{id}`` on the gateway) leaves one JSON line
``{"user_key": <pseudonym>, "forgotten_at": <Unix seconds>}``. The raw event logs still hold the
user's rows (they are the product's logs, kept under its own access rules), so every later
ingestion must drop them: it reads these files and drops every event of a listed pseudonym from
every span. Only the pseudonym is written, so the tombstone file itself names nobody; it works
with the same ``ingestion.pseudonym_key_env`` key that produced the pseudonyms.
"""

from __future__ import annotations

import glob
import json
import os

USER_KEY = "user_key"
FORGOTTEN_AT = "forgotten_at"


def tombstone_line(user_key: str, forgotten_at: float) -> bytes:
    """One tombstone as a JSON line (UTF-8, newline-terminated)."""
    return (json.dumps({USER_KEY: user_key, FORGOTTEN_AT: forgotten_at}) + "\n").encode()


def read_tombstones(pattern: str) -> frozenset[str]:
    """Every pseudonym in the tombstone file(s) ``pattern`` names (a path or a glob).

    '' reads nothing; a path that does not exist yet means no user was forgotten. A line that is
    not a tombstone fails loudly with its file and line: skipping it would resurrect a user.
    """
    if not pattern:
        return frozenset()
    paths = sorted(glob.glob(pattern)) if any(ch in pattern for ch in "*?[") else [pattern]
    keys: set[str] = set()
    for path in paths:
        if not os.path.isfile(path):
            continue
        with open(path, encoding="utf-8") as handle:
            for number, line in enumerate(handle, 1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                    key = record[USER_KEY]
                except (ValueError, KeyError, TypeError) as err:
                    raise ValueError(
                        f"{path} line {number} is not a tombstone ({err!r}); each line must be "
                        f'{{"user_key": "<pseudonym>", ...}}: fix or remove the line'
                    ) from None
                if not isinstance(key, str) or not key:
                    raise ValueError(f"{path} line {number}: user_key must be a pseudonym string")
                keys.add(key)
    return frozenset(keys)
