"""Deterministic, realistic synthetic Iowa-style liquor sales.

The model has two layers.

Catalog (fixed, the same for every seed, built once per process from ``CATALOG_SEED``)
    * ~1,500 stores over the 99 Iowa counties (``COUNTIES``: real names, numbers 1..99
      in alphabetical order, county seat plus a few real cities with zip codes and
      coordinates). Stores per county follow population (at least four each); names
      follow Iowa chains ("Hy-Vee Food Store #3 / Ames", "Casey's General Store #2811 /
      Ankeny", ...) or independents ("Liquor Depot", ...). Store numbers are unique in
      2000..10000. Each store has a sales rep (``EmployeeID`` 1..12) by territory: a
      4 x 3 grid over the state's longitude/latitude.
    * 300+ vendors: real Iowa vendors plus generated "<NAME> DISTILLING CO"-style ones.
    * 51 categories with Iowa category ids ("1011200 STRAIGHT BOURBON WHISKIES").
    * ~3,600 items: curated real products ("FIREBALL CINNAMON WHISKEY", ...) and
      generated "<BRAND> <STYLE>" products; as in the Iowa data every bottle size is its
      own item with the same description. Pack follows bottle size (50 ml come 48 to a
      case, 1.75 l six to a case). State bottle cost is in cents; retail is
      cost x 1.5 rounded half-up to the cent.
    * Popularity is Zipf-like: products are ranked (the curated best sellers first,
      generated ones in a category-weighted random order), weight = (rank + 3)^-1.05
      (Zipf-Mandelbrot), split over the product's sizes. Stores have log-normal sizes
      (supermarkets and liquor stores larger than convenience stores).

Sales (seeded with ``numpy.random.default_rng(seed)``, nothing else)
    * Rows per day = ``rows`` split proportionally to a daily weight: weekday
      (Mon-Thu high, Fri half, Sat ~6 %, Sun ~0.5 %), month, December (~+40 %, the
      week before Christmas highest, closed on Christmas Day; also New Year's Day,
      July 4th and Thanksgiving), the days before Thanksgiving and July 4th, a growth
      trend of +15 %/year and ~8 % log-normal noise. Cumulative rounding makes the
      total exactly ``rows``.
    * A day's rows are grouped into invoices of 1..12 lines; an invoice is one store on
      one date; invoice numbers increase (with gaps) over time; the line id is
      ``"INV-" + 8-digit invoice number + 5-digit line number``. Items within an
      invoice are distinct; bottles are mostly 1..12, sometimes one or two cases.
    * About 3 % of items get a price change (cost +~5 %) on a random day of the period;
      sales from that day on carry the new cost and retail.

Money is integer cents internally and formatted as ``"12.34"``; nothing goes through
float. Output strings for a given (item, price version, bottles) are built once and
cached, which keeps ``iter_sales`` fast (BENCHMARKS.md); ``write_sales`` skips the
dicts and joins pre-encoded CSV / JSON fragments (byte-identical to encoding the dicts).
"""

from __future__ import annotations

import csv
import functools
import io
import itertools
import math
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Literal

import numpy as np
import orjson

__all__ = [
    "CATEGORIES",
    "COMPACT_KEYS",
    "COUNTIES",
    "DEFAULT_END",
    "DEFAULT_START",
    "IOWA_CSV_HEADER",
    "Catalog",
    "catalog",
    "iter_sales",
    "write_sales",
]

DEFAULT_START = date(2024, 1, 1)
DEFAULT_END = date(2026, 10, 31)
CATALOG_SEED = 20_240_101

IOWA_CSV_HEADER: list[str] = [
    "Invoice/Item Number", "Date", "Store Number", "Store Name", "Address", "City",
    "Zip Code", "Store Location", "County Number", "County", "Category", "Category Name",
    "Vendor Number", "Vendor Name", "Item Number", "Item Description", "Pack",
    "Bottle Volume (ml)", "State Bottle Cost", "State Bottle Retail", "Bottles Sold",
    "Sale (Dollars)", "Volume Sold (Liters)", "Volume Sold (Gallons)",
]

COMPACT_KEYS: list[str] = [
    "Invoice", "Date", "StoreNumber", "StoreName", "Address", "City", "ZipCode",
    "CountyNumber", "County", "Category", "CategoryName", "VendorNumber", "VendorName",
    "ItemNumber", "ItemDescription", "Pack", "BottleVolumeML", "BottleCost",
    "BottleRetail", "BottlesSold", "SaleDollars", "VolumeSoldLiters", "EmployeeID", "State",
]

Style = Literal["iowa", "compact"]

# ---------------------------------------------------------------------------------------
# Reference data
# ---------------------------------------------------------------------------------------

City = tuple[str, str, float, float]  # name, zip code, latitude, longitude

# (county, population in thousands, cities: the county seat first)
COUNTIES: list[tuple[str, int, list[City]]] = [
    ("Adair", 7, [("Greenfield", "50849", 41.305, -94.461), ("Adair", "50002", 41.500, -94.643)]),
    ("Adams", 4, [("Corning", "50841", 40.990, -94.741)]),
    ("Allamakee", 14, [("Waukon", "52172", 43.269, -91.476),
                       ("Postville", "52162", 43.085, -91.568)]),
    ("Appanoose", 12, [("Centerville", "52544", 40.734, -92.874)]),
    ("Audubon", 6, [("Audubon", "50025", 41.718, -94.932)]),
    ("Benton", 26, [("Vinton", "52349", 42.169, -92.024),
                    ("Belle Plaine", "52208", 41.897, -92.278)]),
    ("Black Hawk", 131, [("Waterloo", "50701", 42.493, -92.343),
                         ("Cedar Falls", "50613", 42.528, -92.446),
                         ("Evansdale", "50707", 42.475, -92.281)]),
    ("Boone", 26, [("Boone", "50036", 42.060, -93.880)]),
    ("Bremer", 25, [("Waverly", "50677", 42.726, -92.476)]),
    ("Buchanan", 21, [("Independence", "50644", 42.469, -91.889)]),
    ("Buena Vista", 21, [("Storm Lake", "50588", 42.641, -95.210)]),
    ("Butler", 15, [("Allison", "50602", 42.753, -92.795),
                    ("Parkersburg", "50665", 42.577, -92.787)]),
    ("Calhoun", 10, [("Rockwell City", "50579", 42.395, -94.634)]),
    ("Carroll", 20, [("Carroll", "51401", 42.066, -94.867)]),
    ("Cass", 13, [("Atlantic", "50022", 41.404, -95.014)]),
    ("Cedar", 18, [("Tipton", "52772", 41.770, -91.128),
                   ("West Branch", "52358", 41.671, -91.347)]),
    ("Cerro Gordo", 43, [("Mason City", "50401", 43.154, -93.201),
                         ("Clear Lake", "50428", 43.138, -93.379)]),
    ("Cherokee", 11, [("Cherokee", "51012", 42.749, -95.552)]),
    ("Chickasaw", 12, [("New Hampton", "50659", 43.059, -92.318)]),
    ("Clarke", 9, [("Osceola", "50213", 41.034, -93.765)]),
    ("Clay", 16, [("Spencer", "51301", 43.141, -95.144)]),
    ("Clayton", 17, [("Elkader", "52043", 42.854, -91.405),
                     ("Guttenberg", "52052", 42.786, -91.100)]),
    ("Clinton", 46, [("Clinton", "52732", 41.844, -90.189), ("DeWitt", "52742", 41.823, -90.538)]),
    ("Crawford", 16, [("Denison", "51442", 42.018, -95.355)]),
    ("Dallas", 100, [("Adel", "50003", 41.614, -94.017), ("Waukee", "50263", 41.612, -93.885),
                     ("Perry", "50220", 41.839, -94.107)]),
    ("Davis", 9, [("Bloomfield", "52537", 40.752, -92.415)]),
    ("Decatur", 8, [("Leon", "50144", 40.739, -93.748)]),
    ("Delaware", 17, [("Manchester", "52057", 42.484, -91.456)]),
    ("Des Moines", 38, [("Burlington", "52601", 40.808, -91.113),
                        ("West Burlington", "52655", 40.825, -91.157)]),
    ("Dickinson", 17, [("Spirit Lake", "51360", 43.422, -95.102),
                       ("Arnolds Park", "51331", 43.373, -95.124)]),
    ("Dubuque", 99, [("Dubuque", "52001", 42.500, -90.665),
                     ("Dyersville", "52040", 42.484, -91.123)]),
    ("Emmet", 9, [("Estherville", "51334", 43.402, -94.833)]),
    ("Fayette", 19, [("West Union", "52175", 42.963, -91.808),
                     ("Oelwein", "50662", 42.673, -91.914)]),
    ("Floyd", 15, [("Charles City", "50616", 43.066, -92.673)]),
    ("Franklin", 10, [("Hampton", "50441", 42.742, -93.202)]),
    ("Fremont", 7, [("Sidney", "51652", 40.746, -95.649), ("Hamburg", "51640", 40.604, -95.658)]),
    ("Greene", 9, [("Jefferson", "50129", 42.015, -94.377)]),
    ("Grundy", 12, [("Grundy Center", "50638", 42.362, -92.768)]),
    ("Guthrie", 10, [("Guthrie Center", "50115", 41.677, -94.503)]),
    ("Hamilton", 15, [("Webster City", "50595", 42.469, -93.816)]),
    ("Hancock", 11, [("Garner", "50438", 43.102, -93.602)]),
    ("Hardin", 17, [("Eldora", "50627", 42.361, -93.100),
                    ("Iowa Falls", "50126", 42.522, -93.251)]),
    ("Harrison", 14, [("Logan", "51546", 41.643, -95.789),
                      ("Missouri Valley", "51555", 41.556, -95.888)]),
    ("Henry", 20, [("Mount Pleasant", "52641", 40.964, -91.558)]),
    ("Howard", 10, [("Cresco", "52136", 43.381, -92.114)]),
    ("Humboldt", 9, [("Dakota City", "50529", 42.722, -94.197),
                     ("Humboldt", "50548", 42.721, -94.215)]),
    ("Ida", 7, [("Ida Grove", "51445", 42.345, -95.471)]),
    ("Iowa", 16, [("Marengo", "52301", 41.798, -92.071),
                  ("Williamsburg", "52361", 41.661, -92.009)]),
    ("Jackson", 19, [("Maquoketa", "52060", 42.069, -90.666),
                     ("Bellevue", "52031", 42.259, -90.423)]),
    ("Jasper", 37, [("Newton", "50208", 41.700, -93.048)]),
    ("Jefferson", 16, [("Fairfield", "52556", 41.009, -91.963)]),
    ("Johnson", 152, [("Iowa City", "52240", 41.661, -91.530),
                      ("Coralville", "52241", 41.677, -91.580),
                      ("North Liberty", "52317", 41.749, -91.598)]),
    ("Jones", 21, [("Anamosa", "52205", 42.108, -91.285),
                   ("Monticello", "52310", 42.238, -91.187)]),
    ("Keokuk", 10, [("Sigourney", "52591", 41.333, -92.205)]),
    ("Kossuth", 15, [("Algona", "50511", 43.070, -94.233)]),
    ("Lee", 33, [("Fort Madison", "52627", 40.629, -91.315), ("Keokuk", "52632", 40.397, -91.385)]),
    ("Linn", 230, [("Cedar Rapids", "52402", 41.978, -91.666), ("Marion", "52302", 42.034, -91.598),
                   ("Hiawatha", "52233", 42.036, -91.682)]),
    ("Louisa", 11, [("Wapello", "52653", 41.181, -91.186),
                    ("Columbus Junction", "52738", 41.280, -91.361)]),
    ("Lucas", 9, [("Chariton", "50049", 41.014, -93.306)]),
    ("Lyon", 12, [("Rock Rapids", "51246", 43.427, -96.176)]),
    ("Madison", 17, [("Winterset", "50273", 41.331, -94.014)]),
    ("Mahaska", 22, [("Oskaloosa", "52577", 41.296, -92.645)]),
    ("Marion", 33, [("Knoxville", "50138", 41.321, -93.109), ("Pella", "50219", 41.408, -92.916)]),
    ("Marshall", 40, [("Marshalltown", "50158", 42.049, -92.908)]),
    ("Mills", 15, [("Glenwood", "51534", 41.047, -95.743)]),
    ("Mitchell", 11, [("Osage", "50461", 43.284, -92.811)]),
    ("Monona", 9, [("Onawa", "51040", 42.027, -96.097)]),
    ("Monroe", 8, [("Albia", "52531", 41.027, -92.806)]),
    ("Montgomery", 10, [("Red Oak", "51566", 41.010, -95.226)]),
    ("Muscatine", 43, [("Muscatine", "52761", 41.424, -91.043)]),
    ("O'Brien", 14, [("Primghar", "51245", 43.087, -95.627),
                     ("Sheldon", "51201", 43.181, -95.856)]),
    ("Osceola", 6, [("Sibley", "51249", 43.399, -95.751)]),
    ("Page", 15, [("Clarinda", "51632", 40.739, -95.038),
                  ("Shenandoah", "51601", 40.766, -95.372)]),
    ("Palo Alto", 9, [("Emmetsburg", "50536", 43.112, -94.683)]),
    ("Plymouth", 25, [("Le Mars", "51031", 42.794, -96.166)]),
    ("Pocahontas", 7, [("Pocahontas", "50574", 42.735, -94.669)]),
    ("Polk", 492, [("Des Moines", "50309", 41.587, -93.621), ("Ankeny", "50021", 41.730, -93.606),
                   ("West Des Moines", "50265", 41.577, -93.711),
                   ("Urbandale", "50322", 41.627, -93.712), ("Johnston", "50131", 41.673, -93.698),
                   ("Altoona", "50009", 41.644, -93.465), ("Clive", "50325", 41.603, -93.724),
                   ("Pleasant Hill", "50327", 41.584, -93.520)]),
    ("Pottawattamie", 93, [("Council Bluffs", "51501", 41.262, -95.861),
                           ("Avoca", "51521", 41.477, -95.338)]),
    ("Poweshiek", 19, [("Montezuma", "50171", 41.586, -92.527),
                       ("Grinnell", "50112", 41.743, -92.722)]),
    ("Ringgold", 5, [("Mount Ayr", "50854", 40.715, -94.236)]),
    ("Sac", 10, [("Sac City", "50583", 42.422, -94.990)]),
    ("Scott", 174, [("Davenport", "52801", 41.524, -90.578),
                    ("Bettendorf", "52722", 41.525, -90.516),
                    ("Eldridge", "52748", 41.658, -90.584)]),
    ("Shelby", 12, [("Harlan", "51537", 41.653, -95.326)]),
    ("Sioux", 35, [("Orange City", "51041", 43.007, -96.058),
                   ("Sioux Center", "51250", 43.080, -96.175)]),
    ("Story", 98, [("Nevada", "50201", 42.023, -93.452), ("Ames", "50010", 42.030, -93.620),
                   ("Huxley", "50124", 41.895, -93.601)]),
    ("Tama", 17, [("Toledo", "52342", 41.996, -92.577), ("Tama", "52339", 41.967, -92.577)]),
    ("Taylor", 6, [("Bedford", "50833", 40.667, -94.721)]),
    ("Union", 12, [("Creston", "50801", 41.059, -94.361)]),
    ("Van Buren", 7, [("Keosauqua", "52565", 40.730, -91.962)]),
    ("Wapello", 35, [("Ottumwa", "52501", 41.020, -92.411)]),
    ("Warren", 52, [("Indianola", "50125", 41.358, -93.557),
                    ("Norwalk", "50211", 41.476, -93.679)]),
    ("Washington", 22, [("Washington", "52353", 41.299, -91.692)]),
    ("Wayne", 6, [("Corydon", "50060", 40.757, -93.319)]),
    ("Webster", 37, [("Fort Dodge", "50501", 42.506, -94.180)]),
    ("Winnebago", 10, [("Forest City", "50436", 43.263, -93.637)]),
    ("Winneshiek", 20, [("Decorah", "52101", 43.303, -91.786)]),
    ("Woodbury", 105, [("Sioux City", "51101", 42.500, -96.400),
                       ("Sergeant Bluff", "51054", 42.404, -96.358)]),
    ("Worth", 7, [("Northwood", "50459", 43.444, -93.221)]),
    ("Wright", 13, [("Clarion", "50525", 42.732, -93.733),
                    ("Eagle Grove", "50533", 42.664, -93.904)]),
]

