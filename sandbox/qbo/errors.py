"""QBO's error bodies, exactly as the real service shapes them.

Codes, messages and HTTP statuses follow /work/shared/reference/quickbooks-online-api.md §6:
ValidationFault bodies are `{"Fault":{"Error":[{Message, Detail, code, element}],"type":..},"time":..}`
with `code` a string; 401s use a different, lowercase `fault` shape.
"""

from __future__ import annotations

import time as _time

from sandbox.qbo.clock import company_now


def qbo_time() -> str:
    """The `time` stamp QBO puts on every response (company-local, milliseconds, offset)."""
    return company_now().isoformat(timespec="milliseconds")


class QboError(Exception):
    """A fault the API answers with. `errors` are QBO Error dicts; raise, the app renders it."""

    def __init__(self, errors: list[dict], fault_type: str = "ValidationFault", status: int = 400,
                 raw_body: dict | None = None):
        super().__init__(errors[0].get("Message", "") if errors else "")
        self.errors = errors
        self.fault_type = fault_type
        self.status = status
        self.raw_body = raw_body  # a body in another shape (the 401's lowercase one)

    def fault(self) -> dict:
        return {"Error": self.errors, "type": self.fault_type}

    def body(self) -> dict:
        if self.raw_body is not None:
            return self.raw_body
        return {"Fault": self.fault(), "time": qbo_time()}


def error(code: str, message: str, detail: str, element: str = "") -> dict:
    return {"Message": message, "Detail": detail, "code": str(code), "element": element}


def validation(code: str, message: str, detail: str, element: str = "", status: int = 400) -> QboError:
    return QboError([error(code, message, detail, element)], "ValidationFault", status)


def required_missing(element: str) -> QboError:
    return validation(
        "2020",
        "Required param missing, need to supply the required value for the API",
        f"Required parameter {element} is missing in the request",
        element,
    )


def invalid_property(name: str, entity: str, why: str | None = None) -> QboError:
    # Real 2010 details are Jackson messages naming the field and the schema class.
    detail = why or (
        f'Property Name:Unrecognized field "{name}" (class com.intuit.schema.finance.v3.{entity}), '
        "not marked as ignorable specified is unsupported or invalid"
    )
    return validation("2010", "Request has invalid or unsupported property", detail, name)


def string_length(element: str, max_len: int, supplied: int) -> QboError:
    # Recorded production body: code 2050, element = the field.
    return validation(
        "2050",
        "String length is either shorter or longer than supported by specification",
        f"String length specified does not match the supported length. Min:0 Max:{max_len} supported. "
        f"Supplied length:{supplied}",
        element,
    )


def object_not_found(element: str = "") -> QboError:
    return validation(
        "610",
        "Object Not Found",
        "Object Not Found : Something you're trying to use has been made inactive. Check the fields with "
        "accounts, customers, items, vendors or employees.",
        element,
    )


def stale_object() -> QboError:
    return validation(
        "5010",
        "Stale Object Error",
        "Stale Object Error : You and sandbox-app were working on this at the same time. sandbox-app "
        "finished before you did, so your work was not saved.",
    )


def duplicate_name(kind: str = "customer, vendor or employee") -> QboError:
    return validation(
        "6240",
        "Duplicate Name Exists Error",
        f"The name supplied already exists. : Another {kind} is already using this name. "
        "Please use a different name.",
    )


def duplicate_doc_number(doc_number: str, txn_type: str, txn_id: str) -> QboError:
    return validation(
        "6140",
        "Duplicate Document Number Error",
        "Duplicate Document Number Error : You must specify a different number. This number has already "
        f"been used. DocNumber={doc_number} is assigned to TxnType={txn_type} with TxnId={txn_id}",
    )


def business(detail: str, element: str = "") -> QboError:
    """6000: QBO's generic business-rule failure (used where the exact code is not on record)."""
    return validation(
        "6000",
        "A business validation error has occurred while processing your request",
        f"Business Validation Error: {detail}",
        element,
    )


def unsupported_operation(detail: str) -> QboError:
    # Code 500 "Unsupported Operation"; the HTTP status is unverified, 400 is the stricter reading.
    return validation("500", "Unsupported Operation", detail)


def query_error(detail: str) -> QboError:
    # QBO's query error codes are not on record; 4000 with a QueryParserError/QueryValidationError
    # detail is what third-party fakes use (reference §4). Every query error uses it.
    return validation("4000", "Error parsing query", detail)


def system_fault(detail: str, status: int = 500) -> QboError:
    return QboError(
        [
            error(
                "10000",
                "An application error has occurred while processing your request",
                f"System Failure Error: {detail}",
                "SystemFailureError",
            )
        ],
        "SystemFault",
        status,
    )


def throttled() -> QboError:
    # JSON shape inferred from the recorded XML fixture (reference §1); type SERVICE.
    return QboError(
        [
            {
                "Message": "message=ThrottleExceeded; errorCode=003001; statusCode=429",
                "Detail": "The request limit was reached.",
                "code": "3001",
            }
        ],
        "SERVICE",
        429,
    )


def authorization_failed() -> QboError:
    # 403 for a token that does not belong to the company in the URL (node-quickbooks #154).
    return QboError(
        [
            {
                "Message": "message=AuthorizationFailed; errorCode=003100; statusCode=403",
                "Detail": "",
                "code": "3100",
            }
        ],
        "SERVICE",
        403,
    )


def authentication_failed(detail: str) -> QboError:
    """401 with the lowercase body and its envelope of nulls, as recorded (PQB issues #250, #118)."""
    body = {
        "warnings": None,
        "intuitObject": None,
        "fault": {
            "error": [
                {
                    "message": "message=AuthenticationFailed; errorCode=003200; statusCode=401",
                    "detail": detail,
                    "code": "3200",
                    "element": None,
                }
            ],
            "type": "AUTHENTICATION",
        },
        "report": None,
        "queryResponse": None,
        "batchItemResponse": [],
        "attachableResponse": [],
        "syncErrorResponse": None,
        "requestId": None,
        "time": int(_time.time() * 1000),
        "status": None,
        "cdcresponse": [],
    }
    return QboError(body["fault"]["error"], "AUTHENTICATION", 401, raw_body=body)

