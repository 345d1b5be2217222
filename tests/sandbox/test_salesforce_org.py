"""Loading a Dataset into the emulated org: normalisation, and bad datasets failing fast and clearly."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from sandbox.salesforce.ids import to18
from sandbox.salesforce.org import SalesforceOrg
from sandbox.server import SandboxSettings


def _org(records):
    return SalesforceOrg(records, SandboxSettings())


def test_values_are_normalised_to_the_stored_form():
    plus_two = timezone(timedelta(hours=2))
    org = _org({"Opportunity": [{
        "Id": to18("006Ab0000000001").lower(),  # an 18-character id in the wrong case
        "name": "Deal",  # field names are case-insensitive
        "StageName": "Closed Won",
        "CloseDate": "2026-03-01",
        "Amount": 10.5,
        "SystemModstamp": datetime(2026, 1, 5, 12, 0, 0, 123456, tzinfo=plus_two),
    }]})
    (rec,) = org.records["Opportunity"].values()
    assert rec["Id"] == to18("006Ab0000000001")
    assert rec["Name"] == "Deal" and "name" not in rec
    assert rec["CloseDate"] == date(2026, 3, 1) and rec["Amount"] == Decimal("10.5")
    assert rec["SystemModstamp"] == datetime(2026, 1, 5, 10, 0, 0, 123000, tzinfo=UTC)
    assert rec["IsWon"] is True and rec["IsClosed"] is True and rec["IsDeleted"] is False
    assert rec["CreatedDate"] is not None and rec["CreatedById"].startswith("005")


@pytest.mark.parametrize(
    ("records", "message"),
    [
        ({"Opportunity": [{"Id": to18("006Ab0000000001"), "Colour__c": "red"}]}, "unknown field 'Colour__c'"),
        ({"Widget__c": [{"Name": "x"}]}, "unknown Salesforce object 'Widget__c'"),
        ({"Account": [{"Id": to18("001Ab0000000001")}, {"Id": to18("001Ab0000000001")}]}, "duplicate Account id"),
        ({"Account": [{"Id": to18("006Ab0000000001")}]}, "lacks prefix 001"),
        ({"Account": [{"Id": "001-not-an-id"}]}, "not a Salesforce id"),
        ({"Opportunity": [{"Id": to18("006Ab0000000001"), "CloseDate": "soon"}]}, "CloseDate: not a date"),
    ],
)
def test_bad_datasets_fail_fast_naming_the_problem(records, message):
    with pytest.raises(ValueError, match=message):
        _org(records)
