"""Placeholder until the matching stage lands."""

import dagster as dg

defs = dg.Definitions()