# (id, name, family, 750 ml cost range in dollars, popularity weight of generated products)
CATEGORIES: list[tuple[int, str, str, tuple[float, float], float]] = [
    (1011100, "BLENDED WHISKIES", "whiskey", (5.0, 14.0), 3.0),
    (1011200, "STRAIGHT BOURBON WHISKIES", "whiskey", (9.0, 40.0), 5.0),
    (1011250, "SINGLE BARREL BOURBON WHISKIES", "whiskey", (25.0, 60.0), 1.0),
    (1011300, "TENNESSEE WHISKIES", "whiskey", (12.0, 30.0), 1.5),
    (1011400, "BOTTLED IN BOND BOURBON", "whiskey", (14.0, 35.0), 0.8),
    (1011500, "STRAIGHT RYE WHISKIES", "whiskey", (15.0, 45.0), 1.5),
    (1011600, "CORN WHISKIES", "whiskey", (10.0, 25.0), 0.6),
    (1011700, "AMERICAN SINGLE MALT WHISKIES", "whiskey", (30.0, 70.0), 0.4),
    (1012100, "CANADIAN WHISKIES", "whiskey", (6.0, 25.0), 4.0),
    (1012200, "SCOTCH WHISKIES", "whiskey", (10.0, 35.0), 1.5),
    (1012210, "SINGLE MALT SCOTCH", "whiskey", (28.0, 90.0), 0.8),
    (1012300, "IRISH WHISKIES", "whiskey", (15.0, 40.0), 1.2),
    (1012400, "JAPANESE WHISKIES", "whiskey", (25.0, 80.0), 0.3),
    (1022100, "MIXTO TEQUILA", "tequila", (6.0, 16.0), 1.5),
    (1022200, "100% AGAVE TEQUILA", "tequila", (14.0, 45.0), 2.5),
    (1022300, "MEZCAL", "tequila", (22.0, 55.0), 0.3),
    (1031100, "AMERICAN VODKAS", "vodka", (3.5, 18.0), 6.0),
    (1031200, "AMERICAN FLAVORED VODKA", "vodka", (5.0, 14.0), 2.5),
    (1032100, "IMPORTED VODKAS", "vodka", (8.0, 25.0), 2.0),
    (1032200, "IMPORTED FLAVORED VODKA", "vodka", (8.0, 20.0), 0.8),
    (1041100, "AMERICAN DRY GINS", "gin", (4.0, 16.0), 1.2),
    (1041200, "AMERICAN FLAVORED GINS", "gin", (8.0, 20.0), 0.3),
    (1042100, "IMPORTED DRY GINS", "gin", (12.0, 30.0), 0.8),
    (1051100, "AMERICAN BRANDIES", "brandy", (5.0, 14.0), 1.5),
    (1051110, "BLACKBERRY BRANDIES", "brandy", (5.0, 10.0), 0.8),
    (1051120, "APRICOT BRANDIES", "brandy", (5.0, 10.0), 0.3),
    (1051130, "AMERICAN FLAVORED BRANDY", "brandy", (6.0, 12.0), 0.4),
    (1052100, "IMPORTED BRANDIES", "brandy", (18.0, 60.0), 0.6),
    (1062100, "AGED DARK RUM", "rum", (12.0, 35.0), 0.4),
    (1062200, "WHITE RUM", "rum", (4.5, 14.0), 1.5),
    (1062300, "FLAVORED RUM", "rum", (6.0, 14.0), 1.5),
    (1062400, "SPICED RUM", "rum", (6.0, 16.0), 2.5),
    (1062500, "GOLD RUM", "rum", (6.0, 14.0), 0.6),
    (1071100, "AMERICAN COCKTAILS", "cocktail", (4.0, 12.0), 1.2),
    (1071200, "IMPORTED COCKTAILS", "cocktail", (6.0, 14.0), 0.3),
    (1081010, "BUTTERSCOTCH SCHNAPPS", "schnapps", (6.0, 10.0), 0.5),
    (1081030, "COFFEE LIQUEURS", "liqueur", (8.0, 20.0), 0.8),
    (1081200, "CREAM LIQUEURS", "liqueur", (6.0, 22.0), 1.5),
    (1081300, "AMERICAN CORDIALS & LIQUEURS", "liqueur", (6.0, 20.0), 1.5),
    (1081315, "CINNAMON SCHNAPPS", "schnapps", (6.0, 12.0), 0.6),
    (1081330, "PEPPERMINT SCHNAPPS", "schnapps", (5.0, 12.0), 0.8),
    (1081340, "PEACH SCHNAPPS", "schnapps", (5.0, 10.0), 0.5),
    (1081365, "ROOT BEER SCHNAPPS", "schnapps", (6.0, 10.0), 0.2),
    (1081400, "AMERICAN SCHNAPPS", "schnapps", (5.0, 12.0), 1.0),
    (1081500, "TRIPLE SEC", "liqueur", (3.5, 8.0), 0.6),
    (1081600, "WHISKEY LIQUEUR", "whiskey", (10.0, 20.0), 3.0),
    (1082100, "IMPORTED CORDIALS & LIQUEURS", "liqueur", (12.0, 35.0), 1.0),
    (1082200, "IMPORTED SCHNAPPS", "schnapps", (10.0, 20.0), 0.3),
    (1091100, "NEUTRAL GRAIN SPIRITS", "other", (8.0, 14.0), 0.3),
    (1091200, "NEUTRAL GRAIN SPIRITS FLAVORED", "other", (8.0, 16.0), 0.3),
    (1701100, "TEMPORARY & SPECIALTY PACKAGES", "other", (10.0, 40.0), 0.8),
]

