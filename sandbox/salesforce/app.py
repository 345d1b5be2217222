"""HTTP surface of the Salesforce emulator: OAuth token, REST query/sObjects/composite, Bulk API 2.0.

Every `/services/data/vXX.X/...` call is authenticated (INVALID_SESSION_ID otherwise), counted
against the daily allocation (REQUEST_LIMIT_EXCEEDED when used up), answered with
`Sforce-Limit-Info`, and logged in `org.request_log`. Errors are Salesforce's JSON arrays; a
Python exception inside a handler is a bug and answers UNKNOWN_EXCEPTION (500), logged.
"""

from __future__ import annotations

import json
import logging
import re
import time
import traceback
import uuid
from datetime import timedelta
from urllib.parse import unquote

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from sandbox.salesforce import bulk, ids, schema
from sandbox.salesforce.auth import OAuthError, issue_token, parse_form
from sandbox.salesforce.errors import RecordError, SfError, not_found
from sandbox.salesforce.org import LATEST_API_VERSION, OLDEST_API_VERSION, REST_PAGE_SIZE, SalesforceOrg
from sandbox.salesforce.values import format_datetime, parse_datetime, utc_now_ms

log = logging.getLogger("sandbox.salesforce")

JSON_TYPE = "application/json;charset=UTF-8"
ALL_METHODS = ["GET", "POST", "PATCH", "PUT", "DELETE", "HEAD"]
_VERSION = re.compile(r"^v(\d{2})\.0$")
_BATCH_SIZE = re.compile(r"batchSize\s*=\s*(\d+)", re.IGNORECASE)


def _json(body, status: int = 200, headers: dict | None = None) -> Response:
    return Response(json.dumps(body), status_code=status, media_type=JSON_TYPE, headers=headers)


def _error(exc: SfError) -> Response:
    return _json(exc.body(), exc.status)


class Ctx:
    """One request: the org, the parsed path and the API version."""

    def __init__(self, org: SalesforceOrg, request: Request, version: str, parts: list[str]):
        self.org = org
        self.request = request
        self.version = version
        self.parts = parts
        self.write = False

    async def json_body(self):
        raw = await self.request.body()
        if not raw.strip():
            raise SfError(400, "JSON_PARSER_ERROR", "The request body is empty")
        try:
            return json.loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            raise SfError(400, "JSON_PARSER_ERROR", f"Unexpected character in the JSON body: {exc}") from exc

    async def json_object(self) -> dict:
        body = await self.json_body()
        if not isinstance(body, dict):
            raise SfError(
                400, "JSON_PARSER_ERROR", "Cannot deserialize instance of sobject from START_ARRAY value"
            )
        return body


def _method_not_allowed(method: str, allowed: str) -> SfError:
    return SfError(405, "METHOD_NOT_ALLOWED", f"HTTP Method '{method}' not allowed. Allowed are {allowed}")


def _object(name: str) -> schema.SObject:
    obj = schema.get(name)
    if obj is None:
        raise SfError(404, "NOT_FOUND", f"The requested resource does not exist (sObject type '{name}')")
    return obj


# ------------------------------------------------------------------ handlers


async def _resources(ctx: Ctx) -> Response:
    base = f"/services/data/v{ctx.version}"
    names = ["sobjects", "query", "queryAll", "limits", "composite", "jobs"]
    return _json({n: f"{base}/{n}" for n in names})


async def _limits(ctx: Ctx) -> Response:
    return _json(ctx.org.limits())


async def _query(ctx: Ctx, all_rows: bool) -> Response:
    org = ctx.org
    text = ctx.request.query_params.get("q", "")
    plan = org.parse_query(text)
    rows = org.execute(plan, all_rows)
    if plan.count_only:
        return _json({"totalSize": len(rows), "done": True, "records": []})
    batch = REST_PAGE_SIZE
    m = _BATCH_SIZE.search(ctx.request.headers.get("sforce-query-options", ""))
    if m:
        batch = min(max(int(m.group(1)), 200), REST_PAGE_SIZE)
    render = org.json_renderer(plan, ctx.version)
    locator = org.new_locator() if len(rows) > batch else None
    if locator:
        org.cursors[locator] = (rows, render, batch, time.monotonic())
        _trim_cursors(org)
    return _json(_page(ctx.version, rows, render, 0, batch, locator))


