"""The events the workers exchange on ``sales.recorded`` and ``shipments.scheduled``.

Each carries what the next stage needs, so no stage reads another's tables on the hot
path. Money travels as a decimal string; the event id is the invoice line id, which
downstream stages use to make redelivery harmless.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import orjson

from oaken.errors import ContractError


@dataclass(frozen=True, slots=True)
class SaleRecorded:
    invoice_line_id: str
    sale_date: date
    store_id: int
    sale_dollars: Decimal
    bottles_sold: int
    bottle_cost: Decimal | None

    def encode(self) -> bytes:
        return orjson.dumps({
            "type": "sale.recorded",
            "invoice_line_id": self.invoice_line_id,
            "sale_date": self.sale_date.isoformat(),
            "store_id": self.store_id,
            "sale_dollars": str(self.sale_dollars),
            "bottles_sold": self.bottles_sold,
            "bottle_cost": None if self.bottle_cost is None else str(self.bottle_cost),
        })

    @classmethod
    def decode(cls, payload: bytes) -> SaleRecorded:
        try:
            data = orjson.loads(payload)
            cost = data["bottle_cost"]
            return cls(
                invoice_line_id=str(data["invoice_line_id"]),
                sale_date=date.fromisoformat(data["sale_date"]),
                store_id=int(data["store_id"]),
                sale_dollars=Decimal(data["sale_dollars"]),
                bottles_sold=int(data["bottles_sold"]),
                bottle_cost=None if cost is None else Decimal(cost),
            )
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, ArithmeticError) as e:
            raise ContractError([f"sale.recorded event: {type(e).__name__}: {e}"[:300]]) from None


@dataclass(frozen=True, slots=True)
class ShipmentScheduled:
    invoice_line_id: str
    sale_date: date
    ship_date: date
    shipping_cost: Decimal

    def encode(self) -> bytes:
        return orjson.dumps({
            "type": "shipment.scheduled",
            "invoice_line_id": self.invoice_line_id,
            "sale_date": self.sale_date.isoformat(),
            "ship_date": self.ship_date.isoformat(),
            "shipping_cost": str(self.shipping_cost),
        })

    @classmethod
    def decode(cls, payload: bytes) -> ShipmentScheduled:
        try:
            data = orjson.loads(payload)
            return cls(
                invoice_line_id=str(data["invoice_line_id"]),
                sale_date=date.fromisoformat(data["sale_date"]),
                ship_date=date.fromisoformat(data["ship_date"]),
                shipping_cost=Decimal(data["shipping_cost"]),
            )
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, ArithmeticError) as e:
            raise ContractError(
                [f"shipment.scheduled event: {type(e).__name__}: {e}"[:300]]
            ) from None
