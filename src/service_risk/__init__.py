"""Service Risk Warehouse: source simulator, extraction, notifications and CLI."""

__version__ = "0.1.0"
