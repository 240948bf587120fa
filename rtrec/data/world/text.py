"""Natural-language titles, descriptions and search queries for sample-world items.

The words are built from the same attributes that drive behaviour (type, brand, variant,
feature), so a sentence encoder reading the text can recover what makes two items similar.
"""

from __future__ import annotations

import numpy as np

from rtrec.contract import MAX_TEXT_CHARS
from rtrec.data.world.products import ProductType

# Departments whose products carry model codes ("X200"); the others carry product-line names.
CODED_DEPARTMENTS = frozenset({"Electronics", "Sports & Outdoors", "Toys & Games"})
_CODE_PREFIXES = ("X", "S", "Pro ", "Air ", "Max ", "Lite ", "Z", "One ")
LINE_NAMES = (
    "Essentials", "Signature", "Everyday", "Studio", "Reserve", "Heritage", "Atelier",
    "Harvest", "Origins", "Select", "Classic", "Nova", "Meadow", "Coastal",
)  # fmt: skip
_CLOSINGS = (
    "Backed by a two-year warranty.",
    "Ships in recyclable packaging.",
    "A customer favourite and an easy gift.",
    "Designed and tested by our in-house team.",
    "Easy to clean and built to last.",
    "Rated highly for value and quality.",
)
_FILLER = (
    "Care and use: follow the instructions on the label, store in a cool dry place and keep "
    "away from direct heat. Specifications and packaging may vary slightly between batches. "
    "Please read all safety information before first use and keep this leaflet for reference. "
)


def model_code(department: str, rng: np.random.Generator) -> str:
    """A model code or product-line name; it makes titles unique without carrying meaning."""
    if department in CODED_DEPARTMENTS:
        prefix = _CODE_PREFIXES[rng.integers(len(_CODE_PREFIXES))]
        return f"{prefix}{int(rng.integers(1, 100)) * 10 + int(rng.integers(0, 10))}"
    return LINE_NAMES[rng.integers(len(LINE_NAMES))]


def title(ptype: ProductType, brand: str, variant: int, feature: int, code: str) -> str:
    """E.g. 'Nordvik Noise-Cancelling Wireless Headphones X200, Black'."""
    return f"{brand} {ptype.features[feature]} {ptype.noun} {code}, {ptype.variants[variant]}"


def description(
    ptype: ProductType, brand: str, variant: int, spec: int, feature: int, closing: int
) -> str:
    """Two or three sentences naming the feature, variant, a spec and what the item is for."""
    return (
        f"{ptype.features[feature]} {ptype.noun.lower()} by {brand}, "
        f"{ptype.variants[variant].lower()}, with {ptype.specs[spec]}. "
        f"Made for {ptype.use}. {_CLOSINGS[closing % len(_CLOSINGS)]}"
    )


def oversized(text: str, rng: np.random.Generator) -> str:
    """Pad a description past ``MAX_TEXT_CHARS`` the way scraped 'care and use' blurbs do."""
    target = MAX_TEXT_CHARS + int(rng.integers(100, 2000))
    repeats = target // len(_FILLER) + 1
    return f"{text} {_FILLER * repeats}".strip()


def query(ptype: ProductType, brand: str, variant: int, feature: int, pattern: int) -> str:
    """A shopper's search for an item: always the product noun plus brand, variant or feature."""
    noun = ptype.noun.lower()
    brand_l, variant_l = brand.lower(), ptype.variants[variant].lower()
    feature_l = ptype.features[feature].lower()
    patterns = (
        f"{noun} {brand_l}",
        f"{noun} {brand_l} {variant_l}",
        f"{variant_l} {noun}",
        f"{feature_l} {noun}",
        f"{brand_l} {feature_l} {noun}",
        f"{noun} {variant_l} {feature_l}",
    )
    return patterns[pattern % len(patterns)]


N_QUERY_PATTERNS = 6
