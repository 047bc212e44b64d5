"""Data contract v1: the sale message (CONTRACT §3)."""

from oaken.contract.sale import FIELD_ALIASES, REQUIRED, Sale, decode_sale, parse_sale

__all__ = ["FIELD_ALIASES", "REQUIRED", "Sale", "decode_sale", "parse_sale"]
