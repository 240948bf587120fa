"""The built-in sample world: a deterministic shop catalogue, shoppers' events and known dirt.

``generate_world(size, seed)`` returns the tables with a manifest of exact defect counts;
``write_world`` writes them as CSV, JSONL or Parquet. Written by hand because no library
simulates session behaviour with planted complements, cold-start items and countable dirt.
"""

from __future__ import annotations

from rtrec.data.world.generate import World, generate_world, write_world
from rtrec.data.world.sizes import SIZES

__all__ = ["SIZES", "World", "generate_world", "write_world"]
