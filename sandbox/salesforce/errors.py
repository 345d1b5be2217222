"""Salesforce error shapes: request-level errors (a JSON array with a status) and per-record errors."""

from __future__ import annotations


class SfError(Exception):
    """A whole request fails: `[{"message", "errorCode", ("fields")}]` with an HTTP status."""

    def __init__(self, status: int, code: str, message: str, fields: list[str] | None = None):
        super().__init__(f"{code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.fields = fields

    def body(self) -> list[dict]:
        item: dict = {"message": self.message, "errorCode": self.code}
        if self.fields is not None:
            item["fields"] = self.fields
        return [item]


class RecordError(Exception):
    """One record fails in a DML call; other records of the same call may still succeed."""

    def __init__(self, code: str, message: str, fields: list[str] | None = None, status: int = 400):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.fields = fields or []
        self.status = status

    def as_result(self) -> dict:
        return {"statusCode": self.code, "message": self.message, "fields": self.fields}

    def as_bulk(self) -> str:
        """The `sf__Error` text of Bulk API results: CODE:message:field,field --"""
        return f"{self.code}:{self.message}:{','.join(self.fields)} --"

    def to_request_error(self) -> SfError:
        return SfError(self.status, self.code, self.message, self.fields)


def not_found() -> SfError:
    return SfError(404, "NOT_FOUND", "The requested resource does not exist")
