"""Each normalisation rule, on the values people actually type."""

from __future__ import annotations

import polars as pl
import pytest

from ledgerlink.matching import normalize as nz
from ledgerlink.matching.records import RecordError, prepare


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("ACME", "acme"),  # case
        ("Société Générale", "societe generale"),  # accents
        ("Müller Straße", "muller strasse"),  # umlaut and sharp s
        ("Ærø Øresund", "aero oresund"),  # letters without a decomposition
        ("O'Neil, Smith & Co.", "oneil smith and co"),  # apostrophe, comma, ampersand, dot
        ("J.P. Morgan", "jp morgan"),  # initials
        ("  Acme   Tools  ", "acme tools"),  # whitespace
    ],
)
def test_names_fold_case_unicode_and_punctuation(raw, expected):
    assert nz.normalize_name(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Acme Incorporated", "acme inc"),
        ("Acme Corporation", "acme corp"),
        ("Acme Limited", "acme ltd"),
        ("Acme Company", "acme co"),
        ("Acme Limited Liability Company", "acme llc"),
        ("Acme L.L.C.", "acme llc"),
        ("Acme Gesellschaft mit beschränkter Haftung", "acme gmbh"),
        ("Acme Public Limited Company", "acme plc"),
        ("Acme International Manufacturing", "acme intl mfg"),
        ("Acme Brothers & Associates", "acme bros and assoc"),
    ],
)
def test_spelled_out_legal_forms_and_business_words_become_abbreviations(raw, expected):
    assert nz.normalize_name(raw) == expected


@pytest.mark.parametrize(
    "variant",
    ["Acme Tools", "ACME TOOLS, INC.", "Acme Tools Inc", "The Acme Tools Corp.", "Acme Tools LLC", "Acme Tools GmbH",
     "Acme Tools Ltd", "acme tools, limited", "Acme Tools Company, The", "Acme Tools GmbH & Co. KG"],
)
def test_core_name_drops_the_and_trailing_legal_forms(variant):
    assert nz.core_name(variant) == "acme tools"


def test_ampersand_and_the_word_and_are_the_same():
    assert nz.core_name("Smith & Wesson") == nz.core_name("Smith and Wesson") == "smith wesson"


def test_a_legal_word_inside_a_name_stays():
    # Only trailing legal forms are dropped: "Company" is part of this name.
    assert nz.core_name("Company Store Inc") == "co store"
    # A name that is nothing but a legal form keeps it rather than becoming empty.
    assert nz.core_name("Limited") == "ltd"


def test_a_trailing_qualifier_in_brackets_is_dropped():
    assert nz.core_name("Acme Tools Inc (old)") == nz.core_name("Acme Tools Inc [2]") == "acme tools"


def test_mistyped_legal_forms_and_business_words_are_recognised():
    names = pl.Series(["acme tools incorporatwd", "acme manufacturiing", "acme interrnational", "acme comapny", "compass"])
    assert nz.fix_known_word_typos(names).to_list() == ["acme tools inc", "acme mfg", "acme intl", "acme co", "compass"]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("100 Main Street", "100 main st"),
        ("100 Main St.", "100 main st"),
        ("100 North Oak Avenue", "100 n oak ave"),
        ("9 Lake Boulevard", "9 lake blvd"),
        ("5 Elm Drive", "5 elm dr"),
        ("Hauptstraße 12", "hauptstr 12"),
        ("Hauptstr. 12", "hauptstr 12"),
    ],
)
def test_street_types_and_directions_are_abbreviated(raw, expected):
    assert nz.normalize_street(raw) == expected


@pytest.mark.parametrize(
    "raw",
    ["100 Main St, Suite 200", "100 Main St Ste. 4B", "100 Main St #12", "100 Main St\nUnit 7", "Floor 3, 100 Main St",
     "100 Main St, Apt 5", "100 Main St Room 101"],
)
def test_suite_and_unit_numbers_are_removed(raw):
    assert nz.normalize_street(raw) == "100 main st"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("+1 (415) 555-0100", "4155550100"),
        ("415.555.0100", "4155550100"),
        ("1-415-555-0100", "4155550100"),
        ("(415) 555-0100 x123", "4155550100"),
        ("415 555 0100 ext. 9", "4155550100"),
        ("+44 (0)20 7946 0000", "2079460000"),
        ("020 7946 0000", "2079460000"),
        ("555-01", ""),  # too short to be a phone
        (None, ""),
    ],
)
def test_phones_become_their_last_ten_digits(raw, expected):
    assert nz.normalize_phone(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("Bob@Acme.com", "acme.com"), ("ap@mail.acme.co.uk", "acme.co.uk"), ("acme.com", "acme.com"),
     ("someone@gmail.com", ""), ("not an address", ""), (None, "")],
)
def test_email_domains(raw, expected):
    assert nz.email_domain(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("https://www.acme.com/about", "acme.com"), ("acme.com", "acme.com"), ("http://shop.acme.co.uk:8080/x", "acme.co.uk"),
     ("WWW.ACME.COM", "acme.com"), ("", "")],
)
def test_website_domains(raw, expected):
    assert nz.website_domain(raw) == expected


def test_postal_codes_and_cities():
    assert nz.normalize_postal("94105-1234") == "94105"
    assert nz.normalize_postal("sw1a 1aa") == "SW1A1AA"
    assert nz.normalize_city("Saint Louis") == nz.normalize_city("St. Louis") == "st louis"


def test_prepare_rejects_missing_and_repeated_ids():
    with pytest.raises(RecordError, match="row 2: field 'id' is empty"):
        prepare([{"id": "1", "name": "A"}, {"id": "", "name": "B"}])
    with pytest.raises(RecordError, match="'7' appear more than once"):
        prepare([{"id": "7", "name": "A"}, {"id": "7", "name": "B"}])
