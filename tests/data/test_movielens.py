"""Tests for the MovieLens adapter, on a tiny MovieLens-shaped folder written into tmp_path."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from rtrec import contract
from rtrec.data.movielens import convert_movielens, release_year, top_tags
from rtrec.data.tables import read_table

RATINGS = """userId,movieId,rating,timestamp
1,1,4.0,964982703
1,2,2.5,964982224
2,1,5.0,1445714994
2,3,3.0,1445715000
3,4,1.0,1500000000
"""

# Quoted the way MovieLens quotes: commas and doubled quotes inside a quoted field; a trailing
# space after the year; a year range; a movie with no year and no genres.
MOVIES = """movieId,title,genres
1,Toy Story (1995),Adventure|Animation|Children|Comedy|Fantasy
2,"Postman, The ""Il Postino"" (1994)",Comedy|Drama|Romance
3,Hyena Road,(no genres listed)
4,Death Note: Desu nôto (2006–2007) ,Animation
5,Never Rated (2001),Drama
"""

TAGS = """userId,movieId,tag,timestamp
1,1,Pixar,964982800
2,1,pixar,1445714999
2,1,funny,1445715001
3,1,  FUNNY ,1500000001
3,1,classic,1500000002
1,3,war,964982900
"""


def write_movielens(folder: Path, tags: bool = True) -> Path:
    """Write a MovieLens-shaped folder; tags.csv only when asked, as it is optional."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "ratings.csv").write_text(RATINGS, encoding="utf-8")
    (folder / "movies.csv").write_text(MOVIES, encoding="utf-8")
    if tags:
        (folder / "tags.csv").write_text(TAGS, encoding="utf-8")
    return folder


@pytest.fixture
def src(tmp_path: Path) -> Path:
    return write_movielens(tmp_path / "ml")


def test_events_are_one_rate_event_per_rating(src: Path, tmp_path: Path) -> None:
    paths = convert_movielens(str(src), str(tmp_path / "out"))
    assert paths["events"] == str(tmp_path / "out" / "events.csv")
    events = read_table(paths["events"])
    assert list(events.columns) == list(contract.EVENT_COLUMNS)
    assert len(events) == 5
    assert set(events[contract.EVENT_TYPE]) == {contract.RATE}
    first = events.iloc[0].to_dict()
    assert first == {
        contract.USER_ID: "1",
        contract.ITEM_ID: "1",
        contract.EVENT_TYPE: "rate",
        contract.TIMESTAMP: "964982703",
        contract.VALUE: "4.0",
        contract.QUERY: "",
        contract.SESSION_ID: "",
    }
    assert list(events[contract.VALUE]) == ["4.0", "2.5", "5.0", "3.0", "1.0"]


def test_items_carry_year_tags_and_genres(src: Path, tmp_path: Path) -> None:
    items = read_table(convert_movielens(str(src), str(tmp_path / "out"))["items"])
    assert list(items.columns) == list(contract.ITEM_COLUMNS)
    by_id = items.set_index(contract.ITEM_ID)
    assert list(by_id.index) == ["1", "2", "3", "4", "5"]

    toy = by_id.loc["1"]
    assert toy[contract.TITLE] == "Toy Story (1995)"
    # pixar and funny twice each (case and spaces folded), classic once; ties alphabetical.
    assert toy[contract.DESCRIPTION] == "Released 1995. Tags: funny, pixar, classic."
    assert toy[contract.CATEGORY] == "Adventure|Animation|Children|Comedy|Fantasy"
    assert toy[contract.CREATED_AT] == "1995-01-01"

    postman = by_id.loc["2"]
    assert postman[contract.TITLE] == 'Postman, The "Il Postino" (1994)'
    assert postman[contract.DESCRIPTION] == "Released 1994."
    assert postman[contract.CREATED_AT] == "1994-01-01"

    hyena = by_id.loc["3"]
    assert hyena[contract.DESCRIPTION] == "Tags: war."
    assert hyena[contract.CATEGORY] == ""
    assert hyena[contract.CREATED_AT] == ""

    death_note = by_id.loc["4"]
    assert death_note[contract.TITLE] == "Death Note: Desu nôto (2006–2007)"
    assert death_note[contract.CREATED_AT] == "2006-01-01"

    # Movies nobody rated are still items: they can be recommended from their content alone.
    assert by_id.loc["5", contract.CREATED_AT] == "2001-01-01"


