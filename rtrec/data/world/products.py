"""The sample world's catalogue vocabulary: departments, their brands and product types."""

from __future__ import annotations

from dataclasses import dataclass

COLOURS = ("Black", "White", "Silver", "Navy Blue", "Red", "Forest Green", "Grey", "Beige")
APPAREL_FITS = ("a regular fit", "a relaxed fit", "a tailored fit", "an athletic fit")


@dataclass(frozen=True)
class ProductType:
    """One kind of product; items of a type share a noun, a category path and attribute lists.

    ``variants`` are short words a shopper types into search (colour, roast, genre);
    ``specs`` are description phrases; ``features`` are title adjectives; ``use`` says what the
    product is for, so that a sentence encoder can relate complements through their text.
    """

    key: str
    noun: str
    category: str
    variants: tuple[str, ...]
    specs: tuple[str, ...]
    features: tuple[str, ...]
    use: str


@dataclass(frozen=True)
class Department:
    """A top-level department with its invented brands and product types (most central first)."""

    name: str
    brands: tuple[str, ...]
    types: tuple[ProductType, ...]


def _t(key: str, noun: str, category: str, variants, specs, features, use: str) -> ProductType:
    return ProductType(key, noun, category, tuple(variants), tuple(specs), tuple(features), use)


# fmt: off
DEPARTMENTS: tuple[Department, ...] = (
    Department("Electronics", ("Nordvik", "Voltera", "Kestrel", "Lumio", "Brightwave", "Ardent"), (
        _t("smartphone", "Smartphone", "Electronics|Phones|Smartphones", COLOURS,
           ("128GB of storage", "256GB of storage", "a 6.1-inch OLED display"),
           ("5G", "Dual-Camera", "Compact"), "everyday calls, photos and streaming on the go"),
        _t("phone_case", "Phone Case", "Electronics|Phones|Cases", COLOURS,
           ("a soft silicone shell", "a rugged polycarbonate frame", "a vegan leather back"),
           ("Slim", "Shockproof", "MagSafe-Compatible"), "protecting a smartphone from drops"),
        _t("phone_charger", "Phone Charger", "Electronics|Phones|Chargers", ("White", "Black"),
           ("20W output", "30W fast charging", "a braided USB-C cable"),
           ("Fast", "Wireless", "Dual-Port"), "charging a smartphone, earbuds or smartwatch"),
        _t("headphones", "Wireless Headphones", "Electronics|Audio|Headphones", COLOURS,
           ("30-hour battery life", "plush memory-foam ear cushions", "a foldable design"),
           ("Noise-Cancelling", "Over-Ear", "Sport"), "music, calls and focus while commuting"),
        _t("laptop", "Laptop", "Electronics|Computers|Laptops", ("Silver", "Grey", "Black"),
           ("a 14-inch display", "16GB of memory", "a 1TB SSD"),
           ("Ultralight", "Gaming", "Business"), "work, study and creative projects"),
        _t("laptop_sleeve", "Laptop Sleeve", "Electronics|Computers|Accessories|Sleeves", COLOURS,
           ("a padded neoprene lining", "a water-resistant felt shell", "a zip front pocket"),
           ("Slim", "Padded", "Water-Resistant"), "carrying a laptop safely in a bag"),
        _t("wireless_mouse", "Wireless Mouse", "Electronics|Computers|Accessories|Mice", COLOURS,
           ("a silent click", "a rechargeable battery", "Bluetooth and USB receiver"),
           ("Ergonomic", "Compact", "Silent"), "comfortable work at a laptop or desk"),
        _t("smartwatch", "Smartwatch", "Electronics|Wearables|Smartwatches", COLOURS,
           ("heart-rate and sleep tracking", "built-in GPS", "a week of battery life"),
           ("Fitness", "Classic", "Rugged"), "tracking workouts, sleep and notifications"),
    )),
    Department("Home & Kitchen", ("Hearthly", "Copperleaf", "Maison Ora", "Tidewell", "Oakhaven"), (
        _t("coffee_maker", "Coffee Maker", "Home & Kitchen|Kitchen|Coffee Makers",
           ("Black", "Silver", "White"), ("a 12-cup glass carafe", "a built-in grinder",
           "a programmable timer"), ("Drip", "Espresso", "Pour-Over"), "brewing coffee at home"),
        _t("coffee_mug", "Coffee Mug", "Home & Kitchen|Kitchen|Mugs", COLOURS,
           ("a 350 ml stoneware body", "a double-walled insulated body", "a comfortable handle"),
           ("Ceramic", "Insulated", "Handmade"), "enjoying coffee or tea"),
        _t("chef_knife", "Chef's Knife", "Home & Kitchen|Kitchen|Knives", ("Black", "Silver"),
           ("a 20 cm high-carbon steel blade", "a pakkawood handle", "a full tang"),
           ("Japanese", "Forged", "Damascus"), "slicing, dicing and chopping in the kitchen"),
        _t("cutting_board", "Cutting Board", "Home & Kitchen|Kitchen|Cutting Boards",
           ("Natural", "Walnut", "White"), ("end-grain acacia wood", "a juice groove",
           "non-slip feet"), ("Bamboo", "Wooden", "Reversible"), "chopping vegetables and meat"),
        _t("frying_pan", "Frying Pan", "Home & Kitchen|Cookware|Pans", ("Black", "Grey"),
           ("a 28 cm cooking surface", "an induction-ready base", "a stay-cool handle"),
           ("Non-Stick", "Cast Iron", "Stainless Steel"), "frying eggs, searing and sauteing"),
        _t("spatula", "Spatula Set", "Home & Kitchen|Cookware|Utensils", COLOURS,
           ("heat-resistant silicone heads", "three sizes", "a dishwasher-safe finish"),
           ("Silicone", "Flexible", "Wooden"), "flipping and stirring in non-stick pans"),
        _t("bed_sheets", "Bed Sheet Set", "Home & Kitchen|Bedroom|Sheets", COLOURS,
           ("400 thread count", "deep elastic pockets", "two pillowcases"),
           ("Cotton Sateen", "Linen", "Flannel"), "a soft, cool night's sleep"),
        _t("pillow", "Bed Pillow", "Home & Kitchen|Bedroom|Pillows", ("White", "Grey"),
           ("a removable washable cover", "adjustable fill", "a cooling gel layer"),
           ("Memory Foam", "Down-Alternative", "Side-Sleeper"), "neck support while sleeping"),
    )),
    Department("Sports & Outdoors", ("Summitline", "Trailmark", "Pacefield", "Aldercrest",
                                     "Zephra"), (
        _t("tent", "Camping Tent", "Sports & Outdoors|Camping|Tents", ("Green", "Orange", "Grey"),
           ("room for two people", "room for four people", "a waterproof rainfly"),
           ("Lightweight", "Pop-Up", "Backpacking"), "camping trips and festivals"),
        _t("sleeping_bag", "Sleeping Bag", "Sports & Outdoors|Camping|Sleeping Bags",
           ("Blue", "Green", "Red"), ("a comfort rating of 5 degrees", "a compression sack",
           "a mummy hood"), ("Down", "Three-Season", "Ultralight"), "warm nights in a tent"),
        _t("running_shoes", "Running Shoes", "Sports & Outdoors|Running|Shoes", COLOURS,
           ("a cushioned foam midsole", "a breathable mesh upper", "a grippy outsole"),
           ("Trail", "Road", "Lightweight"), "daily runs, races and training"),
        _t("running_socks", "Running Socks", "Sports & Outdoors|Running|Socks", COLOURS,
           ("merino wool blend", "arch compression", "a blister-free seamless toe"),
           ("Cushioned", "Ankle", "Compression"), "comfortable feet on long runs"),
        _t("camping_lantern", "Camping Lantern", "Sports & Outdoors|Camping|Lighting",
           ("Black", "Orange"), ("500 lumens", "a USB rechargeable battery", "a hanging hook"),
           ("LED", "Solar", "Collapsible"), "lighting up the campsite or tent at night"),
        _t("water_bottle", "Water Bottle", "Sports & Outdoors|Hydration|Bottles", COLOURS,
           ("a 750 ml capacity", "a leak-proof lid", "double-wall vacuum insulation"),
           ("Insulated", "Stainless Steel", "Sport"), "staying hydrated at the gym or on trails"),
        _t("yoga_mat", "Yoga Mat", "Sports & Outdoors|Fitness|Yoga", COLOURS,
           ("6 mm of cushioning", "a non-slip natural rubber surface", "a carry strap"),
           ("Eco-Friendly", "Extra-Thick", "Travel"), "yoga, pilates and stretching at home"),
        _t("yoga_block", "Yoga Block", "Sports & Outdoors|Fitness|Yoga", COLOURS,
           ("high-density EVA foam", "bevelled edges", "a set of two"),
           ("Cork", "Foam", "Bamboo"), "support and alignment in yoga poses"),
    )),
    Department("Beauty", ("Lumiere Botanica", "Velvra", "Oat & Opal", "Clarisse", "Noema"), (
        _t("shampoo", "Shampoo", "Beauty|Hair Care|Shampoo", ("Argan", "Tea Tree", "Lavender"),
           ("a sulfate-free formula", "a 500 ml bottle", "a salon-grade blend"),
           ("Moisturising", "Volumising", "Clarifying"), "clean, healthy hair every day"),
        _t("conditioner", "Conditioner", "Beauty|Hair Care|Conditioner",
           ("Argan", "Coconut", "Lavender"), ("a silicone-free formula", "a 500 ml bottle",
           "shea butter"), ("Repairing", "Smoothing", "Leave-In"), "soft, detangled hair"),
        _t("moisturizer", "Face Moisturizer", "Beauty|Skin Care|Moisturizers",
           ("Unscented", "Rose", "Aloe"), ("hyaluronic acid", "SPF 15", "ceramides"),
           ("Hydrating", "Oil-Free", "Night"), "hydrated, smooth skin"),
        _t("cleanser", "Facial Cleanser", "Beauty|Skin Care|Cleansers", ("Unscented", "Green Tea"),
           ("a gentle foaming gel", "salicylic acid", "a pH-balanced formula"),
           ("Gentle", "Exfoliating", "Foaming"), "washing away make-up and oil"),
        _t("sunscreen", "Sunscreen", "Beauty|Skin Care|Sun Care", ("Unscented", "Coconut"),
           ("SPF 50 broad-spectrum protection", "a water-resistant finish", "mineral filters"),
           ("Mineral", "Sport", "Tinted"), "protecting skin from the sun outdoors"),
        _t("makeup_remover", "Make-Up Remover", "Beauty|Make-Up|Removers", ("Unscented", "Rose"),
           ("micellar water", "a gentle oil blend", "reusable cotton pads"),
           ("Micellar", "Waterproof", "Sensitive-Skin"), "removing make-up and lipstick"),
        _t("lipstick", "Lipstick", "Beauty|Make-Up|Lips", ("Ruby Red", "Nude", "Berry", "Coral"),
           ("a satin finish", "a long-wear formula", "nourishing vitamin E"),
           ("Matte", "Creamy", "Long-Lasting"), "bold or natural everyday lip colour"),
        _t("perfume", "Eau de Parfum", "Beauty|Fragrance|Perfume", ("Floral", "Woody", "Citrus"),
           ("a 50 ml bottle", "notes of bergamot and cedar", "a long-lasting trail"),
           ("Signature", "Fresh", "Evening"), "a signature scent for day or night"),
    )),
    Department("Books", ("Inkwell House", "Harbourlight Press", "Quillstone", "Paperfox"), (
        _t("cookbook", "Cookbook", "Books|Food & Drink|Cookbooks", ("Hardcover", "Paperback"),
           ("100 weeknight recipes", "step-by-step photos", "seasonal menus"),
           ("Italian", "Vegetarian", "Baking"), "home cooks who want to try new dishes"),
        _t("mystery_novel", "Mystery Novel", "Books|Fiction|Mystery", ("Hardcover", "Paperback"),
           ("a twisting plot", "a small-town detective", "a locked-room puzzle"),
           ("Cozy", "Nordic Noir", "Bestselling"), "readers who love a whodunit"),
        _t("reading_light", "Book Reading Light", "Books|Accessories|Reading Lights",
           ("Black", "White"), ("warm amber LEDs", "a clip-on arm", "a rechargeable battery"),
           ("Clip-On", "Rechargeable", "Neck"), "reading books in bed at night"),
        _t("scifi_novel", "Science Fiction Novel", "Books|Fiction|Science Fiction",
           ("Hardcover", "Paperback"), ("a far-future space voyage", "first contact",
           "a sweeping galactic empire"), ("Epic", "Award-Winning", "Cyberpunk"),
           "readers who love space adventures"),
        _t("picture_book", "Children's Picture Book", "Books|Children|Picture Books",
           ("Hardcover", "Board Book"), ("bright illustrations", "rhyming text",
           "a bedtime story"), ("Illustrated", "Bedtime", "Animal"), "reading aloud to kids"),
        _t("journal", "Notebook Journal", "Books|Stationery|Journals", COLOURS,
           ("200 dotted pages", "a lay-flat binding", "a ribbon bookmark"),
           ("Leather", "Dotted", "Lined"), "writing notes, plans and ideas"),
        _t("travel_guide", "Travel Guide", "Books|Travel|Guides", ("Paperback", "Pocket"),
           ("fold-out maps", "walking itineraries", "local food tips"),
           ("Italy", "Japan", "Iceland"), "planning a trip abroad"),
    )),
    Department("Toys & Games", ("Brickly", "Tinker Tails", "Playmoor", "Gigglebox", "Wonderkin"), (
        _t("board_game", "Board Game", "Toys & Games|Games|Board Games",
           ("Strategy", "Party", "Cooperative"), ("2 to 6 players", "a 60-minute playtime",
           "wooden pieces"), ("Family", "Award-Winning", "Classic"), "game night with friends"),
        _t("card_game", "Card Game", "Toys & Games|Games|Card Games", ("Party", "Strategy"),
           ("a 110-card deck", "quick 15-minute rounds", "a travel tin"),
           ("Family", "Pocket", "Word"), "quick games at home or travelling"),
        _t("jigsaw_puzzle", "Jigsaw Puzzle", "Toys & Games|Puzzles|Jigsaws",
           ("Landscape", "Animals", "Art"), ("1000 pieces", "500 pieces", "a poster guide"),
           ("Challenging", "Family", "Panoramic"), "a relaxing afternoon puzzle"),
        _t("puzzle_mat", "Puzzle Mat", "Toys & Games|Puzzles|Accessories", ("Green", "Grey"),
           ("a roll-up felt surface", "an inflatable tube", "a drawstring bag"),
           ("Roll-Up", "Portable", "Felt"), "storing unfinished jigsaw puzzles"),
        _t("building_blocks", "Building Blocks Set", "Toys & Games|Construction|Blocks",
           ("Classic", "City", "Space"), ("500 pieces", "a storage box", "an idea booklet"),
           ("Creative", "Starter", "Deluxe"), "kids building cities, spaceships and more"),
        _t("storage_bin", "Toy Storage Bin", "Toys & Games|Storage|Bins", COLOURS,
           ("a collapsible frame", "sturdy handles", "a lid"),
           ("Fabric", "Stackable", "Large"), "tidying toys and building blocks"),
        _t("rc_car", "Remote Control Car", "Toys & Games|Vehicles|RC Cars", COLOURS,
           ("off-road tyres", "a 2.4 GHz remote", "speeds up to 25 km/h"),
           ("Off-Road", "Racing", "Stunt"), "racing outdoors with friends"),
        _t("plush_toy", "Plush Toy", "Toys & Games|Soft Toys|Plush", ("Bear", "Bunny", "Fox"),
           ("super-soft fabric", "embroidered eyes", "a washable body"),
           ("Cuddly", "Giant", "Mini"), "cuddles and bedtime comfort"),
    )),
    Department("Fashion", ("Marlow & Finch", "Urbanloom", "Driftwear", "Sable Row", "Kinfolk Co"), (
        _t("tshirt", "T-Shirt", "Fashion|Clothing|T-Shirts", COLOURS, APPAREL_FITS,
           ("Organic Cotton", "Crew-Neck", "Oversized"), "casual everyday wear"),
        _t("jeans", "Jeans", "Fashion|Clothing|Jeans", ("Indigo", "Black", "Light Wash"),
           APPAREL_FITS, ("Slim-Fit", "Straight-Leg", "Stretch"), "casual outfits all year"),
        _t("sneakers", "Sneakers", "Fashion|Shoes|Sneakers", COLOURS,
           ("a cushioned insole", "a vulcanised rubber sole", "a suede upper"),
           ("Low-Top", "High-Top", "Retro"), "streetwear and casual outfits"),
        _t("belt", "Belt", "Fashion|Accessories|Belts", ("Black", "Brown", "Tan"),
           ("a brushed metal buckle", "full-grain leather", "a reversible strap"),
           ("Leather", "Canvas", "Braided"), "holding up jeans and trousers in style"),
        _t("rain_jacket", "Rain Jacket", "Fashion|Clothing|Outerwear", COLOURS, APPAREL_FITS,
           ("Waterproof", "Packable", "Hooded"), "staying dry in wind and rain"),
        _t("umbrella", "Umbrella", "Fashion|Accessories|Umbrellas", COLOURS,
           ("a windproof frame", "an auto-open button", "a compact sleeve"),
           ("Compact", "Golf", "Windproof"), "staying dry on rainy days"),
        _t("backpack", "Backpack", "Fashion|Bags|Backpacks", COLOURS,
           ("a padded 15-inch laptop compartment", "a 25 litre capacity", "hidden pockets"),
           ("Waterproof", "Rolltop", "Everyday"), "commuting, school and weekend trips"),
        _t("sunglasses", "Sunglasses", "Fashion|Accessories|Sunglasses", ("Black", "Tortoise"),
           ("polarised lenses", "UV400 protection", "a hard case"),
           ("Aviator", "Round", "Wayfarer"), "sunny days and driving"),
    )),
    Department("Grocery", ("Bramblewood", "Golden Acre", "Saltmarsh", "Verdant Table"), (
        _t("coffee_beans", "Coffee Beans", "Grocery|Beverages|Coffee",
           ("Dark Roast", "Medium Roast", "Espresso Roast"), ("a 1 kg bag", "notes of cocoa",
           "single-origin Arabica"), ("Organic", "Fair Trade", "Whole Bean"),
           "brewing in a coffee maker or espresso machine"),
        _t("coffee_filters", "Coffee Filters", "Grocery|Beverages|Coffee Accessories",
           ("Unbleached", "White"), ("a pack of 200", "size 4 cones", "compostable paper"),
           ("Paper", "Cone", "Basket"), "drip and pour-over coffee makers"),
        _t("pasta", "Pasta", "Grocery|Pantry|Pasta", ("Spaghetti", "Penne", "Fusilli"),
           ("durum wheat semolina", "a 500 g pack", "bronze-cut texture"),
           ("Italian", "Whole Wheat", "Gluten-Free"), "quick Italian dinners"),
        _t("pasta_sauce", "Pasta Sauce", "Grocery|Pantry|Sauces", ("Marinara", "Arrabbiata",
           "Basil Pesto"), ("ripe tomatoes", "a 680 g jar", "extra virgin olive oil"),
           ("Organic", "Slow-Cooked", "Classic"), "topping pasta on busy weeknights"),
        _t("green_tea", "Green Tea", "Grocery|Beverages|Tea", ("Jasmine", "Sencha", "Matcha"),
           ("40 tea bags", "loose leaf", "a resealable tin"), ("Organic", "Japanese", "Decaf"),
           "a calm cup of tea in the afternoon"),
        _t("honey", "Honey", "Grocery|Pantry|Spreads", ("Wildflower", "Manuka", "Clover"),
           ("a 500 g jar", "raw unfiltered honey", "a squeeze bottle"),
           ("Raw", "Organic", "Creamed"), "sweetening tea, yoghurt and toast"),
        _t("chocolate", "Dark Chocolate Bar", "Grocery|Snacks|Chocolate",
           ("Sea Salt", "Orange", "Almond"), ("70 percent cocoa", "a 100 g bar", "fair trade"
           " cocoa beans"), ("Organic", "Single-Origin", "Vegan"), "an indulgent snack"),
        _t("granola", "Granola", "Grocery|Breakfast|Cereal", ("Honey Almond", "Berry", "Cocoa"),
           ("whole rolled oats", "a 500 g bag", "no added sugar"),
           ("Crunchy", "Protein", "Gluten-Free"), "breakfast with yoghurt or milk"),
    )),
)
# fmt: on
