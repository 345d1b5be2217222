"""Errors raised by the API clients; every one says what happened without any secret value."""

from __future__ import annotations


class SalesforceBudgetExhausted(RuntimeError):
    """Salesforce refused a call with REQUEST_LIMIT_EXCEEDED: the org's API allocation is spent.

    Not retried: the daily allocation is a rolling 24-hour window, so waiting seconds won't help.
    """


class SalesforceBulkQueryFailed(RuntimeError):
    """A Bulk API 2.0 query job ended Failed or Aborted (or did not finish in time)."""

    def __init__(self, job_id: str, state: str, message: str):
        super().__init__(f"Bulk query job {job_id} ended {state}: {message}")
        self.job_id = job_id
        self.state = state


class QboFault(RuntimeError):
    """QBO answered with a Fault; carries the API's own code and message.

    `errors` holds every entry of `Fault.Error` (QBO can send several); `code`, `message`,
    `detail` and `element` are the first one's, which is the one PQB would have raised.
    """

    def __init__(
        self,
        code: str,
        message: str,
        detail: str = "",
        element: str = "",
        *,
        status: int | None = None,
        fault_type: str = "",
        errors: list[dict] | None = None,
    ):
        self.code = str(code)
        self.message = message
        self.detail = detail
        self.element = element
        self.status = status
        self.fault_type = fault_type
        self.errors = errors or []
        where = f" (element {element})" if element else ""
        super().__init__(f"QBO fault {self.code}{where}: {message}" + (f" - {detail}" if detail else ""))


class QboThrottled(QboFault):
    """HTTP 429 / code 3001 after the client ran out of throttle retries."""

    def __init__(self, retry_after: float | None = None, **kwargs):
        kwargs.setdefault("status", 429)
        super().__init__(
            kwargs.pop("code", "3001"),
            kwargs.pop("message", "ThrottleExceeded"),
            kwargs.pop("detail", "The request limit was reached."),
            **kwargs,
        )
        self.retry_after = retry_after


class QboUnavailable(QboFault):
    """A 5xx answer or a SystemFault (code 10000): worth retrying when it is safe to resend."""


class CdcWindowExceeded(RuntimeError):
    """CDC was asked for changes older than QBO keeps (30 days): do a full reload instead."""
