"""Bulk API 2.0 jobs: query jobs (CSV results in pages with locators) and ingest jobs.

Jobs move through their states with time, so a poller sees `InProgress` at least once:
a query job is created `UploadComplete`, the first look at it after creation shows
`InProgress`, and once `STEP_S` has passed it is `JobComplete`. An ingest job is `Open` until the
client closes it (`UploadComplete`), then goes `InProgress` and is processed `STEP_S` later.
A query job's matching records are snapshotted at creation, so later writes don't change its
result.
"""

from __future__ import annotations

import base64
import binascii
import csv
import io
import math
import time
from dataclasses import dataclass, field

from sandbox.salesforce import soql, values
from sandbox.salesforce.errors import RecordError, SfError
from sandbox.salesforce.schema import OBJECTS, Field

STEP_S = 0.05
DEFAULT_MAX_RECORDS = 100_000  # server's page size when maxRecords is not given (unverified)
CHUNK_BYTES = 1 << 20

DELIMITERS = {"COMMA": ",", "BACKQUOTE": "`", "CARET": "^", "PIPE": "|", "SEMICOLON": ";", "TAB": "\t"}
LINE_ENDINGS = {"LF": "\n", "CRLF": "\r\n"}
TERMINAL = ("JobComplete", "Failed", "Aborted")


def _invalid(message: str, code: str = "INVALIDJOB") -> SfError:
    return SfError(400, code, message)


def encode_locator(offset: int) -> str:
    # Salesforce's locators look like base64 of the offset ("MTAwMDA" = "10000").
    return base64.b64encode(str(offset).encode()).decode().rstrip("=")


def decode_locator(locator: str) -> int:
    try:
        text = base64.b64decode(locator + "=" * (-len(locator) % 4), validate=True).decode()
        offset = int(text)
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise SfError(400, "INVALID_QUERY_LOCATOR", f"Invalid locator: {locator}") from exc
    if offset < 0:
        raise SfError(400, "INVALID_QUERY_LOCATOR", f"Invalid locator: {locator}")
    return offset


def _format_options(body: dict) -> tuple[str, str]:
    delim = body.get("columnDelimiter") or "COMMA"
    ending = body.get("lineEnding") or "LF"
    if delim not in DELIMITERS:
        raise _invalid(f"Invalid column delimiter: {delim}", "INVALIDJOB")
    if ending not in LINE_ENDINGS:
        raise _invalid(f"Invalid line ending: {ending}", "INVALIDJOB")
    content = body.get("contentType") or "CSV"
    if content != "CSV":
        raise _invalid(f"Invalid content type: {content}. Only CSV is supported", "INVALIDJOB")
    return delim, ending


@dataclass
class Job:
    id: str
    operation: str
    object: str
    api_version: str
    created_by: str
    column_delimiter: str
    line_ending: str
    created_at: str
    state: str
    started: float = field(default_factory=time.monotonic)
    seen_in_progress: bool = False
    modstamp: str = ""

    def _set(self, state: str) -> None:
        self.state = state
        self.modstamp = values.format_datetime(values.utc_now_ms())

    def advance(self, org) -> None:
        """Move the job on with time. It completes STEP_S after it started, once a poll of the job
        has seen it InProgress (or after a second even if nobody polls)."""
        if self.state == "UploadComplete":
            self.started = time.monotonic()
            self._set("InProgress")
        elif self.state == "InProgress":
            elapsed = time.monotonic() - self.started
            if elapsed >= STEP_S and (self.seen_in_progress or elapsed >= 1.0):
                self._complete(org)

    def _complete(self, org) -> None:
        raise NotImplementedError

    def base_info(self) -> dict:
        return {
            "id": self.id,
            "operation": self.operation,
            "object": self.object,
            "createdById": self.created_by,
            "createdDate": self.created_at,
            "systemModstamp": self.modstamp or self.created_at,
            "state": self.state,
        }


@dataclass
class QueryJob(Job):
    query: str = ""
    plan: soql.Plan | None = None
    rows: list = field(default_factory=list)

    def _complete(self, org) -> None:
        self._set("JobComplete")

    def info(self, full: bool = True) -> dict:
        info = self.base_info() | {
            "concurrencyMode": "Parallel",
            "contentType": "CSV",
            "apiVersion": float(self.api_version),
            "lineEnding": self.line_ending,
            "columnDelimiter": self.column_delimiter,
        }
        if full:
            info |= {
                "jobType": "V2Query",
                "numberRecordsProcessed": len(self.rows) if self.state == "JobComplete" else 0,
                "retries": 0,
                "totalProcessingTime": 0,
                "isPkChunkingSupported": True,
            }
        return info


