"""Data contract v1: the sale message (docs/data-contract.md)."""

from oaken.contract.sale import FIELD_ALIASES, REQUIRED, Sale, decode_sale, parse_sale

__all__ = ["FIELD_ALIASES", "REQUIRED", "Sale", "decode_sale", "parse_sale"]
