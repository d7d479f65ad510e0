"""Incremental extraction of the source systems into the warehouse's landing schema."""

from service_risk.extract.core import ExtractResult, extract_table, landing_columns

__all__ = ["ExtractResult", "extract_table", "landing_columns"]
