"""Bearer-token checks of the write endpoints (FastAPI's ``HTTPBearer`` scheme).

No token: 401 with ``WWW-Authenticate: Bearer`` (the client must authenticate); a wrong token:
403 (it did, and may not). Tokens are compared in constant time (``hmac.compare_digest``). The
gateway refuses to start without a token unless ``--insecure`` is given (see ``server.py``);
then these checks let everything through, and the start-up log says so.
"""

from __future__ import annotations

import hmac

from fastapi import Depends, HTTPException, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

bearer = HTTPBearer(auto_error=False, description="RTREC_GATEWAY_TOKEN (write endpoints)")


def token_check(token: str | None):
    """A FastAPI dependency that enforces ``token`` (None: insecure mode, no check)."""

    def check(credentials: HTTPAuthorizationCredentials | None = Depends(bearer)) -> None:
        if token is None:
            return
        if credentials is None or credentials.scheme.lower() != "bearer":
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                "missing bearer token: send 'Authorization: Bearer <RTREC_GATEWAY_TOKEN>'",
                headers={"WWW-Authenticate": "Bearer"},
            )
        if not hmac.compare_digest(credentials.credentials.encode(), token.encode()):
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                "wrong bearer token for this gateway: use the value of its RTREC_GATEWAY_TOKEN",
            )

    return check