# (vendor number, name, share of generated brands); numbers as in the Iowa data where known
REAL_VENDORS: list[tuple[int, str, float]] = [
    (260, "DIAGEO AMERICAS", 30.0), (421, "SAZERAC COMPANY  INC", 30.0),
    (259, "HEAVEN HILL BRANDS", 20.0), (65, "JIM BEAM BRANDS", 20.0), (434, "LUXCO INC", 15.0),
    (300, "MCCORMICK DISTILLING CO.", 8.0), (85, "BROWN-FORMAN CORP", 8.0),
    (370, "PERNOD RICARD USA", 12.0), (35, "BACARDI USA INC", 10.0),
    (301, "FIFTH GENERATION INC", 1.0), (395, "PROXIMO SPIRITS INC", 6.0),
    (205, "E & J GALLO WINERY", 6.0), (115, "CONSTELLATION BRANDS INC", 4.0),
    (461, "CAMPARI AMERICA", 5.0), (297, "WILLIAM GRANT & SONS INC", 5.0),
    (192, "MAST-JAEGERMEISTER US INC", 1.0), (389, "REMY COINTREAU USA INC", 3.0),
    (420, "MOET HENNESSY USA", 3.0), (380, "PHILLIPS BEVERAGE", 6.0),
    (322, "STOLI GROUP USA LLC", 2.0), (410, "TEMPLETON RYE SPIRITS LLC", 1.0),
    (255, "CEDAR RIDGE VINEYARDS LL", 2.0), (482, "OLE SMOKY DISTILLERY LLC", 2.0),
    (330, "ILLVA SARONNO CORP", 1.0), (280, "F KORBEL & BROS INC", 1.0),
    (346, "FOUR ROSES DISTILLERY LLC", 1.0), (305, "MHW LTD", 4.0),
    (311, "LAIRD & COMPANY", 2.0), (962, "DUGGANS DISTILLERS PRODUCTS CORP", 2.0),
    (515, "HOTALING & CO", 2.0), (518, "INFINIUM SPIRITS", 2.0),
    (240, "KOBRAND CORPORATION", 1.5), (371, "PALM BAY IMPORTS", 1.0),
    (458, "PARK STREET IMPORTS LLC", 3.0), (533, "MISSISSIPPI RIVER DISTILLING COMPANY LLC", 1.0),
    (549, "DEATH'S DOOR SPIRITS LLC", 0.5), (612, "PRESTIGE WINE & SPIRITS GROUP", 1.5),
    (553, "WESTERN SPIRITS BEVERAGE CO", 1.5), (55, "SAZERAC NORTH AMERICA", 4.0),
    (602, "BLACK ROCK SPIRITS LLC", 1.0), (619, "SUNTORY GLOBAL SPIRITS", 4.0),
]

