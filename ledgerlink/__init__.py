"""LedgerLink: the nightly Salesforce <-> QuickBooks Online pipeline.

This package holds the plain business logic (no Dagster inside): database access, extract
specs and loaders, the customer matcher, reconciliation, loads, and the `ledgerlink` CLI.
`pipelines/` and `assets/` wire it into Dagster.
"""
