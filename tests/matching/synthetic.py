"""A small seeded generator of messy company pairs with known truth, for the matcher's own tests
and as the bench's fallback when `sandbox.generator` has no profile of the wanted size.

Each real company gets a clean record; the two "systems" see noisy copies of it (case,
punctuation, legal-suffix spelling, `&`/and, street abbreviations, suite numbers, phone
formatting, typos, missing fields), and some companies appear twice in one system.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from faker import Faker

_SUFFIXES = [("Inc", "Incorporated", "Inc."), ("LLC", "L.L.C.", "Limited Liability Company"),
             ("Ltd", "Limited", "Ltd."), ("Corp", "Corporation", "Corp."), ("GmbH", "GmbH"), ("", "")]
_STREET = [("Street", "St"), ("Avenue", "Ave"), ("Road", "Rd"), ("Boulevard", "Blvd"), ("Drive", "Dr"), ("Lane", "Ln")]


@dataclass
class SyntheticSet:
    left: list[dict]
    right: list[dict]
    links: set[tuple[str, str]] = field(default_factory=set)
    left_clusters: list[list[str]] = field(default_factory=list)
    right_clusters: list[list[str]] = field(default_factory=list)


def _typo(rng: random.Random, text: str) -> str:
    if len(text) < 4:
        return text
    i = rng.randrange(1, len(text) - 1)
    op = rng.choice("dsi")
    letter = rng.choice("abcdefghijklmnopqrstuvwxyz")
    if op == "d":
        return text[:i] + text[i + 1:]
    if op == "s":
        return text[:i] + letter + text[i + 1:]
    return text[:i] + letter + text[i:]


def _company(fake: Faker, rng: random.Random) -> dict:
    words = [fake.last_name(), fake.word().capitalize()]
    if rng.random() < 0.3:
        words.insert(1, rng.choice(["&", "and"]))
        words.insert(2, fake.last_name())
    if rng.random() < 0.15:
        words.insert(0, "The")
    suffix = rng.choice(_SUFFIXES)
    street_type = rng.choice(_STREET)
    domain = "".join(w for w in words if w.isalpha() and w != "The").lower()[:20] + rng.choice([".com", ".io", ".co.uk"])
    return {
        "words": words,
        "suffix": suffix,
        "number": str(rng.randint(1, 9999)),
        "street": fake.street_name().split(" ")[0],
        "street_type": street_type,
        "suite": rng.choice([None, None, f"Suite {rng.randint(100, 999)}", f"Unit {rng.randint(1, 40)}"]),
        "city": fake.city(),
        "zip": fake.zipcode(),
        "phone": "".join(str(rng.randint(0, 9)) for _ in range(10)),
        "domain": domain,
        "email_user": fake.user_name(),
    }


def _variant(c: dict, rng: random.Random, rid: str, noise: float) -> dict:
    words = list(c["words"])
    if rng.random() < noise and "&" in words:
        words[words.index("&")] = "and"
    if rng.random() < noise and words[0] == "The":
        words = words[1:]
    if rng.random() < noise:
        k = rng.randrange(len(words))
        words[k] = _typo(rng, words[k])
    name = " ".join(words)
    suffix = rng.choice(c["suffix"])
    if suffix:
        name += ("," if rng.random() < 0.3 else "") + " " + suffix
    if rng.random() < noise:
        name = name.upper()
    street_type = c["street_type"][rng.random() < 0.5]
    address = f"{c['number']} {c['street']} {street_type}"
    if c["suite"] and rng.random() < 0.5:
        address += ", " + c["suite"]
    p = c["phone"]
    phone = rng.choice([f"({p[:3]}) {p[3:6]}-{p[6:]}", f"+1 {p[:3]}.{p[3:6]}.{p[6:]}", p, f"{p[:3]}-{p[3:6]}-{p[6:]} x12"])
    zip_code = c["zip"] if rng.random() > noise / 3 else _typo(rng, c["zip"])
    rec = {
        "id": rid,
        "name": name,
        "address": address if rng.random() > noise / 2 else None,
        "city": c["city"],
        "postal_code": zip_code if rng.random() > noise / 2 else None,
        "phone": phone if rng.random() > noise else None,
        "website": rng.choice([f"https://www.{c['domain']}", f"{c['domain']}", f"http://{c['domain']}/"])
        if rng.random() > noise
        else None,
        "email": f"{c['email_user']}@{c['domain']}" if rng.random() > noise else None,
        "country": "US",
    }
    return rec


def generate_pairs(n: int, seed: int = 1, overlap: float = 0.7, dup_rate: float = 0.05, noise: float = 0.3) -> SyntheticSet:
    """`n` records per side; `overlap` of the companies exist in both; `dup_rate` are duplicated in one side."""
    rng = random.Random(seed)
    fake = Faker("en_US")
    fake.seed_instance(seed)
    out = SyntheticSet(left=[], right=[])
    li = ri = 0
    while len(out.left) < n or len(out.right) < n:
        company = _company(fake, rng)
        roll = rng.random()
        in_left = roll < overlap or roll < overlap + (1 - overlap) / 2
        in_right = roll < overlap or roll >= overlap + (1 - overlap) / 2
        lids: list[str] = []
        rids: list[str] = []
        if in_left and len(out.left) < n:
            copies = 2 if rng.random() < dup_rate else 1
            for _ in range(copies):
                li += 1
                lids.append(f"L{li}")
                out.left.append(_variant(company, rng, lids[-1], noise))
        if in_right and len(out.right) < n:
            copies = 2 if rng.random() < dup_rate else 1
            for _ in range(copies):
                ri += 1
                rids.append(f"R{ri}")
                out.right.append(_variant(company, rng, rids[-1], noise))
        out.links.update((a, b) for a in lids for b in rids)
        if len(lids) > 1:
            out.left_clusters.append(lids)
        if len(rids) > 1:
            out.right_clusters.append(rids)
    return out