# Curated best sellers in rough order of popularity:
# (description, vendor, category, 750 ml cost in dollars, bottle sizes in ml)
PRODUCTS: list[tuple[str, str, int, float, tuple[int, ...]]] = [
    ("FIREBALL CINNAMON WHISKEY", "SAZERAC COMPANY  INC", 1081600, 11.50,
     (50, 100, 200, 375, 750, 1000, 1750)),
    ("BLACK VELVET", "HEAVEN HILL BRANDS", 1012100, 6.00, (375, 750, 1000, 1750)),
    ("TITOS HANDMADE VODKA", "FIFTH GENERATION INC", 1031100, 13.00,
     (50, 200, 375, 750, 1000, 1750)),
    ("HAWKEYE VODKA", "LUXCO INC", 1031100, 4.50, (200, 375, 750, 1000, 1750)),
    ("CROWN ROYAL", "DIAGEO AMERICAS", 1012100, 18.00, (50, 200, 375, 750, 1000, 1750)),
    ("CAPTAIN MORGAN ORIGINAL SPICED", "DIAGEO AMERICAS", 1062400, 11.00,
     (50, 375, 750, 1000, 1750)),
    ("JACK DANIELS OLD #7 BLACK LABEL", "BROWN-FORMAN CORP", 1011300, 17.00,
     (50, 375, 750, 1000, 1750)),
    ("FIVE O'CLOCK VODKA", "SAZERAC COMPANY  INC", 1031100, 4.00, (375, 750, 1750)),
    ("SMIRNOFF 80PRF", "DIAGEO AMERICAS", 1031100, 9.00, (50, 375, 750, 1000, 1750)),
    ("JAMESON", "PERNOD RICARD USA", 1012300, 17.50, (50, 375, 750, 1000, 1750)),
    ("JIM BEAM", "JIM BEAM BRANDS", 1011200, 12.00, (50, 375, 750, 1000, 1750)),
    ("BACARDI SUPERIOR", "BACARDI USA INC", 1062200, 9.50, (375, 750, 1000, 1750)),
    ("PAUL MASSON GRANDE AMBER BRANDY VS", "SAZERAC COMPANY  INC", 1051100, 8.00,
     (200, 375, 750, 1750)),
    ("MCCORMICK VODKA PET", "MCCORMICK DISTILLING CO.", 1031100, 3.50, (200, 375, 750, 1750)),
    ("ADMIRAL NELSON SPICED RUM", "LUXCO INC", 1062400, 6.50, (375, 750, 1750)),
    ("SEAGRAMS 7 CROWN", "DIAGEO AMERICAS", 1011100, 8.00, (375, 750, 1750)),
    ("CANADIAN LTD WHISKY", "SAZERAC COMPANY  INC", 1012100, 6.00, (750, 1000, 1750)),
    ("KAHLUA COFFEE LIQUEUR", "PERNOD RICARD USA", 1081030, 14.00, (50, 375, 750, 1000, 1750)),
    ("BAILEYS ORIGINAL IRISH CREAM", "DIAGEO AMERICAS", 1081200, 17.00, (50, 375, 750, 1000, 1750)),
    ("JOSE CUERVO ESPECIAL REPOSADO", "PROXIMO SPIRITS INC", 1022100, 12.00,
     (50, 375, 750, 1000, 1750)),
    ("PATRON SILVER", "BACARDI USA INC", 1022200, 28.00, (50, 375, 750, 1750)),
    ("RUMCHATA", "E & J GALLO WINERY", 1081200, 14.00, (50, 375, 750, 1750)),
    ("NEW AMSTERDAM VODKA", "E & J GALLO WINERY", 1031100, 8.50, (375, 750, 1750)),
    ("GREY GOOSE", "BACARDI USA INC", 1032100, 20.00, (50, 375, 750, 1000, 1750)),
    ("ABSOLUT SWEDISH VODKA 80PRF", "PERNOD RICARD USA", 1032100, 12.00, (50, 375, 750, 1750)),
    ("SVEDKA", "CONSTELLATION BRANDS INC", 1032100, 8.00, (375, 750, 1750)),
    ("KETEL ONE", "DIAGEO AMERICAS", 1032100, 16.00, (375, 750, 1000, 1750)),
    ("MAKERS MARK", "JIM BEAM BRANDS", 1011200, 20.00, (50, 375, 750, 1000, 1750)),
    ("BULLEIT BOURBON", "DIAGEO AMERICAS", 1011200, 19.00, (375, 750, 1750)),
    ("WILD TURKEY 101", "CAMPARI AMERICA", 1011200, 16.00, (50, 375, 750, 1000)),
    ("BUFFALO TRACE BOURBON", "SAZERAC COMPANY  INC", 1011200, 17.00, (375, 750, 1750)),
    ("EVAN WILLIAMS BLACK", "HEAVEN HILL BRANDS", 1011200, 9.00, (375, 750, 1000, 1750)),
    ("OLD CROW", "JIM BEAM BRANDS", 1011200, 6.00, (750, 1750)),
    ("TEN HIGH", "SAZERAC COMPANY  INC", 1011100, 5.50, (375, 750, 1750)),
    ("KESSLER BLEND WHISKEY", "JIM BEAM BRANDS", 1011100, 6.00, (375, 750, 1750)),
    ("CANADIAN MIST", "SAZERAC COMPANY  INC", 1012100, 6.50, (375, 750, 1000, 1750)),
    ("WINDSOR CANADIAN", "JIM BEAM BRANDS", 1012100, 6.50, (375, 750, 1750)),
    ("CROWN ROYAL REGAL APPLE", "DIAGEO AMERICAS", 1012100, 18.00, (50, 375, 750, 1000, 1750)),
    ("SEAGRAMS VO", "SAZERAC COMPANY  INC", 1012100, 10.00, (375, 750, 1750)),
    ("MALIBU COCONUT RUM", "PERNOD RICARD USA", 1062300, 11.00, (50, 375, 750, 1000, 1750)),
    ("SAILOR JERRY SPICED RUM", "WILLIAM GRANT & SONS INC", 1062400, 13.00, (375, 750, 1750)),
    ("CASAMIGOS BLANCO", "DIAGEO AMERICAS", 1022200, 30.00, (50, 375, 750, 1750)),
    ("DON JULIO BLANCO", "DIAGEO AMERICAS", 1022200, 30.00, (375, 750, 1750)),
    ("1800 SILVER TEQUILA", "PROXIMO SPIRITS INC", 1022200, 18.00, (375, 750, 1750)),
    ("TANQUERAY GIN", "DIAGEO AMERICAS", 1042100, 15.00, (375, 750, 1000, 1750)),
    ("BEEFEATER GIN", "PERNOD RICARD USA", 1042100, 13.00, (750, 1750)),
    ("SEAGRAMS EXTRA DRY GIN", "PERNOD RICARD USA", 1041100, 7.50, (375, 750, 1750)),
    ("GORDONS LONDON DRY GIN", "DIAGEO AMERICAS", 1041100, 7.00, (375, 750, 1750)),
    ("HENDRICKS GIN", "WILLIAM GRANT & SONS INC", 1042100, 24.00, (750, 1750)),
    ("E & J VS BRANDY", "E & J GALLO WINERY", 1051100, 8.50, (375, 750, 1750)),
    ("CHRISTIAN BROTHERS BRANDY", "HEAVEN HILL BRANDS", 1051100, 7.50, (375, 750, 1750)),
    ("JAGERMEISTER LIQUEUR", "MAST-JAEGERMEISTER US INC", 1082100, 16.00,
     (50, 375, 750, 1000, 1750)),
    ("DEKUYPER PEACHTREE", "JIM BEAM BRANDS", 1081340, 7.50, (750, 1000)),
    ("DEKUYPER BUTTERSHOTS", "JIM BEAM BRANDS", 1081010, 7.50, (750, 1000)),
    ("RUMPLE MINZE PEPPERMINT SCHNAPPS", "DIAGEO AMERICAS", 1082200, 16.00, (50, 375, 750)),
    ("SKREWBALL PEANUT BUTTER WHISKEY", "PERNOD RICARD USA", 1081600, 18.00, (50, 375, 750, 1750)),
    ("JACK DANIELS TENNESSEE HONEY", "BROWN-FORMAN CORP", 1081600, 17.00, (50, 375, 750, 1750)),
    ("JACK DANIELS TENNESSEE FIRE", "BROWN-FORMAN CORP", 1081600, 17.00, (50, 375, 750, 1750)),
    ("TEMPLETON RYE 4YR", "TEMPLETON RYE SPIRITS LLC", 1011500, 22.00, (375, 750, 1750)),
    ("CEDAR RIDGE IOWA BOURBON", "CEDAR RIDGE VINEYARDS LL", 1011200, 25.00, (375, 750)),
    ("JOHNNIE WALKER RED", "DIAGEO AMERICAS", 1012200, 16.00, (375, 750, 1750)),
    ("JOHNNIE WALKER BLACK", "DIAGEO AMERICAS", 1012200, 26.00, (375, 750, 1750)),
    ("DEWARS WHITE LABEL", "BACARDI USA INC", 1012200, 15.00, (750, 1750)),
    ("GLENLIVET 12YR", "PERNOD RICARD USA", 1012210, 30.00, (750,)),
    ("GLENFIDDICH 12YR", "WILLIAM GRANT & SONS INC", 1012210, 30.00, (750,)),
    ("MCCORMICK IRISH CREAM", "MCCORMICK DISTILLING CO.", 1081200, 6.00, (750, 1750)),
    ("HENNESSY VS", "MOET HENNESSY USA", 1052100, 28.00, (50, 375, 750, 1750)),
    ("PINNACLE VODKA", "E & J GALLO WINERY", 1032100, 8.50, (750, 1750)),
    ("UV BLUE RASPBERRY VODKA", "PHILLIPS BEVERAGE", 1031200, 7.00, (50, 750, 1750)),
    ("PHILLIPS BLACKBERRY BRANDY", "PHILLIPS BEVERAGE", 1051110, 6.50, (375, 750)),
    ("MR BOSTON BLACKBERRY BRANDY", "SAZERAC COMPANY  INC", 1051110, 5.50, (375, 750, 1750)),
    ("ARROW PEPPERMINT SCHNAPPS", "LUXCO INC", 1081330, 5.00, (750, 1750)),
    ("DR MCGILLICUDDYS MENTHOLMINT", "SAZERAC COMPANY  INC", 1081330, 8.00, (50, 750)),
    ("CUERVO AUTHENTIC LIME MARGARITA", "PROXIMO SPIRITS INC", 1071100, 8.00, (1750,)),
    ("99 BANANAS", "SAZERAC COMPANY  INC", 1081400, 10.00, (50, 750)),
    ("CAPTAIN MORGAN 100PRF SPICED RUM", "DIAGEO AMERICAS", 1062400, 13.00, (750, 1750)),
    ("BACARDI GOLD", "BACARDI USA INC", 1062500, 9.50, (750, 1750)),
    ("SMIRNOFF RASPBERRY", "DIAGEO AMERICAS", 1031200, 9.00, (750, 1750)),
    ("DEEP EDDY RUBY RED", "HEAVEN HILL BRANDS", 1031200, 12.00, (750, 1750)),
    ("EVERCLEAR ALCOHOL", "LUXCO INC", 1091100, 10.00, (375, 750, 1750)),
    ("WOODFORD RESERVE BOURBON", "BROWN-FORMAN CORP", 1011200, 30.00, (375, 750, 1000)),
    ("KNOB CREEK 9YR", "JIM BEAM BRANDS", 1011400, 28.00, (375, 750, 1750)),
    ("EAGLE RARE 10YR", "SAZERAC COMPANY  INC", 1011250, 25.00, (750,)),
    ("BLANTONS ORIGINAL SINGLE BARREL", "SAZERAC COMPANY  INC", 1011250, 55.00, (750,)),
    ("FOUR ROSES BOURBON", "FOUR ROSES DISTILLERY LLC", 1011200, 18.00, (750, 1750)),
    ("OLD FORESTER 86PRF", "BROWN-FORMAN CORP", 1011200, 14.00, (750, 1000, 1750)),
    ("OLD SMUGGLER", "SAZERAC COMPANY  INC", 1012200, 7.00, (750, 1750)),
    ("CLAN MACGREGOR", "WILLIAM GRANT & SONS INC", 1012200, 8.00, (750, 1750)),
    ("TEQUILA ROSE STRAWBERRY CREAM", "MCCORMICK DISTILLING CO.", 1081200, 13.00, (50, 750)),
    ("SOUTHERN COMFORT", "SAZERAC COMPANY  INC", 1081300, 11.00, (375, 750, 1750)),
    ("DISARONNO AMARETTO", "ILLVA SARONNO CORP", 1082100, 20.00, (750, 1000)),
    ("GRAND MARNIER CORDON ROUGE", "CAMPARI AMERICA", 1082100, 30.00, (375, 750)),
    ("HIRAM WALKER TRIPLE SEC", "PERNOD RICARD USA", 1081500, 5.00, (750, 1000)),
    ("DEKUYPER TRIPLE SEC", "JIM BEAM BRANDS", 1081500, 5.50, (750, 1000)),
    ("JACK DANIELS GENTLEMAN JACK", "BROWN-FORMAN CORP", 1011300, 25.00, (375, 750, 1750)),
    ("CROWN ROYAL PEACH", "DIAGEO AMERICAS", 1012100, 18.00, (50, 375, 750, 1750)),
    ("HORNITOS PLATA", "SUNTORY GLOBAL SPIRITS", 1022200, 17.00, (750, 1750)),
    ("SAUZA SILVER", "SUNTORY GLOBAL SPIRITS", 1022100, 10.00, (750, 1750)),
    ("HAWKEYE LIGHT RUM", "LUXCO INC", 1062200, 5.00, (750, 1750)),
    ("HAWKEYE BLENDED WHISKEY", "LUXCO INC", 1011100, 5.00, (750, 1750)),
    ("MCCORMICK GIN PET", "MCCORMICK DISTILLING CO.", 1041100, 4.00, (750, 1750)),
    ("GEORGI VODKA", "LUXCO INC", 1031100, 4.50, (750, 1750)),
    ("KAMCHATKA VODKA", "SUNTORY GLOBAL SPIRITS", 1031100, 4.50, (750, 1750)),
    ("BARTON VODKA", "SAZERAC COMPANY  INC", 1031100, 4.20, (750, 1750)),
    ("ABSOLUT CITRON", "PERNOD RICARD USA", 1032200, 12.00, (750, 1750)),
    ("STOLICHNAYA", "STOLI GROUP USA LLC", 1032100, 13.00, (750, 1750)),
    ("CIROC", "DIAGEO AMERICAS", 1032100, 22.00, (375, 750, 1750)),
    ("BACARDI LIMON", "BACARDI USA INC", 1062300, 9.50, (750, 1750)),
    ("KRAKEN BLACK SPICED RUM", "PROXIMO SPIRITS INC", 1062400, 13.00, (750, 1750)),
    ("MOUNT GAY ECLIPSE", "REMY COINTREAU USA INC", 1062500, 14.00, (750,)),
    ("COINTREAU LIQUEUR", "REMY COINTREAU USA INC", 1082100, 25.00, (375, 750, 1000)),
    ("REMY MARTIN VSOP", "REMY COINTREAU USA INC", 1052100, 35.00, (375, 750)),
    ("MR BOSTON APRICOT BRANDY", "SAZERAC COMPANY  INC", 1051120, 5.50, (750,)),
    ("SEAGRAMS VODKA", "DIAGEO AMERICAS", 1031100, 6.50, (750, 1750)),
    ("SMIRNOFF 100PRF", "DIAGEO AMERICAS", 1031100, 11.00, (750, 1750)),
    ("JIM BEAM HONEY", "JIM BEAM BRANDS", 1081600, 12.00, (750, 1750)),
    ("PENDLETON CANADIAN WHISKY", "PROXIMO SPIRITS INC", 1012100, 16.00, (750, 1750)),
    ("OLE SMOKY MOONSHINE APPLE PIE", "OLE SMOKY DISTILLERY LLC", 1011600, 15.00, (750,)),
    ("TULLAMORE DEW", "WILLIAM GRANT & SONS INC", 1012300, 17.00, (750, 1750)),
    ("BUSHMILLS IRISH WHISKEY", "PROXIMO SPIRITS INC", 1012300, 17.00, (750, 1750)),
    ("SUNTORY TOKI", "SUNTORY GLOBAL SPIRITS", 1012400, 28.00, (750,)),
    ("AVIATION GIN", "DIAGEO AMERICAS", 1041100, 20.00, (750,)),
    ("BOMBAY SAPPHIRE GIN", "BACARDI USA INC", 1042100, 18.00, (750, 1750)),
    ("NEW AMSTERDAM GIN", "E & J GALLO WINERY", 1041100, 9.00, (750, 1750)),
    ("ST GERMAIN ELDERFLOWER", "BACARDI USA INC", 1082100, 26.00, (375, 750)),
    ("CAMPARI", "CAMPARI AMERICA", 1082100, 22.00, (750, 1000)),
    ("APEROL", "CAMPARI AMERICA", 1082100, 18.00, (750, 1000)),
    ("TORTILLA GOLD TEQUILA", "SAZERAC COMPANY  INC", 1022100, 7.00, (750, 1750)),
    ("MONTEZUMA WHITE TEQUILA", "SAZERAC COMPANY  INC", 1022100, 7.00, (750, 1750)),
    ("JOSE CUERVO ESPECIAL SILVER", "PROXIMO SPIRITS INC", 1022100, 12.00, (375, 750, 1750)),
    ("ESPOLON BLANCO", "CAMPARI AMERICA", 1022200, 18.00, (750, 1750)),
    ("LUNAZUL BLANCO", "HEAVEN HILL BRANDS", 1022200, 13.00, (750, 1750)),
    ("DEL MAGUEY VIDA MEZCAL", "PERNOD RICARD USA", 1022300, 25.00, (750,)),
    ("DR MCGILLICUDDYS ROOTBEER", "SAZERAC COMPANY  INC", 1081365, 8.00, (50, 750)),
    ("KORBEL BRANDY", "F KORBEL & BROS INC", 1051100, 9.00, (750, 1750)),
    ("JIM BEAM RED STAG BLACK CHERRY", "JIM BEAM BRANDS", 1081600, 12.00, (750, 1750)),
    ("PHILLIPS VODKA", "PHILLIPS BEVERAGE", 1031100, 4.00, (750, 1750)),
    ("SKOL VODKA", "SAZERAC COMPANY  INC", 1031100, 3.80, (750, 1750)),
    ("MCCORMICK BLENDED WHISKEY", "MCCORMICK DISTILLING CO.", 1011100, 4.50, (750, 1750)),
    ("CALVERT EXTRA", "JIM BEAM BRANDS", 1011100, 6.00, (750, 1750)),
    ("LORD CALVERT CANADIAN", "LUXCO INC", 1012100, 6.50, (750, 1750)),
    ("RICH & RARE", "SAZERAC COMPANY  INC", 1012100, 5.50, (750, 1750)),
    ("YUKON JACK", "SAZERAC COMPANY  INC", 1081600, 12.00, (750, 1750)),
    ("MISSISSIPPI RIVER RIVER BAROQUE VODKA", "MISSISSIPPI RIVER DISTILLING COMPANY LLC",
     1031100, 16.00, (750,)),
    ("DEATHS DOOR GIN", "DEATH'S DOOR SPIRITS LLC", 1041100, 22.00, (750,)),
]

