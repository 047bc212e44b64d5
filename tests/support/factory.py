"""Small, readable sale records for tests (compact spelling of the sales app)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal


def sale(n: int, **change: object) -> dict[str, object]:
    """Sale line ``n``: three lines per invoice, 40 stores, 120 items, cents that vary."""
    item = 100 + n % 120
    cost = Decimal(900 + item * 7) / 100
    retail = (cost * Decimal("1.5")).quantize(Decimal("0.01"))
    bottles = 1 + n % 12
    record: dict[str, object] = {
        "Invoice": f"INV-{n // 3:08d}{n % 3 + 1:05d}",
        "Date": (date(2025, 1, 6) + timedelta(days=n % 200)).isoformat(),
        "StoreNumber": 2000 + n % 40,
        "StoreName": f"Hy-Vee #{n % 40} / Ames",
        "City": "Ames", "County": "Story", "CountyNumber": 85, "ZipCode": "50010",
        "Category": 1011200 + item % 5, "CategoryName": f"CATEGORY {item % 5}",
        "VendorNumber": 60 + item % 9, "VendorName": f"VENDOR {item % 9}",
        "ItemNumber": item, "ItemDescription": f"ITEM {item}",
        "Pack": 12, "BottleVolumeML": 750,
        "BottleCost": str(cost), "BottleRetail": str(retail),
        "BottlesSold": bottles, "SaleDollars": str(retail * bottles),
        "EmployeeID": 1 + n % 12,
    }
    record.update(change)
    return record


def dollars(record: dict[str, object]) -> Decimal:
    return Decimal(str(record["SaleDollars"]).replace("$", "").replace(",", ""))
