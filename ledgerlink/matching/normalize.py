"""Normalisation of company records, as polars expressions so 100k rows take milliseconds.

Every rule runs on whole columns (Rust regexes inside polars), never per row in Python. The
single-value helpers at the bottom run the same expressions on a one-row frame, so tests and
explanations see exactly what the matcher sees.
"""

from __future__ import annotations

import polars as pl

# Letters NFKD does not decompose into a base letter plus a mark.
_SPECIAL_LETTERS = {
    "ß": "ss", "æ": "ae", "ø": "o", "œ": "oe", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "ı": "i",
}

# Spelled-out legal forms -> the abbreviation; multi-word forms first so "limited liability
# company" becomes "llc" before "limited" alone becomes "ltd". Applied on whole words.
LEGAL_FORMS: list[tuple[str, str]] = [
    ("limited liability company", "llc"),
    ("limited liability partnership", "llp"),
    ("limited partnership", "lp"),
    ("public limited company", "plc"),
    ("professional limited liability company", "pllc"),
    ("professional corporation", "pc"),
    ("gesellschaft mit beschrankter haftung", "gmbh"),
    ("societe a responsabilite limitee", "sarl"),
    ("societe par actions simplifiee", "sas"),
    ("societe anonyme", "sa"),
    ("besloten vennootschap", "bv"),
    ("naamloze vennootschap", "nv"),
    ("kommanditgesellschaft", "kg"),
    ("aktiengesellschaft", "ag"),
    ("incorporated", "inc"),
    ("corporation", "corp"),
    ("company", "co"),
    ("limited", "ltd"),
    ("proprietary", "pty"),
]

# Common business words people abbreviate or not (`Acme Intl Mfg` = `Acme International Manufacturing`).
NAME_WORDS = {
    "international": "intl", "manufacturing": "mfg", "brothers": "bros", "associates": "assoc",
    "industries": "inds", "services": "svcs", "technologies": "tech", "technology": "tech",
    "laboratories": "labs", "laboratory": "labs", "systems": "sys", "group": "grp", "holding": "holdings",
}

# Abbreviations that end a company name and say nothing about which company it is.
LEGAL_SUFFIXES = (
    "inc", "llc", "llp", "lp", "ltd", "corp", "co", "plc", "pllc", "pc", "gmbh", "ag", "kg", "sa",
    "sarl", "sas", "srl", "spa", "bv", "nv", "pty", "oy", "ab", "aps", "kk", "lda", "sro", "limitada",
)

# Street types and directions -> USPS-style abbreviations (whole words only).
STREET_WORDS = {
    "street": "st", "str": "st", "strasse": "st", "avenue": "ave", "av": "ave", "road": "rd",
    "boulevard": "blvd", "drive": "dr", "lane": "ln", "court": "ct", "place": "pl", "square": "sq",
    "parkway": "pkwy", "highway": "hwy", "terrace": "ter", "circle": "cir", "trail": "trl",
    "expressway": "expy", "freeway": "fwy", "center": "ctr", "centre": "ctr", "plaza": "plz",
    "crescent": "cres", "mount": "mt", "point": "pt", "route": "rte", "north": "n", "south": "s",
    "east": "e", "west": "w", "northeast": "ne", "northwest": "nw", "southeast": "se",
    "southwest": "sw",
}

# "Suite 200", "Ste. 4B", "Unit 7", "Apt 3", "Floor 2", "#12": which office inside a building
# is not evidence about which company it is, and is the part people write most differently.
_UNIT_WORDS = r"suite|ste|unit|apt|apartment|room|rm|floor|fl|flr|bldg|building|dept|office|po box|p o box"

# Mailbox providers whose domain says nothing about the company.
FREE_EMAIL_DOMAINS = frozenset(
    """gmail.com googlemail.com yahoo.com yahoo.co.uk ymail.com hotmail.com hotmail.co.uk
    outlook.com live.com msn.com aol.com icloud.com me.com mac.com proton.me protonmail.com
    gmx.com gmx.de gmx.net web.de mail.com yandex.com zoho.com fastmail.com comcast.net
    verizon.net att.net sbcglobal.net example.com example.org example.net""".split()
)

CITY_WORDS = {"saint": "st", "sainte": "ste", "mount": "mt", "fort": "ft"}

COUNTRIES = {
    "united states": "us", "united states of america": "us", "usa": "us", "us": "us", "u s a": "us",
    "america": "us", "united kingdom": "gb", "uk": "gb", "great britain": "gb", "england": "gb",
    "gb": "gb", "canada": "ca", "ca": "ca", "germany": "de", "deutschland": "de", "de": "de",
    "france": "fr", "fr": "fr", "australia": "au", "au": "au",
}


def _words(mapping: dict[str, str]) -> tuple[list[str], list[str]]:
    return [rf"\b{k}\b" for k in mapping], list(mapping.values())