BRAND_FIRST = [
    "OLD", "COLONEL", "KENTUCKY", "PRAIRIE", "RIVER", "COPPER", "IRON", "SILVER", "GOLDEN",
    "BLACK", "RED", "WHITE", "HAWK", "EAGLE", "BUFFALO", "TIMBER", "STONE", "CEDAR", "OAK",
    "MAPLE", "HICKORY", "THUNDER", "LONE", "ROYAL", "CAPTAIN", "ADMIRAL", "BARON", "DUKE",
    "GENERAL", "UNCLE", "GRAND", "HIGH", "NORTH", "SOUTH", "WEST", "BLUE", "GREEN", "WILD",
    "SMOKY", "DUSTY", "LUCKY", "CROOKED", "BROKEN", "TALL", "TWIN", "THREE", "SEVEN",
    "DOUBLE", "LAST", "FROSTY", "MIDNIGHT", "HARVEST", "BARN", "RUSTY", "SALTY", "JOLLY",
    "BIG", "LITTLE", "MIGHTY", "SLY",
]
BRAND_SECOND = [
    "CREEK", "RIDGE", "HOLLOW", "BARREL", "CROWN", "SPRINGS", "VALLEY", "MILL", "BRIDGE",
    "FORGE", "ANCHOR", "COVE", "HILL", "PEAK", "FIELD", "GROVE", "CROSSING", "TRAIL",
    "HARBOR", "STAR", "MOON", "WIND", "BEND", "KNOB", "FORK", "HAVEN", "ROCK", "LAKE",
    "BLUFF", "CANYON", "RANCH", "DEPOT", "JACK", "PETE", "FOX", "WOLF", "BEAR", "HORSE",
    "RAVEN", "OWL",
]
SURNAMES = [
    "ANDERSON", "BAKER", "CARLSON", "DAVIS", "EVANS", "FISCHER", "GRANT", "HANSEN", "IVERSEN",
    "JOHNSON", "KELLER", "LARSON", "MILLER", "NELSON", "OLSEN", "PETERSON", "QUINN",
    "RASMUSSEN", "SCHMIDT", "THOMPSON", "ULRICH", "VOGEL", "WAGNER", "YODER", "ZIMMERMAN",
    "BRANDT", "CLARK", "DUNN", "ERICKSON", "FOSTER", "GARDNER", "HOFFMAN", "JENSEN", "KOCH",
    "LINDQUIST", "MEYER", "NIELSEN", "O'BRIEN", "PRICE", "REED", "SULLIVAN", "TAYLOR",
    "VANDERBERG", "WEBER", "BECKER", "DECKER", "HARTMAN", "KRAUSE", "MORGAN", "RYAN",
]
VENDOR_SUFFIXES = [
    "DISTILLING CO", "SPIRITS LLC", "BRANDS INC", "IMPORTS LLC", "DISTILLERY",
    "BEVERAGE CO", "WINE & SPIRITS", "SPIRITS GROUP", "CRAFT DISTILLERS", "INTERNATIONAL",
]
STYLES: dict[int, list[str]] = {
    1011100: ["BLENDED WHISKEY", "RESERVE", "PREMIUM BLEND", "AMERICAN WHISKEY"],
    1011200: ["BOURBON", "STRAIGHT BOURBON", "KENTUCKY STRAIGHT BOURBON", "SMALL BATCH BOURBON",
              "8YR BOURBON", "BOURBON 100PRF", "WHEATED BOURBON", "HIGH RYE BOURBON"],
    1011250: ["SINGLE BARREL BOURBON", "SINGLE BARREL SELECT", "PRIVATE BARREL BOURBON"],
    1011300: ["TENNESSEE WHISKEY", "SOUR MASH WHISKEY", "TENNESSEE RYE"],
    1011400: ["BOTTLED IN BOND", "BONDED BOURBON 100PRF"],
    1011500: ["STRAIGHT RYE", "RYE WHISKEY", "SMALL BATCH RYE", "IOWA RYE"],
    1011600: ["CORN WHISKEY", "WHITE DOG", "MOONSHINE", "APPLE PIE MOONSHINE"],
    1011700: ["AMERICAN SINGLE MALT", "PEATED SINGLE MALT"],
    1012100: ["CANADIAN WHISKY", "CANADIAN RESERVE", "CANADIAN 80PRF", "APPLE CANADIAN"],
    1012200: ["BLENDED SCOTCH", "SCOTCH 12YR", "SCOTCH WHISKY"],
    1012210: ["SINGLE MALT 12YR", "SINGLE MALT 15YR", "SINGLE MALT 18YR", "SHERRY CASK"],
    1012300: ["IRISH WHISKEY", "IRISH WHISKEY BLACK", "IRISH POT STILL"],
    1012400: ["JAPANESE WHISKY", "JAPANESE HARMONY"],
    1022100: ["GOLD TEQUILA", "SILVER TEQUILA", "MARGARITA TEQUILA"],
    1022200: ["BLANCO", "REPOSADO", "ANEJO", "SILVER 100% AGAVE", "CRISTALINO"],
    1022300: ["MEZCAL JOVEN", "MEZCAL ESPADIN"],
    1031100: ["VODKA", "VODKA 80PRF", "VODKA PET", "VODKA 100PRF", "HANDCRAFTED VODKA"],
    1031200: ["CHERRY VODKA", "CITRUS VODKA", "VANILLA VODKA", "WHIPPED VODKA", "PEACH VODKA",
              "RASPBERRY VODKA", "GRAPE VODKA", "SWEET TEA VODKA"],
    1032100: ["IMPORTED VODKA", "POLISH VODKA", "FRENCH VODKA", "POTATO VODKA"],
    1032200: ["CITRON VODKA", "MANDARIN VODKA", "BERRY VODKA"],
    1041100: ["GIN", "DRY GIN", "GIN PET"],
    1041200: ["PINK GIN", "ORANGE GIN"],
    1042100: ["LONDON DRY GIN", "IMPORTED GIN"],
    1051100: ["BRANDY", "BRANDY VS", "BRANDY VSOP"],
    1051110: ["BLACKBERRY BRANDY"],
    1051120: ["APRICOT BRANDY"],
    1051130: ["PEACH BRANDY", "CHERRY BRANDY", "APPLE BRANDY"],
    1052100: ["COGNAC VS", "COGNAC VSOP", "ARMAGNAC"],
    1062100: ["DARK RUM", "AGED RUM 8YR"],
    1062200: ["LIGHT RUM", "SILVER RUM", "WHITE RUM"],
    1062300: ["COCONUT RUM", "PINEAPPLE RUM", "MANGO RUM", "CHERRY RUM"],
    1062400: ["SPICED RUM", "BLACK SPICED RUM", "SPICED RUM 92PRF"],
    1062500: ["GOLD RUM"],
    1071100: ["MARGARITA", "LONG ISLAND ICED TEA", "MUDSLIDE", "PINA COLADA", "OLD FASHIONED"],
    1071200: ["COCKTAIL IMPORTED"],
    1081010: ["BUTTERSCOTCH SCHNAPPS"],
    1081030: ["COFFEE LIQUEUR", "ESPRESSO LIQUEUR"],
    1081200: ["IRISH CREAM", "CREAM LIQUEUR", "HORCHATA CREAM"],
    1081300: ["AMARETTO", "SOUR APPLE", "MELON LIQUEUR", "BLUE CURACAO", "CREME DE MENTHE"],
    1081315: ["CINNAMON SCHNAPPS"],
    1081330: ["PEPPERMINT SCHNAPPS", "PEPPERMINT 100PRF"],
    1081340: ["PEACH SCHNAPPS"],
    1081365: ["ROOT BEER SCHNAPPS"],
    1081400: ["BANANA SCHNAPPS", "WATERMELON SCHNAPPS", "CHERRY SCHNAPPS", "SOUR APPLE SCHNAPPS"],
    1081500: ["TRIPLE SEC"],
    1081600: ["CINNAMON WHISKEY", "HONEY WHISKEY", "APPLE WHISKEY", "PEANUT BUTTER WHISKEY",
              "CHERRY WHISKEY", "SALTED CARAMEL WHISKEY"],
    1082100: ["HERBAL LIQUEUR", "ORANGE LIQUEUR", "ELDERFLOWER LIQUEUR", "AMARO"],
    1082200: ["IMPORTED PEPPERMINT SCHNAPPS"],
    1091100: ["GRAIN ALCOHOL", "NEUTRAL SPIRITS 190PRF"],
    1091200: ["FLAVORED GRAIN SPIRITS"],
    1701100: ["GIFT PACK", "W/2 GLASSES", "HOLIDAY TIN", "MINI VARIETY PACK"],
}

SIZE_SHARE = {50: 0.30, 100: 0.15, 200: 0.20, 375: 0.45, 750: 1.00, 1000: 0.35, 1750: 0.70}
SIZE_COST_FACTOR = {50: 0.12, 100: 0.21, 200: 0.36, 375: 0.56, 750: 1.0, 1000: 1.28, 1750: 2.0}
SIZE_PACKS = {50: (48,), 100: (48, 24), 200: (24, 48), 375: (24, 12), 750: (12, 6),
              1000: (12,), 1750: (6,)}
