"""What a finance team tunes, in one YAML file, validated at start.

`ledgerlink.yaml` in the project root holds the defaults; `LEDGERLINK_CONFIG` points at
another file. Unknown or badly typed keys fail at start with the key's dotted path, so a
typo never silently falls back to a default.
"""

from __future__ import annotations

import os
from datetime import date
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ledgerlink import paths
from ledgerlink.db import ConfigurationError
from ledgerlink.reconcile.rules import DEFAULT_RATES, HOME_CURRENCY

CONFIG_ENV = "LEDGERLINK_CONFIG"
DEFAULT_CONFIG_PATH = paths.PROJECT_ROOT / "ledgerlink.yaml"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ScheduleSettings(_Section):
    timezone: str = "UTC"
    # First daily partition; monthly report partitions start at its month.
    start_date: date = date(2025, 1, 1)
    cron: str = "0 2 * * *"

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown timezone {value!r}; use an IANA name such as 'America/New_York'") from None
        return value


class ExtractSettings(_Section):
    # Each incremental read starts this far before the stored watermark, so a record
    # committed late with an earlier timestamp is not lost; the upsert makes re-reads harmless.
    safety_window_minutes: int = Field(10, ge=0)
    # Objects to load in full on the next run, e.g. ["salesforce.Account", "qbo.Invoice"].
    full_refresh: list[str] = []
    bulk_page_size: int = Field(50_000, ge=1, le=1_000_000)
    # Day of the week (0 = Monday ... 6 = Sunday, of the run's partition date) on which each
    # Salesforce extract also sweeps for records purged from the Recycle Bin, which `queryAll`
    # no longer returns; null turns the weekly sweep off.
    purge_sweep_weekday: int | None = Field(6, ge=0, le=6)


class MatchingSettings(_Section):
    auto_link_threshold: float = Field(0.90, gt=0, le=1)
    review_threshold: float = Field(0.75, gt=0, le=1)

    @model_validator(mode="after")
    def _ordered(self) -> MatchingSettings:
        if self.review_threshold > self.auto_link_threshold:
            raise ValueError("review_threshold must not exceed auto_link_threshold")
        return self


FieldOwner = Literal["salesforce", "qbo"]


class FieldOwnership(_Section):
    name: FieldOwner = "salesforce"
    billing_address: FieldOwner = "salesforce"
    email: FieldOwner = "salesforce"
    phone: FieldOwner = "salesforce"
    payment_terms: FieldOwner = "qbo"
    tax_settings: FieldOwner = "qbo"


class ItemMapping(_Section):
    # Match Product2 to a QBO Item by product name or by product code (Item.Sku).
    match_by: Literal["name", "code"] = "name"
    # Product2 Id or name -> QBO Item name, for products whose names differ.
    overrides: dict[str, str] = {}
    # Used (and flagged) when a product has no item.
    fallback_item: str = "Services"


class LoadSettings(_Section):
    closed_won_stages: list[str] = ["Closed Won"]
    item_mapping: ItemMapping = ItemMapping()
    default_term: str = "Net 30"
    # Opportunities changed after invoicing are reported, not rewritten, unless enabled.
    update_changed_invoices: bool = False
    max_attempts: int = Field(5, ge=1)
    # Stop Salesforce writes before this share of the org's remaining daily requests is spent.
    salesforce_budget_share: float = Field(0.5, gt=0, le=1)
    # Below this many records a Salesforce push uses sObject Collections, above it Bulk API 2.0.
    bulk_threshold: int = Field(2_000, ge=1)
    field_ownership: FieldOwnership = FieldOwnership()


class ReportSettings(_Section):
    directory: Path | None = None  # default: $LEDGERLINK_HOME/reports
    home_currency: str = HOME_CURRENCY
    exchange_rates: dict[str, Decimal] = dict(DEFAULT_RATES)

    @property
    def output_dir(self) -> Path:
        return Path(self.directory) if self.directory else paths.home() / "reports"


class Settings(_Section):
    schedule: ScheduleSettings = ScheduleSettings()
    extract: ExtractSettings = ExtractSettings()
    matching: MatchingSettings = MatchingSettings()
    loads: LoadSettings = LoadSettings()
    reports: ReportSettings = ReportSettings()

    @classmethod
    def load(cls, path: str | Path | None = None) -> Settings:
        path = Path(path or os.environ.get(CONFIG_ENV) or DEFAULT_CONFIG_PATH)
        if not path.exists():
            if path == DEFAULT_CONFIG_PATH:
                return cls()
            raise ConfigurationError(f"Config file {path} not found (set {CONFIG_ENV} to an existing file).")
        try:
            data = yaml.safe_load(path.read_text()) or {}
        except yaml.YAMLError as exc:
            raise ConfigurationError(f"{path}: not valid YAML: {exc}") from None
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
            )
            raise ConfigurationError(f"{path}: {problems}") from None


@lru_cache(maxsize=1)
def settings() -> Settings:
    return Settings.load()
