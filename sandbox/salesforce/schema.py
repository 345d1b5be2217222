"""The emulated org's schema: every object, field, type, read-only flag, external id and relationship.

One declaration serves SOQL validation, DML validation, JSON/CSV formatting and describe calls.
Field sets follow the standard objects (trimmed to what an integration touches) plus the
custom fields LedgerLink writes back. A field that is not declared here does not exist in the
org: reading or writing it is INVALID_FIELD, as in a real org.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Field types as describe() names them.
TEXT_TYPES = frozenset({"string", "textarea", "picklist", "url", "phone", "email"})
NUMBER_TYPES = frozenset({"double", "currency", "percent", "int"})
ID_TYPES = frozenset({"id", "reference"})


@dataclass(frozen=True)
class Field:
    name: str
    type: str
    createable: bool = True
    updateable: bool = True
    # Required on insert (nillable=false with no default), checked as REQUIRED_FIELD_MISSING.
    required: bool = False
    length: int | None = None
    precision: int | None = None
    scale: int | None = None
    external_id: bool = False
    unique: bool = False
    reference_to: str | None = None
    relationship_name: str | None = None
    custom: bool = False

    @property
    def read_only(self) -> bool:
        return not self.createable and not self.updateable


@dataclass
class SObject:
    name: str
    key_prefix: str
    fields: tuple[Field, ...]
    label: str = ""
    by_lower: dict[str, Field] = field(init=False, repr=False)
    relationships: dict[str, Field] = field(init=False, repr=False)
    index: dict[str, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.label = self.label or self.name
        self.by_lower = {f.name.lower(): f for f in self.fields}
        self.relationships = {
            f.relationship_name.lower(): f for f in self.fields if f.relationship_name
        }
        self.index = {f.name: i for i, f in enumerate(self.fields)}

    def field(self, name: str) -> Field | None:
        return self.by_lower.get(name.lower())

    def relationship(self, name: str) -> Field | None:
        return self.relationships.get(name.lower())


def _ro(name: str, type_: str, **kw) -> Field:
    return Field(name, type_, createable=False, updateable=False, **kw)


def _text(name: str, length: int = 255, type_: str = "string", **kw) -> Field:
    return Field(name, type_, length=length, **kw)


def _money(name: str, precision: int = 18, scale: int = 2, **kw) -> Field:
    return Field(name, "currency", precision=precision, scale=scale, **kw)


def _ref(name: str, to: str, rel: str, **kw) -> Field:
    return Field(name, "reference", reference_to=to, relationship_name=rel, length=18, **kw)


def _system() -> tuple[Field, ...]:
    return (
        _ro("Id", "id", length=18),
        _ro("IsDeleted", "boolean"),
        _ro("CreatedDate", "datetime"),
        _ref("CreatedById", "User", "CreatedBy", createable=False, updateable=False),
        _ro("LastModifiedDate", "datetime"),
        _ref("LastModifiedById", "User", "LastModifiedBy", createable=False, updateable=False),
        _ro("SystemModstamp", "datetime"),
    )


def _address(prefix: str) -> tuple[Field, ...]:
    return (
        _text(f"{prefix}Street", 255, "textarea"),
        _text(f"{prefix}City", 40),
        _text(f"{prefix}State", 80),
        _text(f"{prefix}PostalCode", 20),
        _text(f"{prefix}Country", 80),
    )


# CurrencyIsoCode exists only in multi-currency orgs; LedgerLink needs it, so this org is one.
_CURRENCY = Field("CurrencyIsoCode", "picklist", length=3)

ACCOUNT = SObject(
    "Account",
    "001",
    (
        *_system(),
        _text("Name", 255, required=True),
        _text("AccountNumber", 40),
        _text("Site", 80),
        _text("Type", 255, "picklist"),
        _text("Industry", 255, "picklist"),
        _ref("ParentId", "Account", "Parent"),
        *_address("Billing"),
        *_address("Shipping"),
        _text("Phone", 40, "phone"),
        _text("Fax", 40, "phone"),
        _text("Website", 255, "url"),
        _money("AnnualRevenue", 18, 0),
        Field("NumberOfEmployees", "int", precision=8, scale=0),
        _text("Description", 32000, "textarea"),
        _ref("OwnerId", "User", "Owner"),
        _CURRENCY,
        _text("QBO_Customer_Id__c", 255, external_id=True, unique=True, custom=True),
        _money("QBO_Open_Balance__c", 16, 2, custom=True),
        _money("QBO_Overdue_Balance__c", 16, 2, custom=True),
        # QBO owns payment terms and tax settings; these receive them (see ledgerlink.load.field_sync).
        _text("QBO_Payment_Terms__c", 31, custom=True),
        Field("QBO_Taxable__c", "boolean", custom=True),
    ),
)

CONTACT = SObject(
    "Contact",
    "003",
    (
        *_system(),
        _ref("AccountId", "Account", "Account"),
        _text("Salutation", 40, "picklist"),
        _text("FirstName", 40),
        _text("LastName", 80, required=True),
        _ro("Name", "string", length=121),
        _text("Title", 128),
        _text("Email", 80, "email"),
        _text("Phone", 40, "phone"),
        _text("MobilePhone", 40, "phone"),
        *_address("Mailing"),
        _text("Description", 32000, "textarea"),
        _ref("OwnerId", "User", "Owner"),
        _CURRENCY,
    ),
)

OPPORTUNITY = SObject(
    "Opportunity",
    "006",
    (
        *_system(),
        _text("Name", 120, required=True),
        _ref("AccountId", "Account", "Account"),
        _ref("OwnerId", "User", "Owner"),
        _text("StageName", 255, "picklist", required=True),
        Field("CloseDate", "date", required=True),
        _money("Amount"),
        Field("Probability", "percent", precision=3, scale=0),
        _text("Type", 255, "picklist"),
        _text("LeadSource", 255, "picklist"),
        _text("NextStep", 255),
        _text("Description", 32000, "textarea"),
        _text("ForecastCategoryName", 255, "picklist"),
        # Derived from StageName on every write (see org._derive).
        _ro("IsWon", "boolean"),
        _ro("IsClosed", "boolean"),
        _ref("Pricebook2Id", "Pricebook2", "Pricebook2"),
        _CURRENCY,
        _text("QBO_Invoice_Id__c", 255, external_id=True, unique=True, custom=True),
        _text("QBO_Invoice_Number__c", 255, custom=True),
        _text("QBO_Invoice_Link__c", 255, "url", custom=True),
        _text("QBO_Invoice_Status__c", 255, custom=True),
        _money("QBO_Amount_Paid__c", 16, 2, custom=True),
        _money("QBO_Balance_Due__c", 16, 2, custom=True),
        Field("QBO_Last_Payment_Date__c", "date", custom=True),
        Field("QBO_Days_Outstanding__c", "double", precision=18, scale=0, custom=True),
        _text("QBO_Aging_Bucket__c", 255, custom=True),
    ),
)

OPPORTUNITY_LINE_ITEM = SObject(
    "OpportunityLineItem",
    "00k",
    (
        *_system(),
        # Set on insert only, as in a real org.
        _ref("OpportunityId", "Opportunity", "Opportunity", updateable=False, required=True),
        _ref("PricebookEntryId", "PricebookEntry", "PricebookEntry", updateable=False),
        _ref("Product2Id", "Product2", "Product2", updateable=False),
        _ro("ProductCode", "string", length=255),
        _ro("Name", "string", length=376),
        Field("Quantity", "double", precision=12, scale=2, required=True),
        _money("UnitPrice"),
        _ro("ListPrice", "currency", precision=18, scale=2),
        _money("TotalPrice"),
        Field("Discount", "percent", precision=18, scale=2),
        Field("ServiceDate", "date"),
        _text("Description", 255),
        Field("SortOrder", "int", precision=9, scale=0),
        _ro("CurrencyIsoCode", "picklist", length=3),
    ),
)

PRODUCT2 = SObject(
    "Product2",
    "01t",
    (
        *_system(),
        _text("Name", 255, required=True),
        _text("ProductCode", 255),
        _text("Family", 255, "picklist"),
        Field("IsActive", "boolean"),
        _text("Description", 4000, "textarea"),
        _text("QuantityUnitOfMeasure", 255, "picklist"),
        _CURRENCY,
    ),
)

PRICEBOOK2 = SObject(
    "Pricebook2",
    "01s",
    (
        *_system(),
        _text("Name", 255, required=True),
        Field("IsActive", "boolean"),
        _ro("IsStandard", "boolean"),
        _text("Description", 255),
    ),
)

PRICEBOOK_ENTRY = SObject(
    "PricebookEntry",
    "01u",
    (
        *_system(),
        _ref("Pricebook2Id", "Pricebook2", "Pricebook2", updateable=False, required=True),
        _ref("Product2Id", "Product2", "Product2", updateable=False, required=True),
        _ro("Name", "string", length=255),
        _ro("ProductCode", "string", length=255),
        _money("UnitPrice", required=True),
        Field("IsActive", "boolean"),
        Field("UseStandardPrice", "boolean"),
        Field("CurrencyIsoCode", "picklist", length=3, updateable=False),
    ),
)

USER = SObject(
    "User",
    "005",
    (
        *_system(),
        _text("Username", 80, required=True),
        _text("FirstName", 40),
        _text("LastName", 80, required=True),
        _ro("Name", "string", length=121),
        _text("Alias", 8),
        _text("Email", 128, "email", required=True),
        _text("Title", 80),
        _text("Department", 80),
        Field("IsActive", "boolean"),
        _CURRENCY,
    ),
)

OBJECTS: dict[str, SObject] = {
    o.name: o
    for o in (ACCOUNT, CONTACT, OPPORTUNITY, OPPORTUNITY_LINE_ITEM, PRODUCT2, PRICEBOOK2, PRICEBOOK_ENTRY, USER)
}
_BY_LOWER = {name.lower(): obj for name, obj in OBJECTS.items()}
BY_PREFIX = {o.key_prefix: o for o in OBJECTS.values()}

# Values a new record gets when the caller leaves a field out.
DEFAULTS: dict[str, dict[str, object]] = {
    "Product2": {"IsActive": False},
    "Pricebook2": {"IsActive": False, "IsStandard": False},
    "PricebookEntry": {"IsActive": False, "UseStandardPrice": False},
    "User": {"IsActive": True},
}


def get(name: str) -> SObject | None:
    return _BY_LOWER.get(name.lower())
