"""Placeholder until the quality stage lands."""

import dagster as dg

defs = dg.Definitions()
