"""The generator's reference data: the files in this package and their reader.

Tables are CSV (one row per county city, category, vendor, curated product, product
style, chain, bottle size); the word lists that names are made from are one JSON file,
``names.json``. They are data rather than code so that a county, a product or a chain
can be added without reading the generator; each file is read once per process.

Row order is part of the data wherever the generator draws from a table: the
catalog is built by one seeded ``random.Random`` walking these rows in file order, so
reordering rows (or the word lists) changes the generated stores, items and sales
(``tests/unit/test_generator.py`` pins them). In particular:

* ``counties.csv``: counties in alphabetical order (their Iowa county numbers), each
  county's seat first;
* ``products.csv``: curated best sellers, most popular first (the popularity ranks);
* ``bottle_sizes.csv``: 750 ml, the size every generated product has, then the extra
  sizes in the order they are drawn; ``packs`` lists the usual pack first;
* ``chains.csv``: ``name_patterns`` separated by ``" | "``; a chain without patterns
  (``independent``) is named from ``names.json``.

Dollar amounts here (``cost_750``, the categories' cost ranges) are parameters of a
random price model, read as floats as the model always drew them; prices themselves
are whole cents from the catalog on.
"""

from __future__ import annotations

import csv
import functools
import io
import json
from importlib.resources import files
from typing import NamedTuple

__all__ = [
    "BottleSize",
    "CategorySpec",
    "Chain",
    "City",
    "County",
    "Names",
    "Product",
    "RealVendor",
    "bottle_sizes",
    "categories",
    "chains",
    "counties",
    "names",
    "products",
    "real_vendors",
    "styles",
]


class City(NamedTuple):
    name: str
    zip_code: str
    latitude: float
    longitude: float


class County(NamedTuple):
    name: str
    population: int  # thousands
    cities: tuple[City, ...]  # the county seat first


class CategorySpec(NamedTuple):
    id: int
    name: str
    family: str  # products of one brand stay within a family ("whiskey", "vodka", ...)
    cost_750: tuple[float, float]  # range of a 750 ml bottle's state cost, dollars
    brand_weight: float  # how often generated brands fall in this category


class RealVendor(NamedTuple):
    number: int
    name: str
    brand_share: float  # relative share of the generated brands


class Product(NamedTuple):
    description: str
    vendor: str
    category: int
    cost_750: float  # state cost of a 750 ml bottle, dollars
    sizes: tuple[int, ...]  # bottle sizes, ml


class BottleSize(NamedTuple):
    volume_ml: int
    share: float  # a product's sales split over its sizes by this
    cost_factor: float  # bottle cost relative to 750 ml
    packs: tuple[int, ...]  # bottles per case, the usual one first
    extra_weight: float | None  # weight as an extra size of generated products


class Chain(NamedTuple):
    name: str
    share: float  # share of the stores in a county that can have this chain
    min_county_population: int  # thousands
    size: float  # relative sales of one of its stores
    numbers: tuple[int, int]  # range of its store numbers (in store names)
    name_patterns: tuple[str, ...]  # str.format patterns with {n} and {city}


class Names(NamedTuple):
    brand_first: tuple[str, ...]
    brand_second: tuple[str, ...]
    surnames: tuple[str, ...]
    vendor_suffixes: tuple[str, ...]
    independent_stores: tuple[str, ...]
    independent_store_patterns: tuple[str, ...]  # with {city}, {surname}, {word}, {n}
    streets: tuple[str, ...]


def _rows(name: str) -> list[dict[str, str]]:
    text = files(__name__).joinpath(name).read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text)))


def _ints(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split())


@functools.cache
def counties() -> tuple[County, ...]:
    grouped: dict[str, tuple[int, list[City]]] = {}
    for row in _rows("counties.csv"):
        city = City(row["city"], row["zip_code"], float(row["latitude"]),
                    float(row["longitude"]))
        grouped.setdefault(row["county"], (int(row["population_thousands"]), []))[1].append(city)
    return tuple(County(name, population, tuple(cities))
                 for name, (population, cities) in grouped.items())


@functools.cache
def categories() -> tuple[CategorySpec, ...]:
    return tuple(CategorySpec(int(row["id"]), row["name"], row["family"],
                              (float(row["cost_750_low"]), float(row["cost_750_high"])),
                              float(row["brand_weight"]))
                 for row in _rows("categories.csv"))


@functools.cache
def real_vendors() -> tuple[RealVendor, ...]:
    return tuple(RealVendor(int(row["number"]), row["name"], float(row["brand_share"]))
                 for row in _rows("vendors.csv"))


@functools.cache
def products() -> tuple[Product, ...]:
    return tuple(Product(row["description"], row["vendor"], int(row["category"]),
                         float(row["cost_750"]), _ints(row["sizes_ml"]))
                 for row in _rows("products.csv"))


@functools.cache
def styles() -> dict[int, tuple[str, ...]]:
    """Category id -> the style words of generated products ("<BRAND> <STYLE>")."""
    grouped: dict[int, list[str]] = {}
    for row in _rows("styles.csv"):
        grouped.setdefault(int(row["category"]), []).append(row["style"])
    return {category: tuple(words) for category, words in grouped.items()}


@functools.cache
def bottle_sizes() -> tuple[BottleSize, ...]:
    return tuple(BottleSize(int(row["volume_ml"]), float(row["share"]),
                            float(row["cost_factor"]), _ints(row["packs"]),
                            float(row["extra_size_weight"]) if row["extra_size_weight"] else None)
                 for row in _rows("bottle_sizes.csv"))


@functools.cache
def chains() -> tuple[Chain, ...]:
    return tuple(Chain(row["chain"], float(row["share"]), int(row["min_county_population"]),
                       float(row["size"]),
                       (int(row["first_number"] or 0), int(row["last_number"] or 0)),
                       tuple(row["name_patterns"].split(" | ")) if row["name_patterns"] else ())
                 for row in _rows("chains.csv"))


@functools.cache
def names() -> Names:
    data = json.loads(files(__name__).joinpath("names.json").read_text(encoding="utf-8"))
    return Names(**{field: tuple(data[field]) for field in Names._fields})
