"""QuickBooks Online emulator: one company (realm) behind the Accounting API and Intuit OAuth.

Modules: `company` (state, writes and their side effects, query, batch, CDC), `entities` (accepted
properties and QBO's validation per entity), `query` (the query language), `payload`
(python-quickbooks' payload quirks), `errors` (QBO's fault bodies), `tokens` (OAuth tokens),
`throttle` (per-realm limits), `clock` (company time), `app` (the HTTP faces).
"""
