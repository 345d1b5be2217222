"""OAuth 2.0 token endpoint: client credentials and JWT bearer, with Salesforce's error bodies.

There is no uploaded certificate in the sandbox: a JWT assertion's RS256 signature is verified
only when the org has a public key configured (`org.jwt_public_key`, PEM); otherwise the
assertion's header, issuer, subject, audience and expiry are still checked.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import time
from urllib.parse import parse_qs, unquote

import jwt

JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
LOGIN_AUDIENCES = ("https://login.salesforce.com", "https://test.salesforce.com")


class OAuthError(Exception):
    def __init__(self, error: str, description: str, status: int = 400):
        super().__init__(error)
        self.error = error
        self.description = description
        self.status = status

    def body(self) -> dict:
        return {"error": self.error, "error_description": self.description}


def parse_form(raw: bytes) -> dict[str, str]:
    try:
        parsed = parse_qs(raw.decode("utf-8"), keep_blank_values=True)
    except UnicodeDecodeError as exc:
        raise OAuthError("invalid_request", "request body is not valid form data") from exc
    return {k: v[0] for k, v in parsed.items()}


def _basic_credentials(header: str | None) -> tuple[str, str] | None:
    if not header or not header.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise OAuthError("invalid_client", "invalid client credentials") from exc
    client_id, sep, secret = decoded.partition(":")
    if not sep:
        raise OAuthError("invalid_client", "invalid client credentials")
    return unquote(client_id), unquote(secret)


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def issue_token(org, form: dict[str, str], authorization: str | None) -> dict:
    """The token response for a token request, or OAuthError."""
    grant = form.get("grant_type")
    settings = org.settings
    if grant == "client_credentials":
        creds = _basic_credentials(authorization) or (form.get("client_id"), form.get("client_secret"))
        client_id, secret = creds
        if not client_id or not secret or not (
            _same(client_id, settings.sf_client_id) and _same(secret, settings.sf_client_secret)
        ):
            raise OAuthError("invalid_client", "invalid client credentials")
        user_id = org.run_as_user_id
        scope = "api"
    elif grant == JWT_GRANT:
        user_id = _check_assertion(org, form.get("assertion") or "")
        scope = "api"
    elif not grant:
        raise OAuthError("unsupported_grant_type", "grant type not supported")
    else:
        raise OAuthError("unsupported_grant_type", "grant type not supported")
    issued_at = str(int(time.time() * 1000))
    identity = f"{org.instance_url}/id/{org.org_id}/{user_id}"
    return {
        "access_token": org.new_session(),
        "instance_url": org.instance_url,
        "id": identity,
        "token_type": "Bearer",
        "scope": scope,
        "issued_at": issued_at,
        "signature": org.token_signature(identity, issued_at),
    }


def _check_assertion(org, assertion: str) -> str:
    try:
        header = jwt.get_unverified_header(assertion)
    except jwt.PyJWTError as exc:
        raise OAuthError("invalid_grant", "invalid assertion") from exc
    if header.get("alg") != "RS256":
        raise OAuthError("invalid_grant", "invalid assertion")
    audiences = [*LOGIN_AUDIENCES, org.instance_url]
    options = {"require": ["iss", "sub", "aud", "exp"], "verify_exp": True, "verify_aud": True}
    try:
        if org.jwt_public_key:
            claims = jwt.decode(assertion, org.jwt_public_key, algorithms=["RS256"], audience=audiences, options=options)
        else:
            claims = jwt.decode(
                assertion,
                algorithms=["RS256"],
                audience=audiences,
                options={**options, "verify_signature": False},
            )
    except jwt.ExpiredSignatureError as exc:
        raise OAuthError("invalid_grant", "expired authorization code") from exc
    except jwt.InvalidAudienceError as exc:
        raise OAuthError("invalid_grant", "audience is invalid") from exc
    except jwt.PyJWTError as exc:
        raise OAuthError("invalid_grant", "invalid assertion") from exc
    if not _same(str(claims["iss"]), org.settings.sf_client_id):
        raise OAuthError("invalid_client_id", "client identifier invalid")
    username = str(claims["sub"]).lower()
    for user in org.records["User"].values():
        if (user.get("Username") or "").lower() == username and user["IsActive"] and not user["IsDeleted"]:
            return user["Id"]
    # Stricter reading: the subject must be an active user of this org.
    raise OAuthError("invalid_grant", "user hasn't approved this consumer")