ZIPF_OFFSET, ZIPF_EXPONENT = 3.0, 1.05
EXTRA_SIZES = (1750, 375, 1000, 50, 200, 100)
EXTRA_SIZE_WEIGHTS = (0.30, 0.25, 0.12, 0.18, 0.08, 0.07)

STREETS = [
    "MAIN ST", "1ST AVE", "2ND ST", "GRAND AVE", "UNIVERSITY AVE", "HIGHWAY 30", "SE 14TH ST",
    "HICKMAN RD", "BROADWAY", "LINCOLN WAY", "WASHINGTON ST", "COURT ST", "MERLE HAY RD",
    "EUCLID AVE", "DOUGLAS AVE", "KIMBERLY RD", "HWY 65", "N 4TH ST", "E 2ND ST", "WATER ST",
    "MARKET ST", "CENTER ST", "MILL ST", "ELM ST", "OAK ST", "HIGHWAY 71", "16TH AVE SW",
    "COLLINS RD NE", "ASHWORTH RD", "S DUFF AVE", "W BROADWAY", "JEFFERSON ST", "FRONT ST",
    "BURLINGTON ST", "HIGHWAY 20", "US HWY 6", "STATE ST", "MADISON AVE", "AVENUE G",
]

CHAINS: list[tuple[str, float, bool]] = [  # (chain, share, needs a county of 35k+ people)
    ("hyvee", 14.0, False), ("caseys", 22.0, False), ("fareway", 6.0, False),
    ("kumgo", 7.0, False), ("kwikstar", 5.0, False), ("quiktrip", 2.0, True),
    ("walmart", 3.0, False), ("walgreens", 3.0, True), ("dollargeneral", 6.0, False),
    ("target", 1.0, True), ("samsclub", 0.6, True), ("costco", 0.3, True), ("cvs", 1.0, True),
    ("independent", 29.0, False),
]
CHAIN_SIZE = {"hyvee": 3.0, "caseys": 0.5, "fareway": 1.5, "kumgo": 0.5, "kwikstar": 0.5,
              "quiktrip": 0.5, "walmart": 1.5, "walgreens": 0.7, "dollargeneral": 0.4,
              "target": 1.0, "samsclub": 3.0, "costco": 4.0, "cvs": 0.6, "independent": 2.0}
INDEPENDENTS = [
    "Liquor Depot", "Smokin' Joe's Tobacco and Liquor Outlet", "Central City Liquor, Inc.",
    "Lot-A-Spirits", "Wilkie Liquors", "Bootleggin' Barzini's Fin", "Brewski's Liquor",
    "Sycamore Convenience", "Ingersoll Wine & Spirits", "Happy's Wine & Spirits",
    "Wine and Spirits Gallery", "Cork & Bottle", "Spirits, Stogies and Stuff", "Liquor Barn",
    "Hometown Foods", "Keg Shop", "Bottle Shop", "Cyclone Liquors", "Hawkeye Liquor Mart",
    "Prairie Liquor & Tobacco",
]
INDEPENDENT_PATTERNS = [
    "{city} Liquor", "{surname}'s Liquor", "{surname} Food Mart", "{city} Wine & Spirits",
    "{surname}'s Corner Store", "{word} Liquor & Tobacco", "Tobacco Outlet Plus #{n}",
    "Super Stop #{n} / {city}", "Quick Shop / {city}", "{city} Food Pride",
]

# ---------------------------------------------------------------------------------------
# Catalog
# ---------------------------------------------------------------------------------------


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


CHAIN_NAMES: dict[str, tuple[tuple[str, ...], int, int]] = {
    "hyvee": (("Hy-Vee Food Store #{n} / {city}", "Hy-Vee #{n} / {city}",
               "Hy-Vee Wine and Spirits #{n} / {city}"), 1, 999),
    "caseys": (("Casey's General Store #{n} / {city}",), 1000, 3999),
    "fareway": (("Fareway Stores #{n} / {city}",), 100, 999),
    "kumgo": (("Kum & Go #{n} / {city}",), 1, 999),
    "kwikstar": (("Kwik Star #{n} / {city}",), 100, 1299),
    "quiktrip": (("QuikTrip #{n} / {city}",), 500, 899),
    "walmart": (("Wal-Mart {n:04d} / {city}",), 1, 5999),
    "walgreens": (("Walgreens #{n} / {city}",), 3000, 19999),
    "dollargeneral": (("Dollar General Store #{n} / {city}",), 1000, 24999),
    "target": (("Target Store T-{n:04d} / {city}",), 1, 3999),
    "samsclub": (("Sam's Club {n} / {city}",), 4700, 8299),
    "costco": (("Costco Wholesale #{n} / {city}",), 100, 1399),
    "cvs": (("CVS Pharmacy #{n} / {city}",), 1000, 9999),
}


def _store_name(rnd: random.Random, chain: str, city: str, used: set[str]) -> str:
    """A store name not used before: a chain's numbered store or an independent."""
    while True:
        if chain in CHAIN_NAMES:
            patterns, lo, hi = CHAIN_NAMES[chain]
            name = rnd.choice(patterns).format(n=rnd.randint(lo, hi), city=city)
        else:
            fixed = [n for n in INDEPENDENTS if n not in used]
            if fixed and rnd.random() < 0.05:
                name = fixed[0]
            else:
                name = rnd.choice(INDEPENDENT_PATTERNS).format(
                    city=city, surname=rnd.choice(SURNAMES).title(), n=rnd.randint(1, 99),
                    word=rnd.choice(BRAND_FIRST).title())
        if name not in used:
            used.add(name)
            return name


def _build_stores(rnd: random.Random, n_stores: int = 1500) -> tuple[Store, ...]:
    per_county = [4 + c for c in _largest_remainder(n_stores - 4 * len(COUNTIES),
                                                    [float(p) for _, p, _ in COUNTIES])]
    numbers = rnd.sample(range(2000, 10001), n_stores)
    used_names: set[str] = set()
    stores: list[Store] = []
    for county_number, ((county, population, cities), count) in enumerate(
            zip(COUNTIES, per_county, strict=True), start=1):
        chains = [(c, w) for c, w, big in CHAINS if population >= 35 or not big]
        for _ in range(count):
            chain = rnd.choices([c for c, _ in chains], [w for _, w in chains])[0]
            city, zip_code, lat, lon = rnd.choices(cities, [2.0] + [1.0] * (len(cities) - 1))[0]
            lat += rnd.uniform(-0.03, 0.03)
            lon += rnd.uniform(-0.03, 0.03)
            location = "" if rnd.random() < 0.05 else f"POINT ({lon:.6f} {lat:.6f})"
            address = f"{rnd.randint(100, 9999)} {rnd.choice(STREETS)}"
            stores.append(Store(
                number=numbers[len(stores)],
                name=_store_name(rnd, chain, city, used_names),
                address=address, city=city.upper(), zip_code=zip_code, location=location,
                county_number=county_number, county=county.upper(),
                employee_id=_territory(lat, lon),
                weight=CHAIN_SIZE[chain] * math.exp(rnd.gauss(0.0, 0.6)),
            ))
    return tuple(stores)


def _build_vendors(rnd: random.Random, n_generated: int = 300) -> list[tuple[Vendor, float]]:
    vendors = [(Vendor(number, name), share) for number, name, share in REAL_VENDORS]
    used_numbers = {v.number for v, _ in vendors}
    used_names = {v.name for v, _ in vendors}
    free_numbers = [n for n in range(1, 1300) if n not in used_numbers]
    numbers = rnd.sample(free_numbers, n_generated)
    cities = [c[0].upper() for _, _, cs in COUNTIES for c in cs]
    while len(vendors) < len(REAL_VENDORS) + n_generated:
        head = rnd.choice(SURNAMES) if rnd.random() < 0.6 else rnd.choice(cities)
        name = f"{head} {rnd.choice(VENDOR_SUFFIXES)}"
        if name not in used_names:
            used_names.add(name)
            share = 0.4 * math.exp(rnd.gauss(0.0, 0.7))
            vendors.append((Vendor(numbers[len(vendors) - len(REAL_VENDORS)], name), share))
    return vendors


def _cost_cents(base_750: float, volume_ml: int, rnd: random.Random) -> int:
    dollars = base_750 * SIZE_COST_FACTOR[volume_ml] * rnd.uniform(0.95, 1.05)
    return max(49, round(dollars * 100))


def _make_product_items(rnd: random.Random, description: str, category: Category,
                        vendor: Vendor, base_750: float, sizes: tuple[int, ...],
                        product_weight: float) -> list[Item]:
    share_total = sum(SIZE_SHARE[s] for s in sizes)
    items = []
    for size in sizes:
        packs = SIZE_PACKS[size]
        pack = packs[0] if len(packs) == 1 or rnd.random() < 0.8 else packs[1]
        weight = product_weight * SIZE_SHARE[size] / share_total * math.exp(rnd.gauss(0, 0.2))
        items.append(Item(0, description, category, vendor, pack, size,
                          _cost_cents(base_750, size, rnd), weight))
    return items


def _generated_products(rnd: random.Random, vendors: list[tuple[Vendor, float]],
                        n_items: int) -> list[tuple[str, Category, Vendor, float, tuple[int, ...]]]:
    categories = {cid: (Category(cid, name), fam, costs, w)
                  for cid, name, fam, costs, w in CATEGORIES}
    by_family: dict[str, list[int]] = {}
    for cid, _, fam, _, _ in CATEGORIES:
        by_family.setdefault(fam, []).append(cid)
    curated_vendors = {v for _, v, _, _, _ in PRODUCTS}
    # every vendor without a curated product gets at least one generated brand
    owners = [v for v, _ in vendors if v.name not in curated_vendors]
    vendor_pool, vendor_weights = [v for v, _ in vendors], [s for _, s in vendors]
    brands = [f"{a} {b}" for a in BRAND_FIRST for b in BRAND_SECOND]
    rnd.shuffle(brands)
    products: list[tuple[str, Category, Vendor, float, tuple[int, ...]]] = []
    used: set[str] = {p[0] for p in PRODUCTS}
    n_planned = sum(len(p[4]) for p in PRODUCTS)
    for brand in brands:
        if n_planned >= n_items and not owners:
            break
        vendor = owners.pop() if owners else rnd.choices(vendor_pool, vendor_weights)[0]
        family = rnd.choices(list(by_family), [sum(categories[c][3] for c in cs)
                                               for cs in by_family.values()])[0]
        for _ in range(rnd.choices([1, 2, 3, 4], [0.45, 0.3, 0.15, 0.1])[0]):
            cid = rnd.choices(by_family[family], [categories[c][3] for c in by_family[family]])[0]
            category, _, (lo, hi), _ = categories[cid]
            description = f"{brand} {rnd.choice(STYLES[cid])}"
            if description in used:
                continue
            used.add(description)
            extra = rnd.choices([0, 1, 2, 3, 4], [0.25, 0.35, 0.22, 0.12, 0.06])[0]
            sizes = {750}
            while len(sizes) < 1 + extra:
                sizes.add(rnd.choices(EXTRA_SIZES, EXTRA_SIZE_WEIGHTS)[0])
            base = math.exp(rnd.uniform(math.log(lo), math.log(hi)))
            products.append((description, category, vendor, base, tuple(sorted(sizes))))
            n_planned += len(sizes)
    return products


