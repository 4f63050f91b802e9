"""Read-only reports: MTTA, MTTR, SLA compliance, alert noise, on-call load; charts and CSV."""
