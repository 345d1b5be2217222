"""Salesforce emulator: OAuth token endpoint, REST (query, sObjects, composite) and Bulk API 2.0.

`org.SalesforceOrg` holds the state (records, sessions, API usage, request log, Bulk jobs);
`app.build_app(org)` serves it; `schema` declares every object and field. Tests reach in through
`org.records[object][id]`, `org.request_log`, `org.expire_sessions()`, `org.api_usage`,
`org.internal_errors` (emulator bugs; expected empty) and `org.jwt_public_key`.
"""