def _zipf(rank: int) -> float:
    """Popularity of the product ranked ``rank`` (1 = best seller)."""
    return (rank + ZIPF_OFFSET) ** -ZIPF_EXPONENT


def _build_items(rnd: random.Random, vendors: list[tuple[Vendor, float]],
                 n_items: int = 3600) -> tuple[Item, ...]:
    by_name = {v.name: v for v, _ in vendors}
    category_of = {cid: Category(cid, name) for cid, name, _, _, _ in CATEGORIES}
    category_weight = {cid: w for cid, _, _, _, w in CATEGORIES}
    generated = _generated_products(rnd, vendors, n_items)
    # weighted random order of generated products (exponential race on category weight)
    generated.sort(key=lambda p: -math.log(1.0 - rnd.random()) / category_weight[p[1].id])
    items: list[Item] = []
    rank = 0
    for description, vendor_name, cid, base, sizes in PRODUCTS:
        rank += 1
        items += _make_product_items(rnd, description, category_of[cid], by_name[vendor_name],
                                     base, sizes, _zipf(rank))
    for description, category, vendor, base, sizes in generated:
        rank += 1
        items += _make_product_items(rnd, description, category, vendor, base, sizes,
                                     _zipf(rank))
    numbers = rnd.sample(range(10_000, 1_000_000), len(items))
    return tuple(Item(n, it.description, it.category, it.vendor, it.pack, it.volume_ml,
                      it.cost_cents, it.weight) for n, it in zip(numbers, items, strict=True))


@functools.lru_cache(maxsize=1)
def catalog() -> Catalog:
    """The fixed reference data (stores, vendors, categories, items); same for every seed."""
    rnd = random.Random(CATALOG_SEED)
    stores = _build_stores(rnd)
    vendors = _build_vendors(rnd)
    items = _build_items(rnd, vendors)
    categories = tuple(Category(cid, name) for cid, name, _, _, _ in CATEGORIES)
    return Catalog(stores, tuple(v for v, _ in vendors), categories, items)


# ---------------------------------------------------------------------------------------
# Calendar model
# ---------------------------------------------------------------------------------------

WEEKDAY_FACTOR = (1.22, 1.28, 1.20, 1.10, 0.60, 0.07, 0.006)  # Monday .. Sunday
MONTH_FACTOR = (0.82, 0.88, 0.95, 0.97, 1.05, 1.04, 1.03, 1.02, 0.97, 1.00, 1.06, 1.0)
ANNUAL_GROWTH = 1.15


def _thanksgiving(year: int) -> date:
    first = date(year, 11, 1)
    return first + timedelta(days=(3 - first.weekday()) % 7 + 21)


def _holiday_factor(day: date) -> float:
    """December (~+40 % on average), closures and the days before holidays."""
    m, d = day.month, day.day
    if (m, d) in {(1, 1), (7, 4), (12, 25)} or day == _thanksgiving(day.year):
        return 0.0
    if m == 12:
        if d <= 14:
            return 1.30
        if d <= 23:
            return 1.70
        return 0.90 if d == 24 else 1.50
    if m == 11 and 0 < (_thanksgiving(day.year) - day).days <= 3:
        return 1.30
    if m in (6, 7) and 0 < (date(day.year, 7, 4) - day).days <= 7:
        return 1.15
    return MONTH_FACTOR[m - 1]


def day_weight(day: date, start: date) -> float:
    """Expected relative volume of ``day`` (before noise)."""
    years = (day - start).days / 365.25
    return WEEKDAY_FACTOR[day.weekday()] * _holiday_factor(day) * ANNUAL_GROWTH ** years


def _rows_per_day(rng: np.random.Generator, rows: int, start: date, end: date) -> np.ndarray:
    n_days = (end - start).days + 1
    weights = np.array([day_weight(start + timedelta(days=i), start) for i in range(n_days)])
    weights *= rng.lognormal(0.0, 0.08, n_days)
    if weights.sum() <= 0:
        weights = np.ones(n_days)
    cum = np.cumsum(weights)
    bounds = np.floor(cum / cum[-1] * rows + 0.5).astype(np.int64)
    bounds[-1] = rows
    return np.diff(bounds, prepend=0)


# ---------------------------------------------------------------------------------------
# Sampling
# ---------------------------------------------------------------------------------------

CHUNK_ROWS = 16_384
PROGRESS_EVERY = 5_000
FIRST_INVOICE = 10_000_000
INVOICE_SIZE_WEIGHTS = np.array([5, 6, 8, 9, 10, 10, 10, 9, 9, 8, 8, 8], dtype=float)
BOTTLE_VALUES = np.array([1, 2, 3, 4, 5, 6, 8, 10, 12], dtype=np.int64)
BOTTLE_WEIGHTS = np.array([0.22, 0.14, 0.10, 0.08, 0.04, 0.17, 0.05, 0.04, 0.16])
CASE_SHARE = 0.06
PRICE_CHANGE_SHARE = 0.03
BOTTLE_BITS = 7  # bottles sold < 128 (two cases of 48)
NEVER = np.iinfo(np.int64).max


def _cdf(weights: np.ndarray) -> np.ndarray:
    cdf = np.cumsum(weights, dtype=float)
    return cdf / cdf[-1]


@dataclass(frozen=True)
class _Tables:
    store_cdf: np.ndarray
    item_cdf: np.ndarray
    item_pack: np.ndarray
    invoice_size_cdf: np.ndarray
    bottle_cdf: np.ndarray


@functools.lru_cache(maxsize=1)
def _tables() -> _Tables:
    cat = catalog()
    return _Tables(
        store_cdf=_cdf(np.array([s.weight for s in cat.stores])),
        item_cdf=_cdf(np.array([i.weight for i in cat.items])),
        item_pack=np.array([i.pack for i in cat.items], dtype=np.int64),
        invoice_size_cdf=_cdf(INVOICE_SIZE_WEIGHTS),
        bottle_cdf=_cdf(BOTTLE_WEIGHTS),
    )


def _pick(rng: np.random.Generator, cdf: np.ndarray, n: int) -> np.ndarray:
    return np.minimum(np.searchsorted(cdf, rng.random(n), side="right"), len(cdf) - 1)


@dataclass(frozen=True)
class _PricePlan:
    change_day: np.ndarray  # date ordinal from which item i has its new price, or NEVER
    new_cost: dict[int, int]  # item index -> new cost in cents


def _price_plan(rng: np.random.Generator, start: date, end: date) -> _PricePlan:
    items = catalog().items
    n_items = len(items)
    chosen = np.flatnonzero(rng.random(n_items) < PRICE_CHANGE_SHARE)
    days = rng.integers(start.toordinal(), end.toordinal() + 1, size=len(chosen))
    bumps = rng.uniform(0.03, 0.07, size=len(chosen))
    change_day = np.full(n_items, NEVER, dtype=np.int64)
    change_day[chosen] = days
    new_cost = {}
    for i, bump in zip(chosen.tolist(), bumps.tolist(), strict=True):
        old = items[i].cost_cents
        factor = Decimal(f"{1 + bump:.4f}")
        new_cost[i] = max(old + 1, int((old * factor).to_integral_value(ROUND_HALF_UP)))
    return _PricePlan(change_day, new_cost)


@dataclass(frozen=True)
class _Block:
    invoices: list[int]
    sizes: list[int]
    stores: list[int]
    keys: list[int]  # per line: ((item * 2 + price version) << BOTTLE_BITS) | bottles


