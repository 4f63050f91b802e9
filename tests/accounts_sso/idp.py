"""An OpenID Connect provider on 127.0.0.1, speaking the wire format of the real ones (Keycloak, Okta, Entra ID):
discovery, the authorization endpoint (it signs in ``person`` at once, as a provider does for a person with a
session there), the token endpoint (client_secret_basic, single-use codes, PKCE S256 checked) and the JWKS
endpoint, with RS256 ID tokens. ``tamper`` and ``other_key`` make it send tokens Warroom must refuse."""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from typing import Any
from urllib.parse import urlencode

import requests
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

from tests.notify.receivers import Answer, Received, Receiver, as_json

CLIENT_ID = "warroom-console"
CLIENT_SECRET = "idp-client-secret-0123456789"


class FakeIdP(Receiver):
    def __init__(self) -> None:
        super().__init__(self._route)
        self.key = RSAKey.generate_key(2048, parameters={"kid": "key-1", "use": "sig", "alg": "RS256"})
        #: the person signed in at the provider: the claims their ID token carries besides iss/aud/exp/nonce
        self.person: dict[str, Any] = {
            "sub": "idp-user-1",
            "email": "bob@example.com",
            "email_verified": True,
        }
        #: claims the next ID tokens override (a wrong aud, an old exp ...)
        self.tamper: dict[str, Any] = {}
        #: sign ID tokens with a key the JWKS endpoint does not publish
        self.other_key = False
        #: what the userinfo endpoint answers for a valid access token (claims besides the ID token's)
        self.userinfo: dict[str, Any] = {}
        self.access_tokens: set[str] = set()
        #: answer the authorization request with this error instead of a code (e.g. "access_denied")
        self.deny = ""
        self.codes: dict[str, dict[str, Any]] = {}
        self.authorize_requests: list[dict[str, str]] = []
        self.token_requests: list[dict[str, str]] = []
        #: advertise an end_session_endpoint (RP-initiated logout) in the discovery document
        self.end_session = True
        self.id_tokens: list[str] = []  # every ID token issued, in order

    @property
    def issuer(self) -> str:
        return self.url("").rstrip("/")

    def _route(self, request: Received) -> Answer:
        if request.path == "/.well-known/openid-configuration":
            return as_json(
                200,
                {
                    "issuer": self.issuer,
                    "authorization_endpoint": self.url("/authorize"),
                    "token_endpoint": self.url("/token"),
                    "jwks_uri": self.url("/jwks"),
                    "userinfo_endpoint": self.url("/userinfo"),
                    "response_types_supported": ["code"],
                    "subject_types_supported": ["public"],
                    "id_token_signing_alg_values_supported": ["RS256"],
                    "code_challenge_methods_supported": ["S256"],
                    "token_endpoint_auth_methods_supported": ["client_secret_basic"],
                    **({"end_session_endpoint": self.url("/logout?realm=acme")} if self.end_session else {}),
                },
            )
        if request.path == "/jwks":
            return as_json(200, KeySet([self.key]).as_dict(private=False))
        if request.path == "/authorize":
            return self._authorize({k: v[0] for k, v in request.query.items()})
        if request.path == "/token" and request.method == "POST":
            return self._token(request)
        if request.path == "/userinfo":
            return self._userinfo(request)
        return as_json(404, {"error": "not_found"})

    def _authorize(self, query: dict[str, str]) -> Answer:
        self.authorize_requests.append(query)
        back = query["redirect_uri"]
        if self.deny:
            params = {
                "error": self.deny,
                "error_description": "The user denied access",
                "state": query["state"],
            }
            return 302, {"Location": f"{back}?{urlencode(params)}"}, b""
        code = secrets.token_urlsafe(16)
        self.codes[code] = {**query, "person": dict(self.person)}
        return 302, {"Location": f"{back}?{urlencode({'code': code, 'state': query['state']})}"}, b""

    def _token(self, request: Received) -> Answer:
        form = request.form()
        self.token_requests.append(form)
        expected = "Basic " + base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        if request.headers.get("authorization") != expected:
            return as_json(401, {"error": "invalid_client"})
        grant = self.codes.pop(form.get("code", ""), None)
        if grant is None or form.get("redirect_uri") != grant["redirect_uri"]:
            return as_json(400, {"error": "invalid_grant", "error_description": "Code not valid"})
        challenge = base64.urlsafe_b64encode(hashlib.sha256(form.get("code_verifier", "").encode()).digest())
        if (
            grant.get("code_challenge_method") != "S256"
            or challenge.rstrip(b"=").decode() != grant["code_challenge"]
        ):
            return as_json(400, {"error": "invalid_grant", "error_description": "PKCE verification failed"})
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "aud": grant["client_id"],
            "iat": now,
            "exp": now + 300,
            "nonce": grant.get("nonce", ""),
            **grant["person"],
            **self.tamper,
        }
        key = RSAKey.generate_key(2048, parameters={"kid": "key-1"}) if self.other_key else self.key
        id_token = jwt.encode({"alg": "RS256", "kid": "key-1", "typ": "JWT"}, claims, key)
        self.id_tokens.append(id_token)
        access_token = secrets.token_urlsafe(24)
        self.access_tokens.add(access_token)
        return as_json(
            200,
            {"access_token": access_token, "token_type": "Bearer", "expires_in": 300, "id_token": id_token},
        )

    def _userinfo(self, request: Received) -> Answer:
        bearer = request.headers.get("authorization", "").removeprefix("Bearer ")
        if bearer not in self.access_tokens:
            return as_json(401, {"error": "invalid_token"})
        return as_json(200, self.userinfo)


def follow(location: str) -> str:
    """What a browser does with the redirect to the provider: ask it, and return where it sends the browser back
    (the callback URL with its code and state)."""
    answer = requests.get(location, allow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text
    return str(answer.headers["Location"])
