"""Placeholder until the reports stage lands."""

import dagster as dg

defs = dg.Definitions()