def fold(expr: pl.Expr) -> pl.Expr:
    """Lower case, accents and ligatures removed (`Société` -> `societe`, `Straße` -> `strasse`)."""
    folded = expr.fill_null("").str.to_lowercase().str.normalize("NFKD").str.replace_all(r"\p{M}", "")
    return folded.str.replace_many(list(_SPECIAL_LETTERS), list(_SPECIAL_LETTERS.values()))


def _squash(expr: pl.Expr) -> pl.Expr:
    return expr.str.replace_all(r"\s+", " ").str.strip_chars()


def _words_only(expr: pl.Expr) -> pl.Expr:
    """Apostrophes and dots vanish (`O'Neil` -> `oneil`, `L.L.C.` -> `llc`); other punctuation splits words."""
    return _squash(expr.str.replace_all(r"['’`.]", "").str.replace_all(r"[^a-z0-9]+", " "))


def _replace_words(expr: pl.Expr, mapping: dict[str, str] | list[tuple[str, str]]) -> pl.Expr:
    """Whole-word replacements on words-only text (single spaces, no punctuation).

    Multi-word phrases go through regexes; single words through one token lookup, which is
    several times faster than a regex pass per word.
    """
    items = list(mapping.items()) if isinstance(mapping, dict) else list(mapping)
    for old, new in items:
        if " " in old:
            expr = expr.str.replace_all(rf"\b{old}\b", new)
    single = {old: new for old, new in items if " " not in old}
    if single:
        expr = expr.str.split(" ").list.eval(pl.element().replace(single)).list.join(" ")
    return expr


def name_expr(col: str) -> pl.Expr:
    """Full normalised name: folded, `&` -> `and`, no leading/trailing "The", legal forms and
    common business words abbreviated, a trailing qualifier in brackets dropped (QBO display
    names such as `Acme Inc (old)` / `Acme Inc (2)` exist only because names must be unique)."""
    expr = fold(pl.col(col)).str.replace(r"\s*[(\[][^()\[\]]*[)\]]\s*$", "")
    expr = _words_only(expr.str.replace_all("&", " and ").str.replace_all(r"\+", " and "))
    expr = expr.str.replace_all(r"^the ", "").str.replace_all(r" the$", "")
    return _replace_words(_replace_words(expr, LEGAL_FORMS), NAME_WORDS)


def _known_word_vocabulary() -> dict[str, str]:
    """Long spelled-out words that have a canonical short form (legal forms, business words)."""
    vocab = {long: short for long, short in LEGAL_FORMS if " " not in long}
    vocab.update(NAME_WORDS)
    return {word: short for word, short in vocab.items() if len(word) >= 7}


def _allowed_edits(length: int) -> int:
    # Short words get one slip, long ones two: "compaby" is "company", "compass" is not.
    return 2 if length >= 9 else 1


def fix_known_word_typos(names: pl.Series) -> pl.Series:
    """Mistyped legal forms and business words mapped to their short form, on normalised names.

    `incorporatwd` -> `inc`, `manufacturiing` -> `mfg`, `interrnational` -> `intl`. Only words of
    six letters or more are considered, each against a short vocabulary, so the work is per
    distinct word (thousands), not per record, and no ordinary word is bent into a legal form.
    """
    from rapidfuzz import process
    from rapidfuzz.distance import OSA  # edits plus swapped neighbours: "comapny", "limietd"

    vocab = _known_word_vocabulary()
    words = list(vocab)
    tokens = names.str.split(" ").explode().unique().drop_nulls()
    tokens = tokens.filter((tokens.str.len_chars() >= 6) & ~tokens.is_in(words)).to_list()
    if not tokens:
        return names
    distances = process.cdist(tokens, words, scorer=OSA.distance, score_cutoff=2, workers=-1)
    mapping: dict[str, str] = {}
    for token, row in zip(tokens, distances, strict=True):
        best = int(row.argmin())
        if row[best] <= _allowed_edits(len(token)) and (row == row[best]).sum() == 1:
            mapping[token] = vocab[words[best]]
    if not mapping:
        return names
    frame = pl.DataFrame({"n": names})
    fixed = frame.select(
        pl.col("n").str.split(" ").list.eval(pl.element().replace(mapping)).list.join(" ")
    ).to_series()
    return fixed.alias(names.name)


def core_name_expr(name_col: str) -> pl.Expr:
    """The distinctive part of a normalised name: trailing legal forms and every `and` removed.

    `Smith & Sons Co., Ltd.` and `Smith and Sons` both become `smith sons`. A name that is
    nothing but a legal form keeps its full normalised text rather than becoming empty.
    """
    suffixes = "|".join(LEGAL_SUFFIXES)
    stripped = pl.col(name_col).str.replace(rf"(?:\s(?:{suffixes}|and))+$", "")
    stripped = _squash(stripped.str.replace_all(r"\band\b", " "))
    return pl.when(stripped == "").then(pl.col(name_col)).otherwise(stripped)