def _page(version: str, rows: list, render, offset: int, batch: int, locator: str | None) -> dict:
    end = min(offset + batch, len(rows))
    body: dict = {"totalSize": len(rows), "done": end >= len(rows)}
    if end < len(rows):
        body["nextRecordsUrl"] = f"/services/data/v{version}/query/{locator}-{end}"
    body["records"] = [render(r) for r in rows[offset:end]]
    return body


def _trim_cursors(org: SalesforceOrg) -> None:
    # Cursors live two days at Salesforce; here the oldest go once there are many.
    while len(org.cursors) > 500:
        org.cursors.pop(next(iter(org.cursors)))


async def _query_more(ctx: Ctx, token: str) -> Response:
    locator, _, offset = token.rpartition("-")
    cursor = ctx.org.cursors.get(locator)
    if cursor is None or not offset.isdigit() or int(offset) > len(cursor[0]):
        raise SfError(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
    rows, render, batch, _ = cursor
    return _json(_page(ctx.version, rows, render, int(offset), batch, locator))


def _record_json(ctx: Ctx, obj: schema.SObject, rec, only: list[str] | None = None) -> dict:
    from sandbox.salesforce.values import to_json

    out: dict = {"attributes": {"type": obj.name, "url": ctx.org.record_url(ctx.version, obj.name, rec["Id"])}}
    for f in obj.fields:
        if only is None or f.name in only:
            out[f.name] = to_json(rec[f.name])
    return out


def _fields_param(ctx: Ctx, obj: schema.SObject) -> list[str] | None:
    raw = ctx.request.query_params.get("fields")
    if not raw:
        return None
    names = []
    for name in raw.split(","):
        f = obj.field(name.strip())
        if f is None:
            raise SfError(400, "INVALID_FIELD", f"No such column '{name.strip()}' on entity '{obj.name}'")
        names.append(f.name)
    return names


async def _sobject_collection(ctx: Ctx, obj: schema.SObject) -> Response:
    method = ctx.request.method
    if method == "GET":
        recent = sorted(
            (r for r in ctx.org.records[obj.name].values() if not r["IsDeleted"]),
            key=lambda r: r["LastModifiedDate"],
            reverse=True,
        )[:10]
        return _json(
            {
                "objectDescribe": _describe(obj, brief=True),
                "recentItems": [_record_json(ctx, obj, r, ["Id", "Name"] if obj.field("Name") else ["Id"]) for r in recent],
            }
        )
    if method != "POST":
        raise _method_not_allowed(method, "GET,POST")
    ctx.write = True
    body = await ctx.json_object()
    org = ctx.org
    with org.lock:
        changes = org.parse_json_fields(obj, body)
        new_id = org.insert(obj, changes)
    return _json({"id": new_id, "success": True, "errors": []}, 201)


def _describe(obj: schema.SObject, brief: bool = False) -> dict:
    out = {
        "name": obj.name,
        "label": obj.label,
        "keyPrefix": obj.key_prefix,
        "custom": False,
        "createable": True,
        "updateable": True,
        "deletable": True,
        "queryable": True,
    }
    if brief:
        return out
    out["fields"] = [
        {
            "name": f.name,
            "type": f.type,
            "length": f.length or 0,
            "precision": f.precision or 0,
            "scale": f.scale or 0,
            "createable": f.createable,
            "updateable": f.updateable,
            "nillable": not f.required and f.type != "boolean" and f.name != "Id",
            "externalId": f.external_id,
            "unique": f.unique,
            "idLookup": f.name == "Id" or f.external_id,
            "custom": f.custom,
            "referenceTo": [f.reference_to] if f.reference_to else [],
            "relationshipName": f.relationship_name,
        }
        for f in obj.fields
    ]
    return out


def _replication_window(ctx: Ctx, max_days: int) -> tuple:
    """start/end of a getUpdated/getDeleted call, with Salesforce's checks (seconds are dropped)."""
    params = ctx.request.query_params
    bounds = []
    for name in ("start", "end"):
        raw = params.get(name)
        value = parse_datetime(raw.replace(" ", "+")) if raw else None
        if value is None:
            raise SfError(400, "INVALID_REPLICATION_DATE", f"{name} must be a dateTime such as 2026-01-01T00:00:00+00:00")
        bounds.append(value.replace(second=0, microsecond=0))
    start, end = bounds
    now = utc_now_ms()
    if end <= start:
        raise SfError(400, "INVALID_REPLICATION_DATE", "end must be after start")
    if start < now - timedelta(days=max_days):
        raise SfError(400, "INVALID_REPLICATION_DATE", f"start date cannot be more than {max_days} days ago")
    return start, end


async def _replication(ctx: Ctx, obj: schema.SObject, kind: str) -> Response:
    # getUpdated covers 30 days back, getDeleted 15 (the Recycle Bin); both go by SystemModstamp.
    start, end = _replication_window(ctx, 30 if kind == "updated" else 15)
    recs = [r for r in ctx.org.records[obj.name].values() if start <= r["SystemModstamp"] < end]
    covered = format_datetime(min(end, utc_now_ms()))
    if kind == "updated":
        return _json({"ids": [r["Id"] for r in recs if not r["IsDeleted"]], "latestDateCovered": covered})
    deleted = [r for r in recs if r["IsDeleted"]]
    return _json(
        {
            "deletedRecords": [{"id": r["Id"], "deletedDate": format_datetime(r["SystemModstamp"])} for r in deleted],
            "earliestDateAvailable": format_datetime(utc_now_ms() - timedelta(days=15)),
            "latestDateCovered": covered,
        }
    )


async def _sobject_record(ctx: Ctx, obj: schema.SObject, raw_id: str) -> Response:
    org = ctx.org
    method = ctx.request.method
    if raw_id in ("updated", "deleted") and method == "GET":
        return await _replication(ctx, obj, raw_id)
    if method == "GET":
        with org.lock:
            rec = org.get_record(obj, raw_id)
        return _json(_record_json(ctx, obj, rec, _fields_param(ctx, obj)))
    if method == "PATCH":
        ctx.write = True
        body = await ctx.json_object()
        with org.lock:
            rec_id = org.check_id(obj, raw_id)
            _existing(org, obj, rec_id)
            changes = org.parse_json_fields(obj, body, skip=("id",) if _same_id(body, rec_id) else ())
            org.update(obj, rec_id, changes)
        return Response(status_code=204)
    if method == "DELETE":
        ctx.write = True
        with org.lock:
            rec_id = org.check_id(obj, raw_id)
            _existing(org, obj, rec_id)
            org.delete(obj, rec_id)
        return Response(status_code=204)
    raise _method_not_allowed(method, "GET,PATCH,DELETE")


def _same_id(body: dict, rec_id: str) -> bool:
    given = next((v for k, v in body.items() if k.lower() == "id"), None)
    return given is not None and ids.normalize(given) == rec_id


def _existing(org: SalesforceOrg, obj: schema.SObject, rec_id: str) -> None:
    rec = org.records[obj.name].get(rec_id)
    if rec is None:
        raise not_found()
    if rec["IsDeleted"]:
        raise SfError(404, "ENTITY_IS_DELETED", "entity is deleted")


async def _sobject_external(ctx: Ctx, obj: schema.SObject, field_name: str, value: str) -> Response:
    org = ctx.org
    method = ctx.request.method
    f = org.external_id_field(obj, field_name)
    if method == "GET":
        matches = org.find_by_external_id(obj, f, value)
        if len(matches) > 1:
            return _json([org.record_url(ctx.version, obj.name, m) for m in matches], 300)
        if not matches:
            raise not_found()
        return _json(_record_json(ctx, obj, org.records[obj.name][matches[0]], _fields_param(ctx, obj)))
    if method == "PATCH":
        ctx.write = True
        body = await ctx.json_object()
        with org.lock:
            matches = org.find_by_external_id(obj, f, value)
            if len(matches) > 1:
                return _json([org.record_url(ctx.version, obj.name, m) for m in matches], 300)
            changes = org.parse_json_fields(obj, body)
            rec_id, created = org.upsert(obj, f, value, changes)
        # Since API v46 an update through upsert answers 200 with created=false (older: 204).
        return _json({"id": rec_id, "success": True, "errors": [], "created": created}, 201 if created else 200)
    if method == "DELETE":
        ctx.write = True
        with org.lock:
            matches = org.find_by_external_id(obj, f, value)
            if len(matches) > 1:
                return _json([org.record_url(ctx.version, obj.name, m) for m in matches], 300)
            if not matches:
                raise not_found()
            org.delete(obj, matches[0])
        return Response(status_code=204)
    raise _method_not_allowed(method, "GET,PATCH,DELETE")


# -- sObject Collections


def _collection_records(body: dict) -> tuple[bool, list]:
    records = body.get("records")
    all_or_none = body.get("allOrNone", False)
    if not isinstance(records, list):
        raise SfError(400, "JSON_PARSER_ERROR", "records must be a list of sObjects")
    if not isinstance(all_or_none, bool):
        raise SfError(400, "JSON_PARSER_ERROR", "allOrNone must be true or false")
    if len(records) > 200:
        raise SfError(
            400, "EXCEEDED_ID_LIMIT", "record limit reached. cannot submit more than 200 records into this call"
        )
    for rec in records:
        if not isinstance(rec, dict):
            raise SfError(400, "JSON_PARSER_ERROR", "Cannot deserialize instance of sobject from a non-object")
    return all_or_none, records


def _record_type(rec: dict, expected: schema.SObject | None = None) -> schema.SObject:
    attrs = rec.get("attributes")
    type_name = attrs.get("type") if isinstance(attrs, dict) else None
    if not type_name:
        raise RecordError("INVALID_TYPE", "When using the sObject Collections API, specify the sObject type in attributes", [])
    obj = schema.get(str(type_name))
    if obj is None:
        raise RecordError("INVALID_TYPE", f"sObject type '{type_name}' is not supported.", [])
    if expected is not None and obj is not expected:
        raise RecordError("INVALID_TYPE", f"sObject type '{obj.name}' does not match the URL type '{expected.name}'", [])
    return obj


def _run_collection(org: SalesforceOrg, items: list, all_or_none: bool, op) -> list[dict]:
    """Apply `op(item, undo) -> result dict` to each item, in request order, all-or-none aware."""
    undo: list = []
    results: list[dict] = []
    failed = False
    with org.lock:
        for item in items:
            mark = len(undo)
            try:
                results.append(op(item, undo))
            except RecordError as err:
                org.rollback(undo[mark:])
                del undo[mark:]
                failed = True
                results.append({"success": False, "errors": [err.as_result()]})
        if all_or_none and failed:
            org.rollback(undo)
            rolled = {
                "statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK",
                "message": "Record rolled back because not all records were valid and the request was using AllOrNone header",
                "fields": [],
            }
            results = [
                r if not r.get("success") else {"id": r.get("id"), "success": False, "errors": [rolled]}
                for r in results
            ]
    return results


def _collection_id(obj: schema.SObject, raw) -> str:
    if raw is None or raw == "":
        raise RecordError("MISSING_ARGUMENT", "Id not specified in an update call", [])
    norm = ids.normalize(raw)
    if norm is None or not norm.startswith(obj.key_prefix):
        raise RecordError("MALFORMED_ID", f"{obj.name} ID: id value of incorrect type: {raw}", ["Id"])
    return norm


async def _composite_sobjects(ctx: Ctx) -> Response:
    org = ctx.org
    method = ctx.request.method
    ctx.write = method in ("PATCH", "POST", "DELETE")
    if method == "DELETE":
        raw_ids = [i for i in ctx.request.query_params.get("ids", "").split(",") if i]
        all_or_none = ctx.request.query_params.get("allOrNone", "false").lower() == "true"
        if len(raw_ids) > 200:
            raise SfError(400, "EXCEEDED_ID_LIMIT", "record limit reached. cannot submit more than 200 records into this call")

        def delete(raw, undo):
            obj = schema.BY_PREFIX.get(str(raw)[:3])
            norm = ids.normalize(raw)
            if obj is None or norm is None:
                raise RecordError("MALFORMED_ID", f"malformed id {raw}", [])
            org.delete(obj, norm, undo)
            return {"id": norm, "success": True, "errors": []}

        return _json(_run_collection(org, raw_ids, all_or_none, delete))
    if method not in ("PATCH", "POST"):
        raise _method_not_allowed(method, "POST,PATCH,DELETE")
    all_or_none, records = _collection_records(await ctx.json_object())
    # Wrong JSON types fail the whole request before any record is saved, as Salesforce parses first.
    parsed = []
    for rec in records:
        try:
            obj = _record_type(rec)
        except RecordError as err:
            parsed.append((None, rec, err))
            continue
        try:
            parsed.append((obj, rec, org.parse_json_fields(obj, rec, skip=("id",))))
        except RecordError as err:
            parsed.append((obj, rec, err))

    def apply(item, undo):
        obj, rec, changes = item
        if isinstance(changes, RecordError):
            raise changes
        if method == "POST":
            if next((v for k, v in rec.items() if k.lower() == "id"), None):
                raise RecordError("INVALID_FIELD", "cannot specify Id in an insert call", ["Id"])
            return {"id": org.insert(obj, changes, undo), "success": True, "errors": []}
        rec_id = _collection_id(obj, next((v for k, v in rec.items() if k.lower() == "id"), None))
        org.update(obj, rec_id, changes, undo)
        return {"id": rec_id, "success": True, "errors": []}

    return _json(_run_collection(org, parsed, all_or_none, apply))


async def _composite_upsert(ctx: Ctx, obj_name: str, field_name: str) -> Response:
    org = ctx.org
    if ctx.request.method != "PATCH":
        raise _method_not_allowed(ctx.request.method, "PATCH")
    ctx.write = True
    obj = _object(obj_name)
    f = org.external_id_field(obj, field_name)
    all_or_none, records = _collection_records(await ctx.json_object())
    parsed = []
    for rec in records:
        try:
            _record_type(rec, obj)
            parsed.append((rec, org.parse_json_fields(obj, rec)))
        except RecordError as err:
            parsed.append((rec, err))

    def apply(item, undo):
        rec, changes = item
        if isinstance(changes, RecordError):
            raise changes
        value = changes.get(f)
        if value in (None, ""):
            raise RecordError("MISSING_ARGUMENT", f"{f.name} not specified", [f.name])
        rec_id, created = org.upsert(obj, f, str(value), changes, undo)
        return {"id": rec_id, "success": True, "errors": [], "created": created}

    return _json(_run_collection(org, parsed, all_or_none, apply))


# -- Bulk API 2.0


def _job(ctx: Ctx, jobs: dict, job_id: str):
    job = jobs.get(job_id)
    if job is None:
        raise SfError(404, "NOT_FOUND", "The requested resource does not exist")
    return job


async def _jobs(ctx: Ctx, kind: str, rest: list[str]) -> Response:
    org = ctx.org
    method = ctx.request.method
    jobs = org.query_jobs if kind == "query" else org.ingest_jobs
    if not rest:
        if method == "POST":
            body = await ctx.json_object()
            with org.lock:
                if kind == "query":
                    job = bulk.create_query_job(org, body, ctx.version)
                else:
                    ctx.write = True
                    job = bulk.create_ingest_job(org, body, ctx.version)
            return _json(job.info(full=False))
        if method == "GET":
            return _json(
                {"done": True, "records": [j.info(full=False) for j in jobs.values()], "nextRecordsUrl": None}
            )
        raise _method_not_allowed(method, "GET,POST")
    job = _job(ctx, jobs, rest[0])
    if len(rest) == 1:
        if method == "GET":
            if job.state == "InProgress":
                job.seen_in_progress = True
            return _json(job.info())
        if method == "PATCH":
            ctx.write = kind == "ingest"
            body = await ctx.json_object()
            with org.lock:
                bulk.set_state(org, job, str(body.get("state")))
            return _json(job.info(full=False))
        if method == "DELETE":
            if job.state not in (*bulk.TERMINAL, "UploadComplete"):
                raise SfError(400, "INVALIDJOBSTATE", f"Job {job.id} cannot be deleted in state {job.state}")
            del jobs[job.id]
            return Response(status_code=204)
        raise _method_not_allowed(method, "GET,PATCH,DELETE")
    if len(rest) != 2:
        raise not_found()
    sub = rest[1]
    if kind == "query" and sub == "results":
        if method != "GET":
            raise _method_not_allowed(method, "GET")
        if job.api_version != ctx.version:
            raise SfError(409, "INVALIDVERSION", f"Job {job.id} was created with API version {job.api_version}")
        params = ctx.request.query_params
        headers, body = bulk.query_results(org, job, params.get("locator"), params.get("maxRecords"))
        return StreamingResponse(body, headers=headers, media_type="text/csv")
    if kind == "ingest" and sub == "batches":
        if method != "PUT":
            raise _method_not_allowed(method, "PUT")
        ctx.write = True
        data = await ctx.request.body()
        with org.lock:
            bulk.upload(job, data)
        return Response(status_code=201)
    results = {
        "successfulResults": "successful",
        "failedResults": "failed",
        "unprocessedrecords": "unprocessed",
        "unprocessedRecords": "unprocessed",  # simple-salesforce's spelling
    }
    if kind == "ingest" and sub in results:
        if method != "GET":
            raise _method_not_allowed(method, "GET")
        if job.state not in bulk.TERMINAL:
            # Stricter reading: results only once the job has finished.
            raise SfError(400, "INVALIDJOBSTATE", f"Job {job.id} is not finished (state: {job.state})")
        return Response(job.results_csv(results[sub]), media_type="text/csv")
    raise not_found()


async def _route(ctx: Ctx) -> Response:
    p = ctx.parts
    method = ctx.request.method
    n = len(p)
    if n == 0:
        return await _resources(ctx)
    head = p[0]
    if head == "limits" and n == 1:
        if method != "GET":
            raise _method_not_allowed(method, "GET")
        return await _limits(ctx)
    if head in ("query", "queryAll"):
        if method != "GET":
            raise _method_not_allowed(method, "GET")
        if n == 1:
            return await _query(ctx, all_rows=head == "queryAll")
        if n == 2:
            return await _query_more(ctx, p[1])
    if head == "sobjects":
        if n == 1:
            return _json({"encoding": "UTF-8", "maxBatchSize": 200, "sobjects": [_describe(o, True) for o in schema.OBJECTS.values()]})
        obj = _object(p[1])
        if n == 2:
            return await _sobject_collection(ctx, obj)
        if n == 3 and p[2] == "describe":
            return _json(_describe(obj))
        if n == 3:
            return await _sobject_record(ctx, obj, p[2])
        if n == 4:
            return await _sobject_external(ctx, obj, p[2], p[3])
    if head == "composite" and n >= 2 and p[1] == "sobjects":
        if n == 2:
            return await _composite_sobjects(ctx)
        if n == 4:
            return await _composite_upsert(ctx, p[2], p[3])
    if head == "jobs" and n >= 2 and p[1] in ("query", "ingest"):
        return await _jobs(ctx, p[1], p[2:])
    raise not_found()


# ------------------------------------------------------------------ app


def _split(raw_path: str) -> list[str]:
    return [unquote(seg) for seg in raw_path.strip("/").split("/") if seg != ""]


def build_app(org: SalesforceOrg) -> Starlette:
    def record(request: Request, status: int, write: bool, counted: bool, started: float) -> None:
        org.request_log.append(
            {
                "method": request.method,
                "path": request.url.path,
                # Never the token endpoint's query: a client might put credentials there.
                "query": "" if request.url.path.startswith("/services/oauth2") else request.url.query,
                "status": status,
                "write": write,
                "api_call": counted,
                "time": time.time(),
                "duration_ms": round((time.monotonic() - started) * 1000, 2),
            }
        )

    async def token(request: Request) -> Response:
        started = time.monotonic()
        if request.method != "POST":
            response = _json({"error": "invalid_request", "error_description": "must use HTTP POST"}, 400)
        else:
            try:
                form = parse_form(await request.body())
                response = _json(issue_token(org, form, request.headers.get("authorization")))
            except OAuthError as exc:
                response = _json(exc.body(), exc.status)
        record(request, response.status_code, False, False, started)
        return response

    async def data_api(request: Request) -> Response:
        started = time.monotonic()
        raw = request.scope.get("raw_path") or request.url.path.encode()
        parts = _split(raw.decode("latin-1").split("?", 1)[0])[2:]  # drop "services", "data"
        if not parts:
            versions = [
                {"label": f"v{v}", "url": f"/services/data/v{v:.1f}", "version": f"{v:.1f}"}
                for v in range(int(OLDEST_API_VERSION), int(LATEST_API_VERSION) + 1)
            ]
            return _json(versions)
        m = _VERSION.match(parts[0])
        counted = False
        ctx = None
        try:
            if not m:
                raise not_found()
            number = float(m.group(1))
            if not org.touch_session(_bearer(request)):
                raise SfError(401, "INVALID_SESSION_ID", "Session expired or invalid")
            if number > LATEST_API_VERSION:
                raise not_found()
            if number < OLDEST_API_VERSION:
                raise SfError(410, "API_VERSION_RETIRED", f"API version {number:.1f} has been retired")
            org.count_api_call()
            counted = True
            _advance_jobs(org)
            ctx = Ctx(org, request, f"{number:.1f}", parts[1:])
            response = await _route(ctx)
        except RecordError as exc:
            response = _error(exc.to_request_error())
        except SfError as exc:
            response = _error(exc)
        except Exception:  # noqa: BLE001 - a genuine bug: answer like Salesforce, keep the trace
            error_id = uuid.uuid4().hex[:8]
            log.error("UNKNOWN_EXCEPTION %s on %s %s\n%s", error_id, request.method, request.url.path, traceback.format_exc())
            org.internal_errors.append({"id": error_id, "path": request.url.path, "trace": traceback.format_exc()})
            response = _json(
                [
                    {
                        "errorCode": "UNKNOWN_EXCEPTION",
                        "message": f"An unexpected error occurred. Please include this ErrorId if you contact support: {error_id}",
                    }
                ],
                500,
            )
        if counted or response.status_code == 403:
            response.headers["Sforce-Limit-Info"] = f"api-usage={org.api_usage}/{org.api_limit}"
        write = bool(ctx and ctx.write)
        record(request, response.status_code, write, counted, started)
        return response

    async def other(request: Request) -> Response:
        return _json([{"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}], 404)

    routes = [
        Route("/services/oauth2/token", token, methods=ALL_METHODS),
        Route("/services/data", data_api, methods=ALL_METHODS),
        Route("/services/data/{rest:path}", data_api, methods=ALL_METHODS),
        Route("/{rest:path}", other, methods=ALL_METHODS),
    ]
    app = Starlette(routes=routes, middleware=_fault_middleware(org))
    app.middleware_stack = app.build_middleware_stack()  # now, so org.fault_injector is set at once
    return app


def _fault_middleware(org: SalesforceOrg) -> list[Middleware]:
    """The shared fault injector (sandbox.faults) when `settings.faults["salesforce"]` is set.

    Injected errors and drops happen before the emulator sees the request, so they are neither
    counted against the API allocation nor in `org.request_log`; `org.fault_injector.counts`
    says what was injected.
    """
    config = (org.settings.faults or {}).get("salesforce")
    org.fault_injector = None
    if not config:
        return []
    from sandbox.faults import FaultInjector

    def wrap(app):
        org.fault_injector = FaultInjector(app, config, service="salesforce", on_expire=org.expire_sessions)
        return org.fault_injector

    return [Middleware(wrap)]


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() in ("bearer", "oauth") and value.strip():
        return value.strip()
    return None


def _advance_jobs(org: SalesforceOrg) -> None:
    with org.lock:
        for jobs in (org.query_jobs, org.ingest_jobs):
            for job in list(jobs.values()):
                if job.state in ("UploadComplete", "InProgress"):
                    job.advance(org)