def create_query_job(org, body: dict, version: str) -> QueryJob:
    operation = body.get("operation")
    if operation not in ("query", "queryAll"):
        raise _invalid(f"Invalid operation: {operation}. Expected query or queryAll", "INVALIDJOB")
    delim, ending = _format_options(body)
    text = body.get("query")
    if not isinstance(text, str):
        raise _invalid("query is required", "INVALIDJOB")
    plan = org.parse_query(text, bulk=True)
    if org.bulk_query_jobs_used >= 10000:
        raise SfError(400, "LIMIT_EXCEEDED", "Max number of Bulk API 2.0 query jobs per 24 hours reached")
    org.bulk_query_jobs_used += 1
    now = values.format_datetime(values.utc_now_ms())
    job = QueryJob(
        id=org.new_job_id(),
        operation=operation,
        object=plan.obj.name,
        api_version=version,
        created_by=org.run_as_user_id,
        column_delimiter=delim,
        line_ending=ending,
        created_at=now,
        state="UploadComplete",
        query=text,
        plan=plan,
        rows=org.execute(plan, all_rows=operation == "queryAll"),
    )
    org.query_jobs[job.id] = job
    return job


def query_results(org, job: QueryJob, locator: str | None, max_records: str | None):
    """(headers, async byte iterator) for one page of a completed query job.

    Salesforce gzips these results; requests undoes that transparently, so the sandbox sends
    them plain and spends the CPU on rows instead.
    """
    if job.state != "JobComplete":
        state = {"InProgress": "IN_PROGRESS", "UploadComplete": "UPLOAD_COMPLETE"}.get(job.state, job.state.upper())
        raise SfError(412, "JOB_NOT_COMPLETE", f"Job {job.id} is not complete. Current status: {state}")
    offset = decode_locator(locator) if locator else 0
    if max_records in (None, ""):
        size = DEFAULT_MAX_RECORDS
    else:
        try:
            size = int(max_records)
        except ValueError:
            size = 0
        if size <= 0:
            raise SfError(400, "INVALIDREQUEST", f"maxRecords must be a positive integer: {max_records}")
    total = len(job.rows)
    if offset > total:
        raise SfError(400, "INVALID_QUERY_LOCATOR", f"Invalid locator: {locator}")
    end = min(offset + size, total)
    headers = {
        "Sforce-Locator": encode_locator(end) if end < total else "null",
        "Sforce-NumberOfRecords": str(end - offset),
        "Content-Type": "text/csv",
    }
    delim = DELIMITERS[job.column_delimiter]
    eol = LINE_ENDINGS[job.line_ending]
    plan = job.plan
    assert plan is not None
    header_line = delim.join(values.csv_cell(p.name) for p in plan.columns) + eol
    render = org.csv_renderer(plan, delim, eol)
    rows = job.rows

    async def body():
        yield header_line.encode()
        i = offset
        if i >= end:
            return
        # Rows per chunk from the first row's size, so each chunk is about CHUNK_BYTES.
        step = max(1, CHUNK_BYTES // max(1, len(render(rows[i : i + 1]))))
        while i < end:
            stop = min(i + step, end)
            yield render(rows[i:stop]).encode()
            i = stop

    return headers, body()


# ------------------------------------------------------------------ ingest


@dataclass
class IngestJob(Job):
    external_id_field: str | None = None
    data: bytes | None = None
    header: list[str] = field(default_factory=list)
    successful: list[list[str]] = field(default_factory=list)
    failed: list[list[str]] = field(default_factory=list)
    unprocessed: list[list[str]] = field(default_factory=list)
    error_message: str | None = None
    processed_time_ms: int = 0

    def content_url(self) -> str:
        return f"services/data/v{self.api_version}/jobs/ingest/{self.id}/batches"

    def _complete(self, org) -> None:
        begin = time.monotonic()
        _process(org, self)
        self.processed_time_ms = int((time.monotonic() - begin) * 1000)

    def info(self, full: bool = True) -> dict:
        info = self.base_info() | {
            "externalIdFieldName": self.external_id_field,
            "concurrencyMode": "Parallel",
            "contentType": "CSV",
            "apiVersion": float(self.api_version),
            "contentUrl": self.content_url(),
            "lineEnding": self.line_ending,
            "columnDelimiter": self.column_delimiter,
        }
        if not self.external_id_field:
            info.pop("externalIdFieldName")
        if full:
            info |= {
                "jobType": "V2Ingest",
                "numberRecordsProcessed": len(self.successful) + len(self.failed),
                "numberRecordsFailed": len(self.failed),
                "retries": 0,
                "totalProcessingTime": self.processed_time_ms,
                "apiActiveProcessingTime": self.processed_time_ms,
                "apexProcessingTime": 0,
            }
            if self.error_message:
                info["errorMessage"] = self.error_message
        return info

    def results_csv(self, kind: str) -> str:
        delim = DELIMITERS[self.column_delimiter]
        eol = LINE_ENDINGS[self.line_ending]
        if kind == "successful":
            head, rows = ["sf__Id", "sf__Created", *self.header], self.successful
        elif kind == "failed":
            head, rows = ["sf__Id", "sf__Error", *self.header], self.failed
        else:
            head, rows = list(self.header), self.unprocessed
        out = io.StringIO()
        if head:
            out.write(delim.join(values.csv_cell(h) for h in head) + eol)
        for row in rows:
            out.write(delim.join(values.csv_cell(c) for c in row) + eol)
        return out.getvalue()


INGEST_OPERATIONS = ("insert", "update", "upsert", "delete", "hardDelete")


def create_ingest_job(org, body: dict, version: str) -> IngestJob:
    operation = body.get("operation")
    if operation not in INGEST_OPERATIONS:
        raise _invalid(f"Invalid operation: {operation}", "INVALIDJOB")
    if operation == "hardDelete":
        # Needs the "Bulk API Hard Delete" permission, which the integration user lacks here.
        raise SfError(400, "FEATURENOTENABLED", "hardDelete requires the Bulk API Hard Delete permission")
    name = body.get("object")
    obj = OBJECTS.get(name) if isinstance(name, str) else None
    if obj is None:
        obj = next((o for o in OBJECTS.values() if isinstance(name, str) and o.name.lower() == name.lower()), None)
    if obj is None:
        raise _invalid(f"sObject type '{name}' is not supported.", "INVALIDJOB")
    delim, ending = _format_options(body)
    ext = body.get("externalIdFieldName")
    if operation == "upsert":
        if not ext:
            raise _invalid("External ID was blank for upsert operation", "INVALIDJOB")
        f = obj.field(ext)
        if f is None or not (f.external_id or f.name == "Id"):
            raise _invalid(f"Field name provided, {ext} is not an External ID or indexed field for {obj.name}")
        ext = f.name
    now = values.format_datetime(values.utc_now_ms())
    job = IngestJob(
        id=org.new_job_id(),
        operation=operation,
        object=obj.name,
        api_version=version,
        created_by=org.run_as_user_id,
        column_delimiter=delim,
        line_ending=ending,
        created_at=now,
        state="Open",
        external_id_field=ext if operation == "upsert" else None,
    )
    org.ingest_jobs[job.id] = job
    return job


def upload(job: IngestJob, data: bytes) -> None:
    if job.state != "Open":
        raise SfError(409, "INVALIDJOBSTATE", f"Job {job.id} is not Open (state: {job.state})")
    if job.data is not None:
        # Stricter reading: Bulk API 2.0 takes one upload per job.
        raise SfError(409, "INVALIDJOBSTATE", "Data has already been uploaded for this job")
    if not data:
        raise SfError(400, "INVALIDREQUEST", "No data was uploaded")
    if len(data) > 100 * 1024 * 1024:
        raise SfError(413, "EXCEEDED_QUOTA", "The data exceeds the 100 MB upload limit")
    job.data = data


def set_state(org, job: Job, state: str) -> None:
    if state == "Aborted":
        allowed = ("Open", "UploadComplete", "InProgress")
        if job.state not in allowed:
            raise SfError(400, "INVALIDJOBSTATE", f"Job {job.id} cannot be aborted in state {job.state}")
        if isinstance(job, IngestJob):
            job.unprocessed = _rows_of(job) if job.data else []
        job._set("Aborted")
        return
    if state == "UploadComplete" and isinstance(job, IngestJob):
        if job.state != "Open":
            raise SfError(400, "INVALIDJOBSTATE", f"Job {job.id} is not Open (state: {job.state})")
        job._set("UploadComplete")
        job.started = time.monotonic()
        return
    raise SfError(400, "INVALIDJOBSTATE", f"Invalid state transition to {state}")


def _reader(job: IngestJob) -> list[list[str]]:
    text = (job.data or b"").decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=DELIMITERS[job.column_delimiter]))


