"""The generator's catalog: stores, vendors, categories and items, the same for every seed.

Built once per process from the reference data (``oaken.sources.reference``) by one
``random.Random(CATALOG_SEED)``, so every seed of the sales sells from the same stores
and items, as a real distributor's history does.

* Stores: ``N_STORES`` over the 99 counties, per county in proportion to population
  (``MIN_STORES_PER_COUNTY`` at least). Names follow Iowa chains ("Hy-Vee Food Store #3
  / Ames") or independents; store numbers are unique. Each store has the sales rep
  (``employee_id`` 1..12) of its territory: a 4 x 3 grid over the state.
* Vendors: the real Iowa vendors of the reference data plus generated ones ("<NAME>
  DISTILLING CO").
* Items: the curated products, then generated "<BRAND> <STYLE>" products; as in the
  Iowa data every bottle size is its own item with the same description. Pack follows
  bottle size; state bottle cost is whole cents, retail is cost x 1.5 rounded half-up.
* Popularity is Zipf-like: products are ranked (the curated best sellers first,
  generated ones in a category-weighted random order) and split over their sizes.
  Stores have log-normal sizes (supermarkets larger than convenience stores).
"""

from __future__ import annotations

import functools
import math
import random
from dataclasses import dataclass, replace
from typing import NamedTuple

from oaken.sources import reference
from oaken.sources.reference import BottleSize, Chain, City

__all__ = [
    "CATALOG_SEED",
    "Catalog",
    "Category",
    "Item",
    "Store",
    "Vendor",
    "catalog",
    "format_cents",
    "retail_cents",
]

CATALOG_SEED = 20_240_101
N_STORES = 1500
MIN_STORES_PER_COUNTY = 4
N_GENERATED_VENDORS = 300
N_ITEMS = 3600  # at least this many items; the last generated brand may add a few
ZIPF_OFFSET, ZIPF_EXPONENT = 3.0, 1.05  # Zipf-Mandelbrot: weight = (rank + 3) ** -1.05


@dataclass(frozen=True, slots=True)
class Store:
    number: int
    name: str
    address: str
    city: str
    zip_code: str
    location: str
    county_number: int
    county: str
    employee_id: int
    weight: float


@dataclass(frozen=True, slots=True)
class Vendor:
    number: int
    name: str


@dataclass(frozen=True, slots=True)
class Category:
    id: int
    name: str


@dataclass(frozen=True, slots=True)
class Item:
    number: int
    description: str
    category: Category
    vendor: Vendor
    pack: int
    volume_ml: int
    cost_cents: int
    weight: float


@dataclass(frozen=True)
class Catalog:
    stores: tuple[Store, ...]
    vendors: tuple[Vendor, ...]
    categories: tuple[Category, ...]
    items: tuple[Item, ...]


def retail_cents(cost_cents: int) -> int:
    """State bottle retail: cost x 1.5, rounded half-up to the cent."""
    return (3 * cost_cents + 1) // 2


