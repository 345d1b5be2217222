"""Pools of names and places, drawn once from Faker and then combined with `random.Random`.

Calling Faker per record costs ~50-100 µs per call, too slow for the large profile's million
records; a pool of a few thousand values combined freely gives the variety at a fraction of it.
"""

from __future__ import annotations

from dataclasses import dataclass

from faker import Faker

# Words that make a company name read like an industry; the matcher must not treat a shared
# surname as enough ("Hansen Logistics" vs "Hansen Foods" in the same city are two companies).
INDUSTRIES = (
    "Tools", "Foods", "Logistics", "Software", "Systems", "Consulting", "Analytics", "Partners",
    "Manufacturing", "Supply", "Construction", "Dental", "Medical", "Labs", "Robotics", "Energy",
    "Solar", "Freight", "Marketing", "Media", "Design", "Engineering", "Holdings", "Capital",
    "Insurance", "Realty", "Brewing", "Bakery", "Textiles", "Plastics", "Metals", "Electric",
    "Plumbing", "Landscaping", "Security", "Networks", "Health", "Pharma", "Bio", "Foods Group",
    "Outfitters", "Studios", "Hospitality", "Travel", "Printing", "Packaging", "Chemicals",
    "Motors", "Aerospace", "Marine", "Farms", "Wines", "Coffee", "Apparel", "Furniture",
)
BRANDS = (
    "Acme", "Summit", "Apex", "Northwind", "Pioneer", "Blue River", "Redwood", "Silverline",
    "Granite", "Evergreen", "Harbor", "Keystone", "Lighthouse", "Maple", "Orion", "Pinnacle",
    "Quantum", "Sterling", "Trident", "Vertex", "Cascade", "Beacon", "Crescent", "Falcon",
    "Horizon", "Ironwood", "Juniper", "Liberty", "Meridian", "Nova", "Oakmont", "Paragon",
    "Riverbend", "Sequoia", "Tidewater", "Unity", "Vanguard", "Westfield", "Zenith", "Atlas",
    "Bluebird", "Copperleaf", "Driftwood", "Ember", "Foxglove", "Goldcrest", "Highland", "Indigo",
)
STREET_TYPES = (
    ("Street", "St."), ("Avenue", "Ave"), ("Road", "Rd."), ("Boulevard", "Blvd"), ("Drive", "Dr."),
    ("Lane", "Ln"), ("Parkway", "Pkwy"), ("Way", "Way"), ("Court", "Ct."), ("Place", "Pl."),
)
FIRST_NAMES_FALLBACK = ("Alex", "Sam", "Jordan")


@dataclass(frozen=True)
class Location:
    city: str
    region: str  # state / province / county code or name
    postal: str
    country: str  # as Salesforce users type it
    currency: str
    phone_cc: str  # country calling code
    tld: str


@dataclass
class Pools:
    surnames: list[str]
    first_names: list[str]
    street_bases: list[str]
    us_locations: list[Location]
    foreign_locations: dict[str, list[Location]]  # currency -> locations
    foreign_streets: dict[str, list[str]]  # currency -> street names (no number)
    area_codes: list[str]


def _unique(draw, count: int, tries: int) -> list[str]:
    seen: dict[str, None] = {}
    for _ in range(tries):
        if len(seen) >= count:
            break
        seen.setdefault(draw(), None)
    return list(seen)


def build_pools(seed: int, size: int) -> Pools:
    """Pools scaled to the profile: `size` is roughly how many distinct surnames to draw."""
    us = Faker("en_US")
    us.seed_instance(seed)
    surnames = _unique(us.last_name, size, size * 3)
    first_names = _unique(us.first_name, max(size // 2, 20), size * 2) or list(FIRST_NAMES_FALLBACK)
    street_bases = _unique(lambda: us.last_name() if us.random.random() < 0.6 else us.city_prefix() + " " + us.last_name(), max(size // 2, 20), size * 2)
    n_locations = max(8, size // 8)
    us_locations = [
        Location(us.city(), us.state_abbr(include_territories=False), us.zipcode(), "USA", "USD", "1", "com")
        for _ in range(n_locations)
    ]
    foreign: dict[str, list[Location]] = {}
    foreign_streets: dict[str, list[str]] = {}
    n_foreign = max(4, n_locations // 4)
    for currency, locale in (("EUR", "de_DE"), ("GBP", "en_GB"), ("CAD", "en_CA")):
        fake = Faker(locale)
        fake.seed_instance(seed)
        if currency == "EUR":
            foreign[currency] = [
                Location(fake.city(), fake.state(), fake.postcode(), "Germany", "EUR", "49", "de")
                for _ in range(n_foreign)
            ]
        elif currency == "GBP":
            foreign[currency] = [
                Location(fake.city(), fake.county(), fake.postcode(), "United Kingdom", "GBP", "44", "co.uk")
                for _ in range(n_foreign)
            ]
        else:
            foreign[currency] = [
                Location(fake.city(), fake.province_abbr(), fake.postalcode(), "Canada", "CAD", "1", "ca")
                for _ in range(n_foreign)
            ]
        foreign_streets[currency] = _unique(fake.street_name, max(8, n_foreign), n_foreign * 3)
    area_codes = [str(us.random.randint(201, 989)) for _ in range(max(10, n_locations))]
    return Pools(surnames, first_names, street_bases, us_locations, foreign, foreign_streets, area_codes)
