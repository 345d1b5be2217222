"""The data a sandbox serves, and the ground truth written beside it.

Contract between the generator (`sandbox.generator`), scenario files and the two emulators:

* `salesforce[object]` is a list of records keyed by API field name (`Id`, `Name`,
  `AccountId`, `SystemModstamp`, `IsDeleted`, custom `..__c` fields). Datetimes are timezone
  aware `datetime` (UTC), dates are `date`, money is `Decimal`. Ids are 18 characters with the
  real key prefixes (001 Account, 003 Contact, 006 Opportunity, 00k OpportunityLineItem,
  01t Product2, 01u PricebookEntry, 005 User, 01s Pricebook2).
* `qbo[entity]` is a list of entities in QBO's JSON shape (`Id` and `SyncToken` strings,
  `MetaData.CreateTime` / `LastUpdatedTime` ISO strings with offset, refs as `{"value": ..}`,
  `Line` lists, `TotalAmt`, `Balance`, `CurrencyRef`, `ExchangeRate`, `HomeTotalAmt`).
* `truth` is what a perfect pipeline would conclude (see `GroundTruth`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date


@dataclass
class GroundTruth:
    # (sf_account_id, qb_customer_id) pairs that are the same real company.
    customer_links: list[tuple[str, str]] = field(default_factory=list)
    # Groups of ids inside one system that are the same real company (size >= 2).
    sf_duplicate_clusters: list[list[str]] = field(default_factory=list)
    qb_duplicate_clusters: list[list[str]] = field(default_factory=list)
    # One dict per reconciliation row, per `ledgerlink.reconcile.rules`:
    # {"month": "YYYY-MM", "sf_opportunity_id": str | None, "qb_invoice_id": str | None,
    #  "category": Category value, "closed_won_home": Decimal, "invoiced_home": Decimal}
    reconciliation: list[dict] = field(default_factory=list)

    def to_json(self) -> dict:
        def plain(row: dict) -> dict:
            return {k: (str(v) if v is not None and not isinstance(v, str) else v) for k, v in row.items()}

        return {
            "customer_links": [list(p) for p in self.customer_links],
            "sf_duplicate_clusters": self.sf_duplicate_clusters,
            "qb_duplicate_clusters": self.qb_duplicate_clusters,
            "reconciliation": [plain(r) for r in self.reconciliation],
        }


@dataclass
class Dataset:
    salesforce: dict[str, list[dict]] = field(default_factory=dict)
    qbo: dict[str, list[dict]] = field(default_factory=dict)
    truth: GroundTruth = field(default_factory=GroundTruth)
    # The "today" the data was generated for: aging and close dates are relative to it.
    as_of: date = field(default_factory=date.today)
    # What the generator intended for each case (for cross-checks), profile, seed, ...
    extras: dict = field(default_factory=dict)
