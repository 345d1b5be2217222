"""How one real company gets written down differently by different people and systems.

Every function takes a `random.Random` and returns a rendering; none of them may change what
company it is (that is what the hard negatives are for).
"""

from __future__ import annotations

import random
import re

from sandbox.generator.context import between, pick

ABBREVIATIONS = (
    ("International", "Intl"),
    ("Corporation", "Corp"),
    ("Company", "Co"),
    ("Incorporated", "Inc"),
    ("Limited", "Ltd"),
    ("Manufacturing", "Mfg"),
    ("Brothers", "Bros"),
    ("Associates", "Assoc"),
)
SUFFIX_SWAPS = {
    "Inc": ("Inc.", ", Inc.", "Incorporated", "Corp", ""),
    "Inc.": ("Inc", ", Inc.", "Incorporated", "LLC", ""),
    "Incorporated": ("Inc", "Inc.", ""),
    "LLC": ("L.L.C.", "Inc", ", LLC", ""),
    "L.L.C.": ("LLC", ""),
    "Corp": ("Corp.", "Corporation", "Inc", ""),
    "Corp.": ("Corp", "Corporation", ""),
    "Corporation": ("Corp", "Corp.", "Inc.", ""),
    "Co": ("Co.", "Company", ""),
    "Co.": ("Co", "Company", ""),
    "Company": ("Co", "Co.", ""),
    "Ltd": ("Ltd.", "Limited", ", Ltd", ""),
    "Ltd.": ("Ltd", "Limited", ""),
    "Limited": ("Ltd", "Ltd.", ""),
    "PLC": ("plc", "Ltd", ""),
    "GmbH": ("GmbH & Co. KG", "AG", ""),
    "AG": ("GmbH", ""),
    "S.A.": ("SA", ""),
    "SA": ("S.A.", ""),
    "": ("Inc", "LLC", "Ltd", "Corp"),
}
_KEYBOARD_NEIGHBOURS = {
    "a": "sq", "b": "vn", "c": "xv", "d": "sf", "e": "wr", "f": "dg", "g": "fh", "h": "gj",
    "i": "uo", "j": "hk", "k": "jl", "l": "k", "m": "n", "n": "bm", "o": "ip", "p": "o",
    "q": "w", "r": "et", "s": "ad", "t": "ry", "u": "yi", "v": "cb", "w": "qe", "x": "zc",
    "y": "tu", "z": "x",
}


def typo(rng: random.Random, text: str) -> str:
    """One keyboard slip in a word of 5+ letters: substitution, deletion, transposition or doubling."""
    words = text.split(" ")
    candidates = [i for i, w in enumerate(words) if len(w) >= 5 and w.isalpha()]
    if not candidates:
        return text
    index = pick(rng, candidates)
    word = words[index]
    pos = between(rng, 1, len(word) - 2)  # first letters are rarely mistyped
    kind = int(rng.random() * 4)
    if kind == 0:
        lower = word[pos].lower()
        repl = pick(rng, _KEYBOARD_NEIGHBOURS.get(lower, "e"))
        word = word[:pos] + (repl.upper() if word[pos].isupper() else repl) + word[pos + 1 :]
    elif kind == 1:
        word = word[:pos] + word[pos + 1 :]
    elif kind == 2:
        word = word[:pos] + word[pos + 1] + word[pos] + word[pos + 2 :]
    else:
        word = word[:pos] + word[pos] + word[pos:]
    words[index] = word
    return " ".join(words)


def _split_suffix(name: str, suffixes) -> tuple[str, str]:
    for suffix in sorted(suffixes, key=len, reverse=True):
        if suffix and name.endswith(" " + suffix):
            stem = name[: -len(suffix) - 1]
            return stem.rstrip(","), suffix
    return name, ""


def change_suffix(rng: random.Random, name: str) -> str:
    stem, suffix = _split_suffix(name, SUFFIX_SWAPS)
    replacement = pick(rng, SUFFIX_SWAPS.get(suffix, ("",)))
    if not replacement:
        return stem
    return stem + replacement if replacement.startswith(",") else f"{stem} {replacement}"


