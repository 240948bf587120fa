"""Convert a MovieLens download (ratings, movies, optional tags) into contract event/item tables.

MovieLens is the public benchmark we measure against, so it must arrive in the same shape as any
customer's data: one ``rate`` event per rating, one item per movie. Free-text tags are folded into
the item description rather than becoming events, because a tag says what a movie is about (content
for the text tower), not that a user engaged with it again. The release year is parsed out of the
title so that ``created_at`` can drive freshness features without changing the title users see.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping, Sequence

import pandas as pd

from rtrec import contract
from rtrec.data.tables import write_table

logger = logging.getLogger(__name__)

RATINGS_FILE = "ratings.csv"
MOVIES_FILE = "movies.csv"
TAGS_FILE = "tags.csv"

RATINGS_COLUMNS: tuple[str, ...] = ("userId", "movieId", "rating", "timestamp")
MOVIES_COLUMNS: tuple[str, ...] = ("movieId", "title", "genres")
TAGS_COLUMNS: tuple[str, ...] = ("movieId", "tag")

OUTPUT_FORMATS: tuple[str, ...] = ("csv", "jsonl", "parquet")
NO_GENRES = "(no genres listed)"
MAX_TAGS_PER_MOVIE = 10

# "Heat (1995)", "Death Note (2006–2007)", with trailing spaces already stripped.
_YEAR_RE = re.compile(r"\((\d{4})(?:\s*[-–]\s*(?:\d{4})?)?\)$")


def _read_csv(
    path: str, required: Sequence[str], dtypes: Mapping[str, str] | None = None
) -> pd.DataFrame:
    """Read only ``required`` columns of a MovieLens CSV, failing with the file and what is wrong.

    The header is checked first so a wrong file (e.g. ``links.csv`` passed as ratings) is reported
    by its missing columns instead of as a pandas KeyError deep inside the conversion.
    """
    try:
        header = pd.read_csv(path, nrows=0).columns
    except pd.errors.EmptyDataError as err:
        raise ValueError(f"{path}: file is empty; expected columns {', '.join(required)}") from err
    missing = [c for c in required if c not in header]
    if missing:
        raise ValueError(
            f"{path}: missing required column(s) {', '.join(missing)}; "
            f"found {', '.join(header) or 'no columns'}, expected {', '.join(required)}"
        )
    dtype = {c: "str" for c in required}
    dtype.update(dtypes or {})
    try:
        return pd.read_csv(path, usecols=list(required), dtype=dtype, keep_default_na=False)
    except ValueError as err:
        raise ValueError(
            f"{path}: a value does not parse as {dict(dtypes or {})} ({err}); fix or drop that row"
        ) from err


def release_year(title: str) -> str:
    """Return the release year MovieLens appends to a title ("Heat (1995)" -> "1995"), or ''."""
    match = _YEAR_RE.search(title.strip())
    return match.group(1) if match else ""


def top_tags(tags: pd.DataFrame, limit: int = MAX_TAGS_PER_MOVIE) -> pd.Series:
    """Map movieId to its ``limit`` most frequent distinct tags, lower-cased, joined by ", ".

    Lower-casing merges "Pixar" and "pixar"; ties are broken alphabetically so the description,
    and hence the text embedding, is the same on every run.
    """
    frame = pd.DataFrame(
        {"movieId": tags["movieId"], "tag": tags["tag"].astype(str).str.strip().str.lower()}
    )
    frame = frame[frame["tag"] != ""]
    counts = frame.groupby(["movieId", "tag"]).size().reset_index(name="n")
    counts = counts.sort_values(["movieId", "n", "tag"], ascending=[True, False, True])
    return counts.groupby("movieId").head(limit).groupby("movieId")["tag"].agg(", ".join)


def ratings_to_events(ratings: pd.DataFrame, min_rating: float | None = None) -> pd.DataFrame:
    """Turn MovieLens ratings into contract ``rate`` events, optionally keeping only good ratings.

    ``min_rating`` lets a run treat only ratings at or above a threshold as positive interactions,
    the usual implicit-feedback reading of MovieLens.
    """
    if min_rating is not None:
        ratings = ratings[ratings["rating"] >= min_rating]
    return pd.DataFrame(
        {
            contract.USER_ID: ratings["userId"].to_numpy(),
            contract.ITEM_ID: ratings["movieId"].to_numpy(),
            contract.EVENT_TYPE: contract.RATE,
            contract.TIMESTAMP: ratings["timestamp"].to_numpy(),
            contract.VALUE: ratings["rating"].to_numpy(),
            contract.QUERY: "",
            contract.SESSION_ID: "",
        },
        columns=list(contract.EVENT_COLUMNS),
    )


def movies_to_items(movies: pd.DataFrame, tags: pd.DataFrame | None = None) -> pd.DataFrame:
    """Turn MovieLens movies (and tags, if any) into contract items with year and tags as text."""
    titles = movies["title"].astype(str).str.strip()
    years = titles.map(release_year)
    tag_text = (
        movies["movieId"].map(top_tags(tags)).fillna("")
        if tags is not None
        else pd.Series("", index=movies.index)
    )
    description = [
        " ".join(
            part for part in (f"Released {y}." if y else "", f"Tags: {t}." if t else "") if part
        )
        for y, t in zip(years, tag_text, strict=True)
    ]
    genres = movies["genres"].astype(str).str.strip()
    return pd.DataFrame(
        {
            contract.ITEM_ID: movies["movieId"].to_numpy(),
            contract.TITLE: titles.to_numpy(),
            contract.DESCRIPTION: description,
            contract.CATEGORY: genres.where(genres != NO_GENRES, "").to_numpy(),
            contract.CREATED_AT: [f"{y}-01-01" if y else "" for y in years],
        },
        columns=list(contract.ITEM_COLUMNS),
    )


def convert_movielens(
    src_dir: str, out_dir: str, fmt: str = "csv", min_rating: float | None = None
) -> dict[str, str]:
    """Write ``events.<fmt>`` and ``items.<fmt>`` in ``out_dir`` from a MovieLens folder.

    Works for any MovieLens release laid out as ``ratings.csv`` + ``movies.csv`` (+ ``tags.csv``),
    e.g. ml-latest-small or ml-25m. ``created_at`` is the ISO date of 1 January of the release year.
    Returns ``{"events": path, "items": path}`` so callers can hand the paths straight to ingestion.
    """
    if fmt not in OUTPUT_FORMATS:
        raise ValueError(f"fmt={fmt!r} is not supported; use one of {', '.join(OUTPUT_FORMATS)}")
    paths = {name: os.path.join(src_dir, name) for name in (RATINGS_FILE, MOVIES_FILE, TAGS_FILE)}
    for name in (RATINGS_FILE, MOVIES_FILE):
        if not os.path.isfile(paths[name]):
            raise FileNotFoundError(
                f"{paths[name]}: not found; src_dir must be an unpacked MovieLens folder "
                f"holding {RATINGS_FILE} and {MOVIES_FILE}"
            )

    ratings = _read_csv(
        paths[RATINGS_FILE], RATINGS_COLUMNS, {"rating": "float64", "timestamp": "int64"}
    )
    movies = _read_csv(paths[MOVIES_FILE], MOVIES_COLUMNS)
    tags = _read_csv(paths[TAGS_FILE], TAGS_COLUMNS) if os.path.isfile(paths[TAGS_FILE]) else None

    events = ratings_to_events(ratings, min_rating)
    items = movies_to_items(movies, tags)
    unknown = int((~events[contract.ITEM_ID].isin(items[contract.ITEM_ID])).sum())
    if unknown:
        logger.warning("%d events name a movieId absent from %s", unknown, paths[MOVIES_FILE])
    logger.info(
        "MovieLens %s: %d ratings -> %d events (min_rating=%s), %d items, %s",
        src_dir,
        len(ratings),
        len(events),
        min_rating,
        len(items),
        f"{len(tags)} tags" if tags is not None else "no tags.csv",
    )
    return {
        "events": write_table(events, os.path.join(out_dir, f"events.{fmt}")),
        "items": write_table(items, os.path.join(out_dir, f"items.{fmt}")),
    }