def _rows_of(job: IngestJob) -> list[list[str]]:
    try:
        rows = _reader(job)
    except (UnicodeDecodeError, csv.Error):
        return []
    if rows:
        job.header = rows[0]
    return [r for r in rows[1:] if r]


def _fail_job(job: IngestJob, message: str) -> None:
    job.error_message = message
    job.unprocessed = _rows_of(job) if job.data else []
    job._set("Failed")


def _process(org, job: IngestJob) -> None:
    """Apply an ingest job's rows through the same DML checks as the REST API."""
    if not job.data:
        _fail_job(job, "InvalidBatch : No data uploaded")
        return
    eol = LINE_ENDINGS[job.line_ending]
    first_line_end = job.data.find(b"\n")
    if first_line_end >= 0 and (job.data[first_line_end - 1 : first_line_end] == b"\r") != (eol == "\r\n"):
        _fail_job(job, f"ClientInputError : LineEnding is invalid on user data. Current LineEnding setting is {job.line_ending}")
        return
    try:
        rows = _reader(job)
    except UnicodeDecodeError:
        _fail_job(job, "InvalidBatch : The data is not UTF-8 encoded")
        return
    except csv.Error as exc:
        _fail_job(job, f"InvalidBatch : Failed to parse CSV: {exc}")
        return
    if not rows:
        _fail_job(job, "InvalidBatch : No data uploaded")
        return
    obj = OBJECTS[job.object]
    job.header = header = rows[0]
    fields: list[Field] = []
    for name in header:
        f = obj.field(name.strip())
        if f is None:
            _fail_job(job, f"InvalidBatch : Field name not found : {name}")
            return
        fields.append(f)
    if job.operation == "delete" and [f.name for f in fields] != ["Id"]:
        _fail_job(job, "InvalidBatch : The 'delete' batch must contain only 'Id' column")
        return
    ext_name = job.external_id_field
    if ext_name and ext_name not in [f.name for f in fields]:
        _fail_job(job, f"InvalidBatch : Field name not found : {ext_name}")
        return
    data_rows = [r for r in rows[1:] if r != []]
    org.bulk_batches_used += max(1, math.ceil(len(data_rows) / 10000))
    for row in data_rows:
        record_id = ""
        try:
            if len(row) != len(header):
                raise RecordError("INVALID_FIELD", "Number of columns does not match the header", [])
            cells = dict(zip(fields, row, strict=True))
            id_field = obj.field("Id")
            raw_id = cells.get(id_field, "")  # type: ignore[arg-type]
            record_id = raw_id
            changes = {}
            for f, cell in cells.items():
                if f.name == "Id" or cell == "":
                    continue  # empty = leave the field unchanged
                changes[f] = None if cell == "#N/A" else values.from_csv(f, cell)
            with org.lock:
                if job.operation == "insert":
                    if raw_id:
                        raise RecordError(
                            "INVALID_FIELD_FOR_INSERT_UPDATE", "cannot specify Id in an insert call", ["Id"]
                        )
                    record_id = org.insert(obj, changes)
                    created = True
                elif job.operation in ("update", "delete"):
                    if not raw_id:
                        raise RecordError("MISSING_ARGUMENT", f"Id not specified in an {job.operation} call", [])
                    record_id = _bulk_id(org, obj, raw_id)
                    if job.operation == "update":
                        org.update(obj, record_id, changes)
                    else:
                        org.delete(obj, record_id)
                    created = False
                else:
                    ext = obj.field(ext_name)  # type: ignore[arg-type]
                    value = raw_id if ext.name == "Id" else cells.get(ext, "")  # type: ignore[arg-type]
                    if ext.name != "Id" and value in ("", "#N/A"):
                        raise RecordError("MISSING_ARGUMENT", f"{ext.name} not specified", [ext.name])
                    if ext.name == "Id" and value:
                        value = _bulk_id(org, obj, value)
                    changes.pop(ext, None)
                    record_id, created = org.upsert(obj, ext, value, dict(changes) | ({ext: value} if ext.name != "Id" else {}))
            job.successful.append([record_id, "true" if created else "false", *row])
        except RecordError as err:
            job.failed.append([record_id if job.operation != "insert" else "", err.as_bulk(), *row])
        except SfError as err:
            job.failed.append([record_id if job.operation != "insert" else "", f"{err.code}:{err.message}:--", *row])
    job._set("JobComplete")


def _bulk_id(org, obj, raw: str) -> str:
    from sandbox.salesforce import ids

    norm = ids.normalize(raw)
    if norm is None or not norm.startswith(obj.key_prefix):
        raise RecordError("MALFORMED_ID", f"{obj.name} ID: id value of incorrect type: {raw}", ["Id"])
    return norm
