"""Engine modules of the automation app."""

from __future__ import annotations

from datetime import datetime

from warroom.automation import runner
from warroom.engine import registry


@registry.module("automation.workflows", order=250, wake=True)
def run_workflows(now: datetime) -> int:
    """Run the workflows that incidents' new timeline lines trigger (before paging and sending in the cycle)."""
    return runner.run(now)
