"""Who a signed-in learner is: a workspace id made from their sign-in, which nobody can pick for someone else.

When the server has Streamlit's sign-in configured (an ``[auth]`` section in ``.streamlit/secrets.toml``), a learner
must sign in, ``?learner=`` is ignored, and the workspace id is an HMAC-SHA256 of the provider's issuer and subject
(``iss``, ``sub``: stable, unlike an e-mail address) keyed with the server's own secret
(``[cnn_explorer] workspace_secret`` in the same file). Without the secret, knowing someone's subject does not tell
their workspace id; without sign-in, ids are random and kept in the page's address (``cnnlib.store.workspace``).

An identity whose provider has not verified its e-mail address is refused (``email_verified`` must be true when the
token names an address), as is one without an issuer and subject.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

from cnnlib.errors import Refusal
from cnnlib.store.workspace import ID_ALPHABET, ID_LENGTH

MIN_SECRET_LENGTH = 32  # characters: e.g. ``python -c "import secrets; print(secrets.token_urlsafe(32))"``


def check_secret(secret: object) -> str:
    """The server's workspace secret; a Refusal (worded for whoever runs the server) when it is missing or short."""
    if not isinstance(secret, str) or len(secret) < MIN_SECRET_LENGTH:
        raise Refusal("sign_in.no_secret", length=MIN_SECRET_LENGTH)
    return secret


def _verified(claims: Mapping[str, object]) -> bool:
    """Whether the token names no e-mail address, or one its provider has verified."""
    if not claims.get("email"):
        return True
    return claims.get("email_verified") is True or str(claims.get("email_verified")).lower() == "true"


def signed_in_workspace_id(claims: Mapping[str, object], secret: str) -> str:
    """The workspace id of a signed-in learner: an HMAC of their issuer and subject, in the ids' alphabet."""
    issuer, subject = claims.get("iss"), claims.get("sub")
    if not (isinstance(issuer, str) and issuer and isinstance(subject, str) and subject):
        raise Refusal("sign_in.no_subject")
    if not _verified(claims):
        raise Refusal("sign_in.unverified", email=str(claims.get("email")))
    digest = hmac.new(check_secret(secret).encode("utf-8"), f"{issuer}\n{subject}".encode("utf-8"),
                      hashlib.sha256).digest()
    return "".join(ID_ALPHABET[byte % len(ID_ALPHABET)] for byte in digest[:ID_LENGTH])
