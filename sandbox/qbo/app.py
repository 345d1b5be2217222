"""HTTP faces of the QBO emulator: the Accounting API (HTTPS) and Intuit's OAuth 2.0 server (HTTP).

API requests go through, in order: bearer-token check (401, code 3200, lowercase body), realm
check (403, code 3100), the per-realm throttle (429, code 3001), `requestid` replay, then the
operation. Every response carries an `intuit_tid` header. An unexpected exception is a bug in
the emulator and answers QBO's SystemFault 10000, never a traceback.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import logging
import secrets
import uuid
from decimal import Decimal
from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route

from sandbox.qbo import errors
from sandbox.qbo.company import BATCH_REQUESTID_MAX, REQUESTID_MAX, QboCompany, dumps
from sandbox.qbo.errors import QboError

log = logging.getLogger("sandbox.qbo")

_JSON = "application/json;charset=UTF-8"


def _response(status: int, body: object, tid: str) -> Response:
    return Response(dumps(body), status_code=status, media_type=_JSON, headers={"intuit_tid": tid})


def _parse_json(raw: bytes) -> object:
    try:
        textual = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise errors.unsupported_operation("Request body is not valid UTF-8.") from None
    if not textual.strip():
        raise errors.invalid_property("body", "IntuitEntity", "Property Name:request body is empty")
    try:
        return json.loads(textual, parse_float=Decimal)
    except json.JSONDecodeError as exc:
        raise errors.invalid_property(
            "body", "IntuitEntity", f"Property Name:Unexpected character at line {exc.lineno} column {exc.colno}"
            " specified is unsupported or invalid",
        ) from None


class _Api:
    def __init__(self, company: QboCompany):
        self.company = company

    async def endpoint(self, request: Request) -> Response:
        tid = str(uuid.uuid4())
        company = self.company
        realm = request.path_params["realm"]
        rest = request.path_params["rest"].strip("/")
        params = dict(request.query_params)
        entry = {"method": request.method, "path": request.url.path, "params": params, "status": None,
                 "wrote": False, "intuit_tid": tid}
        writes_before = company.writes
        try:
            status, body = await self._handle(request, realm, rest, params)
        except QboError as err:
            status, body = err.status, err.body()
        except ClientDisconnect:  # the client went away mid-upload: nothing was applied, nobody to answer
            log.info("Client disconnected during %s %s", request.method, request.url.path)
            status, body = 499, {}
        except Exception:  # a bug in the emulator: QBO's SystemFault, never a traceback
            log.exception("QBO emulator bug on %s %s", request.method, request.url.path)
            err = errors.system_fault(
                "An unexpected error occurred while accessing or saving your data. Please wait a few minutes "
                "and try again."
            )
            status, body = err.status, err.body()
        entry["status"] = status
        entry["wrote"] = company.writes != writes_before
        company.request_log.append(entry)
        return _response(status, body, tid)

    async def _handle(self, request: Request, realm: str, rest: str, params: dict) -> tuple[int, object]:
        company = self.company
        header = request.headers.get("authorization", "")
        token = header[7:].strip() if header[:7].lower() == "bearer " else ""
        owner, why = company.tokens.check_access(token) if token else (None, "Token not present")
        if owner is None:
            raise errors.authentication_failed(why)
        if owner != realm or realm != company.realm_id:
            raise errors.authorization_failed()
        reason = company.throttle.acquire(is_batch=(rest.lower() == "batch"))
        if reason is not None:
            raise errors.throttled()
        try:
            if company.latency_s:
                await asyncio.sleep(company.latency_s)
            raw = await request.body()
            answer = self._dispatch(request.method, rest, params, raw, request.headers.get("content-type", ""))
            if company.response_delay_s:
                await asyncio.sleep(company.response_delay_s)
            return answer
        finally:
            company.throttle.release()

    def _dispatch(self, method: str, rest: str, params: dict, raw: bytes, content_type: str) -> tuple[int, object]:
        company = self.company
        parts = [p for p in rest.split("/") if p]
        head = parts[0].lower() if parts else ""
        if head == "query" and len(parts) == 1:
            if method == "GET":
                text = params.get("query", "")
            else:
                try:
                    text = raw.decode("utf-8")
                except UnicodeDecodeError:
                    raise errors.unsupported_operation("Request body is not valid UTF-8.") from None
                if "json" in content_type.lower():  # some clients post {"query": "..."}; QBO wants text
                    raise errors.unsupported_operation("Query requests must be sent as application/text.")
            return 200, {"QueryResponse": company.run_query(text, copy_rows=False), "time": errors.qbo_time()}
        if head == "cdc" and len(parts) == 1 and method == "GET":
            return company.cdc(params.get("entities"), params.get("changedSince"))
        if head == "preferences" and method == "GET":
            return 200, {**company.preferences(), "time": errors.qbo_time()}
        if head == "companyinfo" and len(parts) == 2 and method == "GET":
            return 200, {**company.company_info(parts[1]), "time": errors.qbo_time()}
        if method == "GET" and len(parts) == 2:
            return 200, {**company.read(parts[0], parts[1]), "time": errors.qbo_time()}
        if method == "POST" and len(parts) == 1:
            return self._idempotent(head, params, raw)
        raise errors.unsupported_operation(f"Operation {method} /{rest} is not supported.")

    def _idempotent(self, head: str, params: dict, raw: bytes) -> tuple[int, object]:
        """Writes with ?requestid= answer a repeat with the first response and do nothing else."""
        company = self.company
        request_id = params.get("requestid")
        if request_id:
            limit = BATCH_REQUESTID_MAX if head == "batch" else REQUESTID_MAX
            if len(request_id) > limit:
                # Documented maximum (Intuit blog 2015); the fault for a longer one is not on record.
                raise errors.string_length("requestid", limit, len(request_id))
            with company.lock:
                stored = company.idempotency.get(request_id)
            if stored is not None:
                return stored
        try:
            body = _parse_json(raw)
            if head == "batch":
                result: tuple[int, object] = (200, company.batch(body, params))
            else:
                result = (200, {**company.write(head, body, params), "time": errors.qbo_time()})
        except QboError as err:
            if err.status >= 500:
                raise
            result = (err.status, err.body())
        if request_id:
            with company.lock:
                company.idempotency.setdefault(request_id, result)
        return result


def build_api_app(company: QboCompany):
    """The Accounting API under /v3/company/<realm>/..., wrapped in fault injection if configured."""
    app = Starlette(routes=[Route("/v3/company/{realm}/{rest:path}", _Api(company).endpoint, methods=["GET", "POST"])])
    config = (getattr(company.settings, "faults", None) or {}).get("qbo")
    if config is not None:
        from sandbox.faults import FaultInjector

        injector = FaultInjector(app, config, service="qbo", on_expire=company.expire_access_tokens)
        company.fault_injector = injector
        return injector
    return app


# ---- OAuth -------------------------------------------------------------------------------------


def _oauth_json(status: int, body: dict) -> Response:
    return Response(json.dumps(body), status_code=status, media_type="application/json",
                    headers={"intuit_tid": str(uuid.uuid4())})


def _client_ok(company: QboCompany, header: str) -> bool:
    if not header.lower().startswith("basic "):
        return False
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return False
    client_id, _, secret = decoded.partition(":")
    s = company.settings
    return secrets.compare_digest(client_id, s.qbo_client_id) and secrets.compare_digest(secret, s.qbo_client_secret)


def build_oauth_app(company: QboCompany):
    """Discovery document, token endpoint (refresh_token grant) and revocation, on plain HTTP."""

    def base(request: Request) -> str:
        return (company.oauth_url or str(request.base_url)).rstrip("/")

    async def discovery(request: Request) -> Response:
        root = base(request)
        return _oauth_json(200, {
            "issuer": root,
            "authorization_endpoint": f"{root}/connect/oauth2",
            "token_endpoint": f"{root}/oauth2/v1/tokens/bearer",
            "userinfo_endpoint": f"{root}/v1/openid_connect/userinfo",
            "revocation_endpoint": f"{root}/oauth2/v1/tokens/revoke",
            "jwks_uri": f"{root}/oauth2/v1/keys",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "email", "profile", "address", "phone"],
            "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
            "claims_supported": ["aud", "exp", "iat", "iss", "realmid", "sub"],
        })

    async def token(request: Request) -> Response:
        if not _client_ok(company, request.headers.get("authorization", "")):
            return _oauth_json(401, {"error": "invalid_client"})
        raw = (await request.body()).decode("utf-8", errors="replace")
        form = {k: v[0] for k, v in parse_qs(raw).items()}
        grant = form.get("grant_type")
        if grant != "refresh_token":
            return _oauth_json(400, {"error": "unsupported_grant_type"})
        if not form.get("refresh_token"):
            return _oauth_json(400, {"error": "invalid_request"})
        issued = company.tokens.refresh(form["refresh_token"])
        if issued is None:
            return _oauth_json(400, {"error": "invalid_grant",
                                     "error_description": "Incorrect or invalid refresh token"})
        return _oauth_json(200, issued)

    async def revoke(request: Request) -> Response:
        if not _client_ok(company, request.headers.get("authorization", "")):
            return _oauth_json(401, {"error": "invalid_client"})
        try:
            body = json.loads(await request.body() or b"{}")
        except json.JSONDecodeError:
            body = {}
        if not isinstance(body, dict) or not body.get("token"):
            return _oauth_json(400, {"error": "invalid_request"})
        company.tokens.revoke(str(body["token"]))
        return Response(b"", status_code=200, headers={"intuit_tid": str(uuid.uuid4())})

    async def keys(request: Request) -> Response:
        return _oauth_json(200, {"keys": []})

    async def userinfo(request: Request) -> Response:
        header = request.headers.get("authorization", "")
        owner, _ = company.tokens.check_access(header[7:].strip()) if header[:7].lower() == "bearer " else (None, "")
        if owner is None:
            return _oauth_json(401, {"error": "invalid_token"})
        return _oauth_json(200, {"sub": f"sandbox-user-{owner}", "realmid": owner})

    async def authorize(request: Request) -> Response:
        # The consent screen is out of scope: the sandbox hands out its refresh token directly.
        return _oauth_json(400, {"error": "unsupported_response_type"})

    routes = [
        Route("/.well-known/openid_configuration", discovery, methods=["GET"]),
        Route("/.well-known/openid_sandbox_configuration", discovery, methods=["GET"]),
        Route("/oauth2/v1/tokens/bearer", token, methods=["POST"]),
        Route("/oauth2/v1/tokens/revoke", revoke, methods=["POST"]),
        Route("/oauth2/v1/keys", keys, methods=["GET"]),
        Route("/v1/openid_connect/userinfo", userinfo, methods=["GET"]),
        Route("/connect/oauth2", authorize, methods=["GET"]),
    ]
    app = Starlette(routes=routes)
    config = (getattr(company.settings, "faults", None) or {}).get("qbo")
    if config is not None and getattr(config, "include_oauth", False):
        from sandbox.faults import FaultInjector

        return FaultInjector(app, config, service="qbo", on_expire=company.expire_access_tokens,
                             applies_to=lambda path: path.startswith("/oauth2/"))
    return app
