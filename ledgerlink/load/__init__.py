"""Loads: plan QBO writes into the outbox, send them in batches, push status back to Salesforce."""
