"""Engine modules of the automation app."""

from __future__ import annotations

from datetime import datetime

from warroom.automation import runner
from warroom.engine import registry


@registry.module("automation.workflows", order=250)
def run_workflows(now: datetime) -> int:
    """Run the workflows that incidents' new timeline lines trigger (before paging and sending in the cycle).

    Not ``wake=True``: a wake-up runs the woken modules as a chain, each next one only if the one before moved
    something, and a workflow pass that ran nothing between alert processing and escalation would hold a new
    incident's first page back until the next wake-up. Workflows run in every full cycle (the engine interval)."""
    return runner.run(now)