def street_expr(col: str) -> pl.Expr:
    """Street line without suite/unit numbers, with street types abbreviated (`Main Street` -> `main st`)."""
    expr = fold(pl.col(col)).str.replace_all(r"[\r\n]+", " ")
    expr = expr.str.replace_all(rf"\b(?:{_UNIT_WORDS})\b\.?\s*(?:no\.?|number|#)?\s*[a-z0-9-]*\d[a-z0-9-]*", " ")
    expr = expr.str.replace_all(r"#\s*[a-z0-9-]+", " ")
    # German compounds: `Hauptstraße` = `Hauptstrasse` = `Hauptstr.`
    expr = expr.str.replace_all(r"([a-z])(?:strasse|str\.?)(\s|$)", "${1}str$2")
    return _replace_words(_words_only(expr), STREET_WORDS)


def city_expr(col: str) -> pl.Expr:
    return _replace_words(_words_only(fold(pl.col(col))), CITY_WORDS)


def postal_expr(col: str) -> pl.Expr:
    """Upper case, no spaces or dashes; a US ZIP+4 keeps its five-digit ZIP."""
    compact = pl.col(col).fill_null("").str.to_uppercase().str.replace_all(r"[^A-Z0-9]", "")
    return pl.when(compact.str.contains(r"^\d{9}$")).then(compact.str.slice(0, 5)).otherwise(compact)


def phone_expr(col: str) -> pl.Expr:
    """The last ten digits, extension dropped; fewer than seven digits is no phone at all.

    Ten digits make `+1 (415) 555-0100`, `415.555.0100` and `+44 20 7946 0000` / `020 7946 0000`
    compare equal without a numbering-plan library.
    """
    digits = (
        pl.col(col).fill_null("").str.to_lowercase()
        .str.replace(r"\s*(?:x|ext\.?|extension|#)\s*\d+\s*$", "")
        .str.replace_all(r"\(0\)", "")
        .str.replace_all(r"\D", "")
    )
    return pl.when(digits.str.len_chars() >= 7).then(digits.str.slice(-10)).otherwise(pl.lit(""))


def _registered_domain(host: pl.Expr) -> pl.Expr:
    # Last two labels, or three under a two-level public suffix such as co.uk / com.au.
    return host.str.extract(r"([a-z0-9-]+\.(?:(?:co|com|net|org|gov|ac|edu|ltd|plc)\.[a-z]{2}|[a-z0-9-]+))\.?$", 1)


def email_domain_expr(col: str) -> pl.Expr:
    """Registered domain of an e-mail address (or of a bare domain); free mailbox providers give none."""
    host = pl.col(col).fill_null("").str.to_lowercase().str.strip_chars().str.extract(r"(?:^|@)([a-z0-9-]+\.[a-z0-9.-]+)$", 1)
    domain = _registered_domain(host).fill_null("")
    return pl.when(domain.is_in(list(FREE_EMAIL_DOMAINS))).then(pl.lit("")).otherwise(domain)


def website_domain_expr(col: str) -> pl.Expr:
    """Registered domain of a web address: no scheme, `www`, port or path (`https://www.acme.com/x` -> `acme.com`)."""
    host = (
        pl.col(col).fill_null("").str.to_lowercase().str.strip_chars()
        .str.replace(r"^[a-z][a-z0-9+.-]*://", "")
        .str.replace(r"^[^@/]*@", "")
        .str.replace(r"[/:?#].*$", "")
    )
    return _registered_domain(host).fill_null("")


def country_expr(col: str) -> pl.Expr:
    words = _words_only(fold(pl.col(col)))
    return words.replace(COUNTRIES)


# Single values, for tests and for explaining a decision to a person --------------------------

def _one(expr_fn, value: str | None) -> str:
    frame = pl.DataFrame({"v": [value]}, schema={"v": pl.String})
    return frame.select(expr_fn("v")).item()


def normalize_name(value: str | None) -> str:
    return _one(name_expr, value)


def core_name(value: str | None) -> str:
    frame = pl.DataFrame({"v": [value]}, schema={"v": pl.String}).with_columns(n=name_expr("v"))
    return frame.select(core_name_expr("n")).item()


def normalize_street(value: str | None) -> str:
    return _one(street_expr, value)


def normalize_city(value: str | None) -> str:
    return _one(city_expr, value)


def normalize_postal(value: str | None) -> str:
    return _one(postal_expr, value)


def normalize_phone(value: str | None) -> str:
    return _one(phone_expr, value)


def email_domain(value: str | None) -> str:
    return _one(email_domain_expr, value)


def website_domain(value: str | None) -> str:
    return _one(website_domain_expr, value)


def normalize_country(value: str | None) -> str:
    return _one(country_expr, value)
