"""Source-system simulator: fills src_marketing, src_95598 and src_command (shared/spec/sources.md)."""

from service_risk.simulator.engine import SimulationSummary, simulate
from service_risk.simulator.live import LiveSummary, run_live

__all__ = ["LiveSummary", "SimulationSummary", "run_live", "simulate"]