def format_cents(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


# ---------------------------------------------------------------------------------------
# Stores
# ---------------------------------------------------------------------------------------


def _largest_remainder(total: int, weights: list[float]) -> list[int]:
    scale = total / sum(weights)
    raw = [w * scale for w in weights]
    counts = [int(x) for x in raw]
    order = sorted(range(len(raw)), key=lambda i: counts[i] - raw[i])
    for i in order[: total - sum(counts)]:
        counts[i] += 1
    return counts


def _territory(lat: float, lon: float) -> int:
    """Sales rep 1..12: a 4 (west-east) x 3 (north-south) grid over Iowa."""
    col = min(3, max(0, int((lon + 96.64) / (96.64 - 90.14) * 4)))
    row = min(2, max(0, int((43.50 - lat) / (43.50 - 40.38) * 3)))
    return 1 + row * 4 + col


def _store_name(rnd: random.Random, chain: Chain, city: str, used: set[str]) -> str:
    """A store name not used before: a chain's numbered store or an independent."""
    words = reference.names()
    while True:
        if chain.name_patterns:
            first, last = chain.numbers
            name = rnd.choice(chain.name_patterns).format(n=rnd.randint(first, last), city=city)
        else:
            fixed = [n for n in words.independent_stores if n not in used]
            if fixed and rnd.random() < 0.05:
                name = fixed[0]
            else:
                name = rnd.choice(words.independent_store_patterns).format(
                    city=city, surname=rnd.choice(words.surnames).title(), n=rnd.randint(1, 99),
                    word=rnd.choice(words.brand_first).title())
        if name not in used:
            used.add(name)
            return name


def _build_stores(rnd: random.Random) -> tuple[Store, ...]:
    counties = reference.counties()
    extra = _largest_remainder(N_STORES - MIN_STORES_PER_COUNTY * len(counties),
                               [float(c.population) for c in counties])
    numbers = rnd.sample(range(2000, 10001), N_STORES)
    streets = reference.names().streets
    used_names: set[str] = set()
    stores: list[Store] = []
    for county_number, (county, count) in enumerate(zip(counties, extra, strict=True), start=1):
        chains = [c for c in reference.chains() if county.population >= c.min_county_population]
        shares = [c.share for c in chains]
        city_weights = [2.0] + [1.0] * (len(county.cities) - 1)  # the county seat twice
        for _ in range(MIN_STORES_PER_COUNTY + count):
            chain = rnd.choices(chains, shares)[0]
            city: City = rnd.choices(county.cities, city_weights)[0]
            lat = city.latitude + rnd.uniform(-0.03, 0.03)
            lon = city.longitude + rnd.uniform(-0.03, 0.03)
            location = "" if rnd.random() < 0.05 else f"POINT ({lon:.6f} {lat:.6f})"
            address = f"{rnd.randint(100, 9999)} {rnd.choice(streets)}"
            stores.append(Store(
                number=numbers[len(stores)],
                name=_store_name(rnd, chain, city.name, used_names),
                address=address, city=city.name.upper(), zip_code=city.zip_code,
                location=location, county_number=county_number, county=county.name.upper(),
                employee_id=_territory(lat, lon),
                weight=chain.size * math.exp(rnd.gauss(0.0, 0.6)),
            ))
    return tuple(stores)


# ---------------------------------------------------------------------------------------
# Vendors and items
# ---------------------------------------------------------------------------------------


class _Product(NamedTuple):
    """A product before its sizes become items."""

    description: str
    category: Category
    vendor: Vendor
    cost_750: float
    sizes: tuple[int, ...]


def _build_vendors(rnd: random.Random) -> list[tuple[Vendor, float]]:
    """Vendors with their share of the generated brands."""
    real = reference.real_vendors()
    vendors = [(Vendor(v.number, v.name), v.brand_share) for v in real]
    used_numbers = {v.number for v, _ in vendors}
    used_names = {v.name for v, _ in vendors}
    free_numbers = [n for n in range(1, 1300) if n not in used_numbers]
    numbers = rnd.sample(free_numbers, N_GENERATED_VENDORS)
    cities = [city.name.upper() for county in reference.counties() for city in county.cities]
    words = reference.names()
    while len(vendors) < len(real) + N_GENERATED_VENDORS:
        head = rnd.choice(words.surnames) if rnd.random() < 0.6 else rnd.choice(cities)
        name = f"{head} {rnd.choice(words.vendor_suffixes)}"
        if name not in used_names:
            used_names.add(name)
            share = 0.4 * math.exp(rnd.gauss(0.0, 0.7))
            vendors.append((Vendor(numbers[len(vendors) - len(real)], name), share))
    return vendors


def _cost_cents(cost_750: float, size: BottleSize, rnd: random.Random) -> int:
    dollars = cost_750 * size.cost_factor * rnd.uniform(0.95, 1.05)
    return max(49, round(dollars * 100))


def _product_items(rnd: random.Random, product: _Product, product_weight: float) -> list[Item]:
    """One item per bottle size; the product's popularity split over them."""
    sizes = {s.volume_ml: s for s in reference.bottle_sizes()}
    share_total = sum(sizes[v].share for v in product.sizes)
    items = []
    for volume in product.sizes:
        size = sizes[volume]
        packs = size.packs
        pack = packs[0] if len(packs) == 1 or rnd.random() < 0.8 else packs[1]
        weight = product_weight * size.share / share_total * math.exp(rnd.gauss(0, 0.2))
        items.append(Item(0, product.description, product.category, product.vendor, pack,
                          volume, _cost_cents(product.cost_750, size, rnd), weight))
    return items


def _generated_products(rnd: random.Random, vendors: list[tuple[Vendor, float]],
                        category_of: dict[int, Category]) -> list[_Product]:
    specs = {c.id: c for c in reference.categories()}
    by_family: dict[str, list[int]] = {}
    for spec in specs.values():
        by_family.setdefault(spec.family, []).append(spec.id)
    family_weights = [sum(specs[c].brand_weight for c in ids) for ids in by_family.values()]
    curated = reference.products()
    curated_vendors = {p.vendor for p in curated}
    # every vendor without a curated product gets at least one generated brand
    owners = [v for v, _ in vendors if v.name not in curated_vendors]
    vendor_pool, vendor_weights = [v for v, _ in vendors], [s for _, s in vendors]
    extra_sizes = {s.volume_ml: s.extra_weight for s in reference.bottle_sizes()
                   if s.extra_weight is not None}
    extra_volumes, extra_weights = list(extra_sizes), list(extra_sizes.values())
    styles = reference.styles()
    words = reference.names()
    brands = [f"{a} {b}" for a in words.brand_first for b in words.brand_second]
    rnd.shuffle(brands)
    products: list[_Product] = []
    used = {p.description for p in curated}
    n_planned = sum(len(p.sizes) for p in curated)
    for brand in brands:
        if n_planned >= N_ITEMS and not owners:
            break
        vendor = owners.pop() if owners else rnd.choices(vendor_pool, vendor_weights)[0]
        family = rnd.choices(list(by_family), family_weights)[0]
        for _ in range(rnd.choices([1, 2, 3, 4], [0.45, 0.3, 0.15, 0.1])[0]):
            ids = by_family[family]
            cid = rnd.choices(ids, [specs[c].brand_weight for c in ids])[0]
            description = f"{brand} {rnd.choice(styles[cid])}"
            if description in used:
                continue
            used.add(description)
            extra = rnd.choices([0, 1, 2, 3, 4], [0.25, 0.35, 0.22, 0.12, 0.06])[0]
            sizes = {750}
            while len(sizes) < 1 + extra:
                sizes.add(rnd.choices(extra_volumes, extra_weights)[0])
            lo, hi = specs[cid].cost_750
            cost = math.exp(rnd.uniform(math.log(lo), math.log(hi)))
            products.append(_Product(description, category_of[cid], vendor, cost,
                                     tuple(sorted(sizes))))
            n_planned += len(sizes)
    return products


def _zipf(rank: int) -> float:
    """Popularity of the product ranked ``rank`` (1 = best seller)."""
    return (rank + ZIPF_OFFSET) ** -ZIPF_EXPONENT


def _build_items(rnd: random.Random, vendors: list[tuple[Vendor, float]],
                 category_of: dict[int, Category]) -> tuple[Item, ...]:
    by_name = {v.name: v for v, _ in vendors}
    brand_weight = {c.id: c.brand_weight for c in reference.categories()}
    generated = _generated_products(rnd, vendors, category_of)
    # weighted random order of generated products (exponential race on category weight)
    generated.sort(key=lambda p: -math.log(1.0 - rnd.random()) / brand_weight[p.category.id])
    curated = [_Product(p.description, category_of[p.category], by_name[p.vendor], p.cost_750,
                        p.sizes) for p in reference.products()]
    items: list[Item] = []
    for rank, product in enumerate(curated + generated, start=1):
        items += _product_items(rnd, product, _zipf(rank))
    numbers = rnd.sample(range(10_000, 1_000_000), len(items))
    return tuple(replace(it, number=n) for n, it in zip(numbers, items, strict=True))


@functools.cache
def catalog() -> Catalog:
    """The fixed reference data (stores, vendors, categories, items); same for every seed."""
    rnd = random.Random(CATALOG_SEED)
    categories = tuple(Category(c.id, c.name) for c in reference.categories())
    category_of = {c.id: c for c in categories}
    stores = _build_stores(rnd)
    vendors = _build_vendors(rnd)
    items = _build_items(rnd, vendors, category_of)
    return Catalog(stores, tuple(v for v, _ in vendors), categories, items)
