"""Placeholder until the load stage lands."""

import dagster as dg

defs = dg.Definitions()
