"""Placeholder until the extract stage lands."""

import dagster as dg

defs = dg.Definitions()
