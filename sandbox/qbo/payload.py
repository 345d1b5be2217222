"""Reading write payloads the way QBO does: property checks, python-quickbooks quirks, numbers.

python-quickbooks' `to_json()` sends every attribute that is not None, so a new object carries
empty strings (`"TxnDate": ""`), zero defaults (`"Balance": 0`, `"SyncToken": 0`), refs with an
empty value (`{"name": "", "type": "", "value": ""}`) and empty lists. QBO treats all of those as
"not supplied"; `clean()` removes them. Money may arrive as a JSON number or, from
`DecimalEncoder`, as a numeric string.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from sandbox.qbo.errors import invalid_property, required_missing, string_length

CENT = Decimal("0.01")
# Amounts are "max 15 digits in 10.5 format"; anything this large is refused before arithmetic.
MAX_MAGNITUDE = Decimal(10) ** 15


def clean(value: object) -> object:
    """Drop empty strings, None, empty lists/dicts (recursively). Returns None if nothing is left."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            cleaned = clean(item)
            if cleaned is not None:
                out[key] = cleaned
        return out or None
    if isinstance(value, list):
        items = [c for c in (clean(v) for v in value) if c is not None]
        return items or None
    if value is None or value == "":
        return None
    return value


def decimal(value: object, element: str, entity: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal, str)):
        raise invalid_property(element, entity, _not_number(element, value))
    try:
        result = Decimal(str(value).strip()) if isinstance(value, (float, str)) else Decimal(value)
    except InvalidOperation:
        raise invalid_property(element, entity, _not_number(element, value)) from None
    if not result.is_finite() or abs(result) >= MAX_MAGNITUDE:
        raise invalid_property(element, entity, _not_number(element, value))
    return result


def _not_number(element: str, value: object) -> str:
    return (
        f"Property Name:Can not construct instance of java.math.BigDecimal from String value "
        f"'{value}': not a valid representation ({element}) specified is unsupported or invalid"
    )


def money(value: object, element: str, entity: str) -> Decimal:
    return decimal(value, element, entity).quantize(CENT, rounding=ROUND_HALF_UP)


def optional_money(body: dict, key: str, entity: str) -> Decimal | None:
    return money(body[key], key, entity) if key in body else None


def boolean(value: object, element: str, entity: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise invalid_property(
        element, entity, f"Property Name:Can not construct instance of boolean from '{value}' ({element})"
    )


def text(body: dict, key: str, max_len: int, entity: str, element: str | None = None) -> str | None:
    if key not in body:
        return None
    value = body[key]
    if isinstance(value, (dict, list)):
        raise invalid_property(element or key, entity, f"Property Name:{element or key} must be a string")
    value = str(value)
    if len(value) > max_len:
        raise string_length(element or key, max_len, len(value))
    body[key] = value
    return value


def ref_value(body: dict, key: str, entity: str, required: bool = False) -> str | None:
    """The `value` of a ref like CustomerRef, normalized to a string (refs arrive with int values too)."""
    ref = body.get(key)
    if ref is None:
        if required:
            raise required_missing(key)
        return None
    if not isinstance(ref, dict):
        raise invalid_property(key, entity, f"Property Name:{key} must be an object with a value")
    value = ref.get("value")
    if value is None or value == "":
        if required:
            raise required_missing(key)
        body.pop(key, None)
        return None
    ref["value"] = str(value)
    for extra in list(ref):
        if extra not in ("value", "name", "type"):
            raise invalid_property(f"{key}.{extra}", entity)
    return ref["value"]


def check_properties(body: object, allowed: frozenset[str] | set[str], entity: str, prefix: str = "") -> None:
    if not isinstance(body, dict):
        raise invalid_property(prefix.rstrip(".") or entity, entity, f"Property Name:{prefix.rstrip('.')} "
                               "must be an object specified is unsupported or invalid")
    for key in body:
        if key not in allowed:
            raise invalid_property(prefix + key, entity)


def to_json_number(value: Decimal) -> int | float:
    return float(value)
