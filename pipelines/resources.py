"""Resources: the warehouse, the settings file, and the two APIs, configured from the environment.

Secrets come in through `dg.EnvVar`, so they are read when a run starts, never stored in run
configuration, and never printed.
"""

from __future__ import annotations

import os
from contextlib import contextmanager

import dagster as dg
import psycopg

from ledgerlink import db
from ledgerlink.config import Settings


class PostgresResource(dg.ConfigurableResource):
    """The Postgres warehouse holding the `staging`, `sync` and `report` schemas."""

    database_url: str

    @contextmanager
    def connect(self, **kwargs):
        with db.connect(self.database_url, **kwargs) as conn:
            yield conn

    def raw_connection(self, **kwargs) -> psycopg.Connection:
        return db.connect(self.database_url, **kwargs)


class SettingsResource(dg.ConfigurableResource):
    """`ledgerlink.yaml` (or the file `LEDGERLINK_CONFIG` names), validated."""

    config_path: str | None = None

    @property
    def settings(self) -> Settings:
        return Settings.load(self.config_path)


class SalesforceResource(dg.ConfigurableResource):
    """A Salesforce org reached with OAuth 2.0 (client credentials, or JWT bearer if a key is set)."""

    login_url: str
    client_id: str
    client_secret: str | None = None
    username: str | None = None
    private_key_file: str | None = None
    api_version: str = "62.0"
    ca_bundle: str | None = None

    def client(self):
        from ledgerlink.clients.salesforce import SalesforceClient, SalesforceCredentials

        return SalesforceClient(SalesforceCredentials(**self.model_dump()))


class QboResource(dg.ConfigurableResource):
    """A QuickBooks Online company (realm) reached with OAuth 2.0 refresh tokens."""

    client_id: str
    client_secret: str
    refresh_token: str
    realm_id: str
    environment: str = "production"  # production | sandbox | a discovery-document URL
    api_url: str | None = None  # overrides the API base, e.g. https://127.0.0.1:8443/v3
    ca_bundle: str | None = None

    def client(self, database_url: str):
        from ledgerlink.clients.qbo import QboClient, QboCredentials

        return QboClient(QboCredentials(**self.model_dump()), database_url=database_url)


def build_resources(resolve_env: bool = False) -> dict:
    """The resources of the code location; `resolve_env=True` reads the values now (preflight)."""

    def required(name: str):
        return os.environ.get(name, "") if resolve_env else dg.EnvVar(name)

    def optional(name: str):
        if not os.environ.get(name):
            return None
        return os.environ[name] if resolve_env else dg.EnvVar(name)

    return {
        "warehouse": PostgresResource(database_url=required(db.DATABASE_URL_ENV)),
        "settings": SettingsResource(config_path=optional("LEDGERLINK_CONFIG")),
        "salesforce": SalesforceResource(
            login_url=required("LEDGERLINK_SF_LOGIN_URL"),
            client_id=required("LEDGERLINK_SF_CLIENT_ID"),
            client_secret=optional("LEDGERLINK_SF_CLIENT_SECRET"),
            username=optional("LEDGERLINK_SF_USERNAME"),
            private_key_file=optional("LEDGERLINK_SF_PRIVATE_KEY_FILE"),
            api_version=os.environ.get("LEDGERLINK_SF_API_VERSION", "62.0"),
            ca_bundle=optional("LEDGERLINK_CA_BUNDLE"),
        ),
        "qbo": QboResource(
            client_id=required("LEDGERLINK_QBO_CLIENT_ID"),
            client_secret=required("LEDGERLINK_QBO_CLIENT_SECRET"),
            refresh_token=required("LEDGERLINK_QBO_REFRESH_TOKEN"),
            realm_id=required("LEDGERLINK_QBO_REALM_ID"),
            environment=os.environ.get("LEDGERLINK_QBO_ENVIRONMENT", "production"),
            api_url=optional("LEDGERLINK_QBO_API_URL"),
            ca_bundle=optional("LEDGERLINK_CA_BUNDLE"),
        ),
    }