def abbreviate(rng: random.Random, name: str) -> str:
    options = [(a, b) for a, b in ABBREVIATIONS if re.search(rf"\b{a}\b", name)]
    options += [(b, a) for a, b in ABBREVIATIONS if re.search(rf"\b{b}\b\.?$", name)]
    if " & " in name:
        options.append((" & ", " and "))
    if " and " in name:
        options.append((" and ", " & "))
    if not options:
        return name
    old, new = pick(rng, options)
    if old.strip() == old:
        return re.sub(rf"\b{re.escape(old)}\b", new, name, count=1)
    return name.replace(old, new, 1)


def change_case(rng: random.Random, name: str) -> str:
    return pick(rng, (name.upper(), name.lower(), name.title()))


def punctuation(rng: random.Random, name: str) -> str:
    choice = int(rng.random() * 3)
    if choice == 0 and "." in name:
        return name.replace(".", "")
    if choice == 1 and "-" in name:
        return name.replace("-", " ")
    stem, suffix = _split_suffix(name, SUFFIX_SWAPS)
    if suffix:
        return f"{stem}, {suffix}"
    return name if name.endswith(".") else name + "."


def toggle_the(rng: random.Random, name: str) -> str:
    if name.lower().startswith("the "):
        return name[4:]
    return "The " + name


NAME_VARIATIONS = (abbreviate, change_suffix, typo, change_case, punctuation, toggle_the)
_WEIGHTS = (5, 6, 3, 2, 3, 1)


def vary_name(rng: random.Random, name: str, changes: int) -> str:
    """`name` with `changes` random variations; may come back equal for tiny names."""
    for _ in range(changes):
        name = rng.choices(NAME_VARIATIONS, _WEIGHTS)[0](rng, name)
    return re.sub(r"\s+", " ", name).strip()


# --- addresses -----------------------------------------------------------------------------

UNIT_STYLES = ("Suite {n}", "Ste {n}", "Ste. {n}", "#{n}", "Unit {n}")


def render_unit(rng: random.Random, unit: str | None) -> str | None:
    if not unit:
        return None
    return pick(rng, UNIT_STYLES).format(n=unit)


def render_us_street(rng: random.Random, number: int, base: str, street_type: tuple[str, str], abbreviated: bool) -> str:
    long_form, short_form = street_type
    kind = short_form if abbreviated else long_form
    if abbreviated and rng.random() < 0.3:
        kind = kind.rstrip(".")
    return f"{number} {base} {kind}"


def render_de_street(rng: random.Random, number: int, street: str) -> str:
    if street.endswith("straße") and rng.random() < 0.5:
        street = street[: -len("straße")] + "str."
    return f"{street} {number}"


# --- phones, web, email ----------------------------------------------------------------------

def render_phone(rng: random.Random, cc: str, area: str, local: str) -> str:
    """`local` is 7 digits for North America, 6-8 digits elsewhere."""
    if cc == "1":
        a, b = local[:3], local[3:]
        return pick(rng, 
            (
                f"({area}) {a}-{b}",
                f"{area}-{a}-{b}",
                f"{area}.{a}.{b}",
                f"+1 {area} {a} {b}",
                f"{area}{a}{b}",
                f"1-{area}-{a}-{b}",
                f"({area}) {a}-{b} x{between(rng, 10, 299)}",
            )
        )
    return pick(rng, 
        (
            f"+{cc} {area} {local}",
            f"0{area} {local}",
            f"+{cc} (0){area} {local}",
            f"+{cc}{area}{local}",
        )
    )


def render_website(rng: random.Random, domain: str) -> str:
    return pick(rng, 
        (f"www.{domain}", f"https://www.{domain}", f"http://{domain}", domain, f"https://{domain}/", f"http://www.{domain}")
    )


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower().replace("&", "and"))
