"""API clients for Salesforce and QuickBooks Online, shared by the extract and load stages.

`salesforce.SalesforceClient` and `qbo.QboClient` wrap the real client libraries
(simple-salesforce, python-quickbooks, intuit-oauth) with what they lack: re-authentication,
bounded retries with backoff, QBO's shared rate limits, and rotated refresh tokens saved
encrypted in Postgres (`tokens`).
"""
