"""Signed-in learners: a workspace id nobody can pick for someone else, refused for unverified addresses."""

import pytest

from cnnlib.errors import Refusal
from cnnlib.store.identity import MIN_SECRET_LENGTH, signed_in_workspace_id
from cnnlib.store.workspace import is_workspace_id

SECRET = "s" * MIN_SECRET_LENGTH
GOOGLE = {"iss": "https://accounts.google.com", "sub": "10769150350006150715113082367", "email": "kim@example.com",
          "email_verified": True, "is_logged_in": True}


def test_the_id_is_stable_well_formed_and_depends_on_issuer_subject_and_secret():
    mine = signed_in_workspace_id(GOOGLE, SECRET)
    assert is_workspace_id(mine) and mine == signed_in_workspace_id(dict(GOOGLE), SECRET)
    assert mine != signed_in_workspace_id({**GOOGLE, "sub": "10769150350006150715113082368"}, SECRET)
    assert mine != signed_in_workspace_id({**GOOGLE, "iss": "https://login.microsoftonline.com/x/v2.0"}, SECRET)
    assert mine != signed_in_workspace_id(GOOGLE, "t" * MIN_SECRET_LENGTH)  # the secret, not the subject, decides
    assert mine == signed_in_workspace_id({**GOOGLE, "email": "new@example.com"}, SECRET)  # addresses change


@pytest.mark.parametrize(("claims", "key"), [
    ({**GOOGLE, "email_verified": False}, "sign_in.unverified"),
    ({**GOOGLE, "email_verified": "false"}, "sign_in.unverified"),
    ({key: value for key, value in GOOGLE.items() if key != "email_verified"}, "sign_in.unverified"),
    ({**GOOGLE, "sub": ""}, "sign_in.no_subject"),
    ({key: value for key, value in GOOGLE.items() if key != "iss"}, "sign_in.no_subject"),
    ({**GOOGLE, "sub": 12345}, "sign_in.no_subject"),
], ids=["unverified", "unverified-text", "unsaid", "empty-subject", "no-issuer", "number-subject"])
def test_identities_that_cannot_be_trusted_are_refused(claims, key):
    with pytest.raises(Refusal) as refused:
        signed_in_workspace_id(claims, SECRET)
    assert refused.value.key == key


def test_a_token_without_an_address_needs_no_verification():
    assert is_workspace_id(signed_in_workspace_id({"iss": "https://example.org", "sub": "42"}, SECRET))


@pytest.mark.parametrize("secret", [None, "", "short", "x" * (MIN_SECRET_LENGTH - 1)])
def test_a_missing_or_short_secret_is_refused_with_a_sentence_for_the_server(secret):
    with pytest.raises(Refusal) as refused:
        signed_in_workspace_id(GOOGLE, secret)
    assert refused.value.key == "sign_in.no_secret" and "workspace_secret" in str(refused.value)