def test_tags_do_not_become_events(src: Path, tmp_path: Path) -> None:
    events = read_table(convert_movielens(str(src), str(tmp_path / "out"))["events"])
    assert len(events) == len(RATINGS.strip().splitlines()) - 1


def test_all_formats_read_back_equal(src: Path, tmp_path: Path) -> None:
    tables = {}
    for fmt in ("csv", "jsonl", "parquet"):
        paths = convert_movielens(str(src), str(tmp_path / fmt), fmt=fmt)
        assert paths["items"].endswith(f"items.{fmt}")
        tables[fmt] = {name: read_table(path) for name, path in paths.items()}
    for fmt in ("jsonl", "parquet"):
        for name in ("events", "items"):
            pd.testing.assert_frame_equal(
                tables[fmt][name], tables["csv"][name], obj=f"{fmt} {name}"
            )


def test_min_rating_keeps_only_good_ratings(src: Path, tmp_path: Path) -> None:
    events = read_table(
        convert_movielens(str(src), str(tmp_path / "out"), min_rating=3.0)["events"]
    )
    assert list(events[contract.VALUE]) == ["4.0", "5.0", "3.0"]


def test_tags_file_is_optional(tmp_path: Path) -> None:
    src = write_movielens(tmp_path / "ml", tags=False)
    items = read_table(convert_movielens(str(src), str(tmp_path / "out"))["items"])
    assert items.set_index(contract.ITEM_ID).loc["1", contract.DESCRIPTION] == "Released 1995."
    assert items.set_index(contract.ITEM_ID).loc["3", contract.DESCRIPTION] == ""


def test_missing_columns_are_named(src: Path, tmp_path: Path) -> None:
    (src / "ratings.csv").write_text("userId,itemId,score,timestamp\n1,1,4.0,1\n")
    with pytest.raises(
        ValueError, match=r"ratings\.csv: missing required column\(s\) movieId, rating"
    ):
        convert_movielens(str(src), str(tmp_path / "out"))


def test_missing_tag_column_is_named(src: Path, tmp_path: Path) -> None:
    (src / "tags.csv").write_text("userId,movieId,label\n1,1,x\n")
    with pytest.raises(ValueError, match=r"tags\.csv: missing required column\(s\) tag"):
        convert_movielens(str(src), str(tmp_path / "out"))


def test_unparseable_rating_names_the_file(src: Path, tmp_path: Path) -> None:
    (src / "ratings.csv").write_text("userId,movieId,rating,timestamp\n1,1,great,1\n")
    with pytest.raises(ValueError, match=r"ratings\.csv: a value does not parse"):
        convert_movielens(str(src), str(tmp_path / "out"))


@pytest.mark.parametrize("name", ["ratings.csv", "movies.csv"])
def test_missing_file_is_named(src: Path, tmp_path: Path, name: str) -> None:
    (src / name).unlink()
    with pytest.raises(FileNotFoundError, match=str(src / name)):
        convert_movielens(str(src), str(tmp_path / "out"))


def test_unknown_format_is_rejected(src: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="fmt='xlsx'"):
        convert_movielens(str(src), str(tmp_path / "out"), fmt="xlsx")


@pytest.mark.parametrize(
    ("title", "year"),
    [
        ("Heat (1995)", "1995"),
        ("Runaway Brain (1995) ", "1995"),
        ("Seven (a.k.a. Se7en) (1995)", "1995"),
        ("Death Note (2006–2007)", "2006"),
        ("Babylon 5", ""),
        ("1984 (Nineteen Eighty-Four)", ""),
    ],
)
def test_release_year(title: str, year: str) -> None:
    assert release_year(title) == year


def test_top_tags_limits_and_orders() -> None:
    tags = pd.DataFrame({"movieId": ["1"] * 4 + ["2"], "tag": ["b", "a", "B", "c", ""]})
    assert top_tags(tags, limit=2).to_dict() == {"1": "b, a"}
