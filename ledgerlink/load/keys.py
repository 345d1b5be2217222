"""Deterministic names for every write: idempotency keys, DocNumbers, requestids and bIds.

Everything here is a pure function of the source record (or of the persisted batch), so a
re-plan or a replay after a crash produces exactly the same names, and QBO's `requestid`
replay and DocNumber uniqueness both guard against a second copy.
"""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal

KEY_VERSION = "v1"
DOC_NUMBER_PREFIX = "SF-"
DOC_NUMBER_MAX = 21  # QBO Invoice.DocNumber
BATCH_REQUEST_ID_MAX = 36  # QBO requestid on /batch (50 elsewhere)
BID_MAX = 10  # QBO bId when the batch carries a requestid
_BASE36 = "0123456789abcdefghijklmnopqrstuvwxyz"


def customer_key(sf_account_id: str) -> str:
    return f"customer:{sf_account_id}:{KEY_VERSION}"


def invoice_key(sf_opportunity_id: str) -> str:
    return f"invoice:{sf_opportunity_id}:{KEY_VERSION}"


def invoice_update_key(sf_opportunity_id: str, payload_hash: str) -> str:
    """One key per distinct change, so the same change is never sent twice."""
    return f"invoice-update:{sf_opportunity_id}:{payload_hash[:12]}"


def customer_update_key(qb_customer_id: str, sync_token: str, payload_hash: str) -> str:
    """One key per change to one version of the customer.

    The SyncToken is in it because the same overwrite can be needed twice: a bookkeeper who
    repeats a hand edit months later bumps the SyncToken, and that new version must be
    overwritten again. A rerun before QBO is re-extracted sees the same SyncToken and the
    same key, so nothing goes twice.
    """
    return f"customer-update:{qb_customer_id}:{sync_token}:{payload_hash[:12]}"


def doc_number(sf_opportunity_id: str) -> str:
    """`SF-` + the 18-character Id: 21 characters, unique per opportunity.

    The 18-character form (not the 15) because it is case-insensitive, like QBO's DocNumber
    comparison is assumed to be (stricter choice; not documented).
    """
    value = f"{DOC_NUMBER_PREFIX}{sf_opportunity_id}"
    if len(value) > DOC_NUMBER_MAX:
        raise ValueError(f"opportunity Id {sf_opportunity_id!r} is too long for a {DOC_NUMBER_MAX}-char DocNumber")
    return value


def _json_default(value):
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"cannot hash {type(value).__name__}")


def payload_hash(payload) -> str:
    """A stable hash of a JSON-able payload (key order does not matter)."""
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=_json_default)
    return hashlib.sha256(text.encode()).hexdigest()


def _base36(number: int) -> str:
    if number < 0:
        raise ValueError("negative")
    digits = []
    while True:
        number, rem = divmod(number, 36)
        digits.append(_BASE36[rem])
        if number == 0:
            return "".join(reversed(digits))


def bid(outbox_id: int) -> str:
    """The batch item id of an outbox row: 'o' + base36(id), at most 10 characters."""
    value = "o" + _base36(outbox_id)
    if len(value) > BID_MAX:
        raise ValueError(f"outbox id {outbox_id} does not fit a {BID_MAX}-char bId")
    return value


def outbox_id_from_bid(value: str) -> int:
    if not value.startswith("o"):
        raise ValueError(f"not a LedgerLink bId: {value!r}")
    return int(value[1:], 36)


def batch_request_id(members: list[tuple[str, int]]) -> str:
    """The requestid of a batch: a hash of its members (idempotency key, attempt number).

    The attempt number is part of it: a record QBO rejected is retried in a new request (the
    old requestid would only replay the rejection), while a batch whose answer was lost is
    re-sent under the very same requestid.
    """
    digest = hashlib.sha256(json.dumps(sorted(members)).encode()).hexdigest()
    return ("llb-" + digest)[:BATCH_REQUEST_ID_MAX]
