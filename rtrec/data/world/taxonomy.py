"""The planted complement graph between product types, and the type subset each world uses."""

from __future__ import annotations

from rtrec.data.world.products import DEPARTMENTS, ProductType

# Directed "people who bought X next look at Y" edges between product type keys.
COMPLEMENTS: dict[str, tuple[str, ...]] = {
    "smartphone": ("phone_case", "phone_charger", "headphones", "smartwatch"),
    "phone_case": ("phone_charger", "smartphone"),
    "phone_charger": ("phone_case", "smartphone", "smartwatch"),
    "laptop": ("laptop_sleeve", "wireless_mouse", "backpack"),
    "laptop_sleeve": ("wireless_mouse", "laptop"),
    "wireless_mouse": ("laptop_sleeve", "laptop"),
    "headphones": ("smartphone", "phone_charger"),
    "smartwatch": ("phone_charger", "smartphone", "running_shoes"),
    "coffee_maker": ("coffee_beans", "coffee_mug", "coffee_filters"),
    "coffee_mug": ("coffee_maker", "coffee_beans"),
    "chef_knife": ("cutting_board", "cookbook"),
    "cutting_board": ("chef_knife",),
    "frying_pan": ("spatula", "cookbook"),
    "spatula": ("frying_pan",),
    "bed_sheets": ("pillow",),
    "pillow": ("bed_sheets",),
    "tent": ("sleeping_bag", "camping_lantern"),
    "sleeping_bag": ("camping_lantern", "tent"),
    "camping_lantern": ("tent", "sleeping_bag"),
    "running_shoes": ("running_socks", "water_bottle", "smartwatch"),
    "running_socks": ("running_shoes",),
    "water_bottle": ("running_shoes", "yoga_mat"),
    "yoga_mat": ("yoga_block", "water_bottle"),
    "yoga_block": ("yoga_mat",),
    "shampoo": ("conditioner",),
    "conditioner": ("shampoo",),
    "moisturizer": ("cleanser", "sunscreen"),
    "cleanser": ("moisturizer", "makeup_remover"),
    "sunscreen": ("moisturizer", "sunglasses"),
    "lipstick": ("makeup_remover", "perfume"),
    "makeup_remover": ("lipstick", "cleanser"),
    "perfume": ("lipstick",),
    "cookbook": ("chef_knife", "frying_pan"),
    "mystery_novel": ("reading_light", "scifi_novel"),
    "scifi_novel": ("reading_light", "mystery_novel"),
    "picture_book": ("plush_toy", "reading_light"),
    "travel_guide": ("backpack", "journal"),
    "reading_light": ("mystery_novel", "scifi_novel"),
    "journal": ("travel_guide", "reading_light"),
    "building_blocks": ("storage_bin",),
    "storage_bin": ("building_blocks", "plush_toy"),
    "jigsaw_puzzle": ("puzzle_mat",),
    "puzzle_mat": ("jigsaw_puzzle",),
    "board_game": ("card_game",),
    "card_game": ("board_game",),
    "rc_car": ("building_blocks",),
    "plush_toy": ("picture_book", "storage_bin"),
    "tshirt": ("jeans", "sneakers"),
    "jeans": ("belt", "tshirt"),
    "belt": ("jeans",),
    "sneakers": ("tshirt", "jeans"),
    "backpack": ("laptop_sleeve", "water_bottle"),
    "rain_jacket": ("umbrella",),
    "umbrella": ("rain_jacket",),
    "sunglasses": ("sunscreen",),
    "coffee_beans": ("coffee_filters", "coffee_maker", "coffee_mug"),
    "coffee_filters": ("coffee_beans", "coffee_maker"),
    "green_tea": ("honey",),
    "honey": ("green_tea", "granola"),
    "pasta": ("pasta_sauce",),
    "pasta_sauce": ("pasta",),
    "chocolate": ("coffee_beans",),
    "granola": ("honey",),
}


def select_types(types_per_department: int) -> tuple[ProductType, ...]:
    """The first ``types_per_department`` types of every department, so small worlds stay dense.

    Each department lists its types so that the first ones complement each other, which keeps
    the planted complement graph connected in every world size.
    """
    return tuple(t for d in DEPARTMENTS for t in d.types[:types_per_department])


def department_of(type_key: str) -> int:
    """Index into ``DEPARTMENTS`` of the department that owns a product type."""
    for index, department in enumerate(DEPARTMENTS):
        if any(t.key == type_key for t in department.types):
            return index
    raise KeyError(f"unknown product type {type_key!r}; see rtrec.data.world.taxonomy")