def _invoice_sizes(rng: np.random.Generator, tables: _Tables, k: int) -> np.ndarray:
    sizes = np.empty(0, dtype=np.int64)
    while sizes.sum() < k:
        more = 1 + _pick(rng, tables.invoice_size_cdf, max(8, k // 5))
        sizes = np.concatenate([sizes, more])
    cum = np.cumsum(sizes)
    last = int(np.searchsorted(cum, k))
    sizes = sizes[: last + 1].copy()
    sizes[-1] -= int(cum[last]) - k
    return sizes


def _distinct_items(rng: np.random.Generator, tables: _Tables, owner: np.ndarray,
                    items: np.ndarray) -> np.ndarray:
    """Redraw items that repeat within an invoice (a few passes; leftovers are rare)."""
    n_items = len(tables.item_cdf)
    for _ in range(6):
        key = owner * n_items + items
        order = np.argsort(key, kind="stable")
        repeat = np.zeros(len(items), dtype=bool)
        repeat[order[1:]] = key[order[1:]] == key[order[:-1]]
        n_repeat = int(repeat.sum())
        if not n_repeat:
            break
        items[repeat] = _pick(rng, tables.item_cdf, n_repeat)
    return items


def _draw_block(rng: np.random.Generator, tables: _Tables, plan: _PricePlan, k: int,
                day_ordinal: int, next_invoice: int) -> _Block:
    sizes = _invoice_sizes(rng, tables, k)
    n_inv = len(sizes)
    invoices = next_invoice + np.cumsum(rng.integers(1, 4, size=n_inv)) - 1
    stores = _pick(rng, tables.store_cdf, n_inv)
    owner = np.repeat(np.arange(n_inv), sizes)
    items = _distinct_items(rng, tables, owner, _pick(rng, tables.item_cdf, k))
    bottles = BOTTLE_VALUES[_pick(rng, tables.bottle_cdf, k)]
    case = rng.random(k) < CASE_SHARE
    cases = 1 + (rng.random(k) < 0.2)
    bottles = np.where(case, tables.item_pack[items] * cases, bottles)
    version = (plan.change_day[items] <= day_ordinal).astype(np.int64)
    keys = ((items * 2 + version) << BOTTLE_BITS) | bottles
    return _Block(invoices.tolist(), sizes.tolist(), stores.tolist(), keys.tolist())


# ---------------------------------------------------------------------------------------
# Rendering
# ---------------------------------------------------------------------------------------

LINE_SUFFIX = [f"{n:05d}" for n in range(13)]
GALLONS_PER_LITER = Decimal("0.264172")
CENT = Decimal("0.01")
CSV_DIALECT = {"quoting": csv.QUOTE_MINIMAL, "lineterminator": "\n"}
Output = Literal["iowa", "compact", "csv", "jsonl"]


def _volume_strings(volume_ml: int, bottles: int) -> tuple[str, str]:
    liters = Decimal(bottles * volume_ml) / 1000
    gallons = liters * GALLONS_PER_LITER
    return (str(liters.quantize(CENT, ROUND_HALF_UP)), str(gallons.quantize(CENT, ROUND_HALF_UP)))


def _iowa_store(s: Store) -> dict[str, object]:
    return {"Store Number": str(s.number), "Store Name": s.name, "Address": s.address,
            "City": s.city, "Zip Code": s.zip_code, "Store Location": s.location,
            "County Number": str(s.county_number), "County": s.county}


def _compact_store(s: Store) -> dict[str, object]:
    return {"StoreNumber": s.number, "StoreName": s.name, "Address": s.address, "City": s.city,
            "ZipCode": s.zip_code, "CountyNumber": s.county_number, "County": s.county}


def _iowa_item(it: Item, cost: int) -> dict[str, object]:
    return {"Category": str(it.category.id), "Category Name": it.category.name,
            "Vendor Number": str(it.vendor.number), "Vendor Name": it.vendor.name,
            "Item Number": str(it.number), "Item Description": it.description,
            "Pack": str(it.pack), "Bottle Volume (ml)": str(it.volume_ml),
            "State Bottle Cost": format_cents(cost),
            "State Bottle Retail": format_cents(retail_cents(cost))}


def _compact_item(it: Item, cost: int) -> dict[str, object]:
    return {"Category": it.category.id, "CategoryName": it.category.name,
            "VendorNumber": it.vendor.number, "VendorName": it.vendor.name,
            "ItemNumber": it.number, "ItemDescription": it.description, "Pack": it.pack,
            "BottleVolumeML": it.volume_ml, "BottleCost": format_cents(cost),
            "BottleRetail": format_cents(retail_cents(cost))}


def _csv_fragment(part: dict[str, object]) -> str:
    """The fields of ``part`` encoded exactly as ``csv.writer`` encodes them in a row."""
    buffer = io.StringIO()
    csv.writer(buffer, **CSV_DIALECT).writerow(part.values())
    return buffer.getvalue()[:-1]


def _json_fragment(part: dict[str, object]) -> str:
    """The members of ``part`` as orjson writes them inside an object (no braces)."""
    return orjson.dumps(part).decode()[1:-1]


class _Renderer:
    """Turns blocks into output rows for one output kind.

    Store and item parts are built once per (store) and (item, price version); the
    per-line tail (bottles, dollars, volume) is built on first use of an (item, price
    version, bottles) key and cached. ``iowa``/``compact`` yield dicts; ``csv``/``jsonl``
    yield ready-made lines byte-identical to encoding those dicts with ``csv``/orjson.
    """

    def __init__(self, output: Output, plan: _PricePlan) -> None:
        cat = catalog()
        self.output = output
        self.items = cat.items
        self.costs = [it.cost_cents for it in cat.items]
        self.new_cost = plan.new_cost
        self.employees = [s.employee_id for s in cat.stores]
        iowa = output in ("iowa", "csv")
        store_part, item_part = (_iowa_store, _iowa_item) if iowa else (_compact_store,
                                                                         _compact_item)
        encode: Callable[[dict[str, object]], object] = {
            "iowa": dict, "compact": dict, "csv": _csv_fragment, "jsonl": _json_fragment,
        }[output]
        self.stores = [encode(store_part(s)) for s in cat.stores]
        self.item_parts: list[object] = []
        for i, it in enumerate(cat.items):
            base = encode(item_part(it, it.cost_cents))
            changed = encode(item_part(it, plan.new_cost[i])) if i in plan.new_cost else base
            self.item_parts += [base, changed]
        self.tails: dict[int, object] = {}
        self.rows = {"iowa": self._iowa_rows, "compact": self._compact_rows,
                     "csv": self._csv_lines, "jsonl": self._jsonl_lines}[output]

    def tail(self, key: int) -> object:
        item_version, bottles = key >> BOTTLE_BITS, key & ((1 << BOTTLE_BITS) - 1)
        index, version = divmod(item_version, 2)
        cost = self.new_cost[index] if version else self.costs[index]
        sale = format_cents(bottles * retail_cents(cost))
        liters, gallons = _volume_strings(self.items[index].volume_ml, bottles)
        value: object
        if self.output == "iowa":
            value = (str(bottles), sale, liters, gallons)
        elif self.output == "compact":
            value = (bottles, sale, liters)
        elif self.output == "csv":
            value = f"{bottles},{sale},{liters},{gallons}\n"
        else:
            value = _json_fragment({"BottlesSold": bottles, "SaleDollars": sale,
                                    "VolumeSoldLiters": liters})
        self.tails[key] = value
        return value

    def _iowa_rows(self, block: _Block, day: str) -> Iterator[dict[str, object]]:
        tails, parts, keys, pos = self.tails, self.item_parts, block.keys, 0
        for invoice, size, store in zip(block.invoices, block.sizes, block.stores, strict=True):
            prefix, store_part = f"INV-{invoice:08d}", self.stores[store]
            for line in range(1, size + 1):
                key = keys[pos]
                pos += 1
                t = tails.get(key) or self.tail(key)
                yield {"Invoice/Item Number": prefix + LINE_SUFFIX[line], "Date": day,
                       **store_part, **parts[key >> BOTTLE_BITS], "Bottles Sold": t[0],
                       "Sale (Dollars)": t[1], "Volume Sold (Liters)": t[2],
                       "Volume Sold (Gallons)": t[3]}

    def _compact_rows(self, block: _Block, day: str) -> Iterator[dict[str, object]]:
        tails, parts, keys, pos = self.tails, self.item_parts, block.keys, 0
        for invoice, size, store in zip(block.invoices, block.sizes, block.stores, strict=True):
            prefix, store_part = f"INV-{invoice:08d}", self.stores[store]
            employee = self.employees[store]
            for line in range(1, size + 1):
                key = keys[pos]
                pos += 1
                t = tails.get(key) or self.tail(key)
                yield {"Invoice": prefix + LINE_SUFFIX[line], "Date": day, **store_part,
                       **parts[key >> BOTTLE_BITS], "BottlesSold": t[0], "SaleDollars": t[1],
                       "VolumeSoldLiters": t[2], "EmployeeID": employee, "State": "IA"}

    def _csv_lines(self, block: _Block, day: str) -> Iterator[str]:
        tails, parts, keys, pos = self.tails, self.item_parts, block.keys, 0
        for invoice, size, store in zip(block.invoices, block.sizes, block.stores, strict=True):
            head = f",{day},{self.stores[store]},"
            prefix = f"INV-{invoice:08d}"
            for line in range(1, size + 1):
                key = keys[pos]
                pos += 1
                tail = tails.get(key) or self.tail(key)
                yield f"{prefix}{LINE_SUFFIX[line]}{head}{parts[key >> BOTTLE_BITS]},{tail}"

    def _jsonl_lines(self, block: _Block, day: str) -> Iterator[str]:
        tails, parts, keys, pos = self.tails, self.item_parts, block.keys, 0
        for invoice, size, store in zip(block.invoices, block.sizes, block.stores, strict=True):
            head = f'","Date":"{day}",{self.stores[store]},'
            end = f',"EmployeeID":{self.employees[store]},"State":"IA"}}\n'
            prefix = f'{{"Invoice":"INV-{invoice:08d}'
            for line in range(1, size + 1):
                key = keys[pos]
                pos += 1
                tail = tails.get(key) or self.tail(key)
                yield f"{prefix}{LINE_SUFFIX[line]}{head}{parts[key >> BOTTLE_BITS]},{tail}{end}"


# ---------------------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------------------


def _check(rows: int, start: date, end: date) -> None:
    if rows < 0:
        raise ValueError(f"rows must be >= 0, got {rows}")
    if end < start:
        raise ValueError(f"end {end} is before start {start}")


def iter_sales(rows: int, *, seed: int = 42, start: date = DEFAULT_START,
               end: date = DEFAULT_END, style: Style = "iowa") -> Iterator[dict[str, object]]:
    """Yield ``rows`` synthetic sale lines ordered by date (see the module docstring).

    ``style="iowa"``: keys are ``IOWA_CSV_HEADER``, values strings as in the CSV export.
    ``style="compact"``: the sales app's compact JSON keys (``COMPACT_KEYS``).
    """
    _check(rows, start, end)
    if style not in ("iowa", "compact"):
        raise ValueError(f"unknown style {style!r}")
    return _generate(rows, seed, start, end, style)  # type: ignore[return-value]


def _generate(rows: int, seed: int, start: date, end: date, output: Output) -> Iterator[object]:
    rng = np.random.default_rng(seed)
    tables = _tables()
    plan = _price_plan(rng, start, end)
    per_day = _rows_per_day(rng, rows, start, end)
    emit = _Renderer(output, plan).rows
    iowa_dates = output in ("iowa", "csv")
    next_invoice = FIRST_INVOICE
    for offset in np.flatnonzero(per_day).tolist():
        day = start + timedelta(days=offset)
        label = day.strftime("%m/%d/%Y") if iowa_dates else day.isoformat()
        remaining = int(per_day[offset])
        while remaining:
            k = min(remaining, CHUNK_ROWS)
            block = _draw_block(rng, tables, plan, k, day.toordinal(), next_invoice)
            next_invoice = block.invoices[-1] + 1
            remaining -= k
            yield from emit(block, label)


def write_sales(path: Path, rows: int, *, seed: int = 42, fmt: Literal["csv", "jsonl"] = "csv",
                start: date = DEFAULT_START, end: date = DEFAULT_END,
                progress: Callable[[int], None] | None = None) -> int:
    """Write ``rows`` sales to ``path``; returns the number of rows written.

    csv: the Iowa export (header row, then rows, as ``csv.writer`` with QUOTE_MINIMAL and
    ``\n`` line ends writes them); jsonl: one compact JSON object per line (as orjson
    writes ``iter_sales(style="compact")``). The same sales as ``iter_sales`` with the same
    arguments. ``progress(n)`` is called with the number of rows just written, every
    ``PROGRESS_EVERY`` rows and at the end.
    """
    if fmt not in ("csv", "jsonl"):
        raise ValueError(f"unknown format {fmt!r}")
    _check(rows, start, end)
    lines = _generate(rows, seed, start, end, fmt)
    written = 0
    with Path(path).open("w", newline="", encoding="utf-8") as out:
        if fmt == "csv":
            csv.writer(out, **CSV_DIALECT).writerow(IOWA_CSV_HEADER)
        while batch := list(itertools.islice(lines, PROGRESS_EVERY)):
            out.write("".join(batch))  # type: ignore[arg-type]
            written += len(batch)
            if progress is not None:
                progress(len(batch))
    return written
