"""Sign-in in the app (AppTest): required when configured, ``?learner=`` ignored, each identity its own workspace,
an unverified address or a missing secret a sentence; without sign-in configured nothing changes."""

import pytest
from conftest import APP_PATH
from streamlit.testing.v1 import AppTest

from cnnlib.store.identity import MIN_SECRET_LENGTH
from cnnlib.store.workspace import new_workspace_id
from pages.parts.state import WORKSPACE

SECRET = "k" * MIN_SECRET_LENGTH
AUTH = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "c" * 32, "client_id": "app",
        "client_secret": "s", "server_metadata_url": "https://accounts.google.com/.well-known/openid-configuration"}
KIM = {"iss": "https://accounts.google.com", "sub": "1001", "email": "kim@example.com", "email_verified": True,
       "name": "Kim"}


@pytest.fixture(autouse=True)
def classroom(monkeypatch):
    """Classroom mode: each learner a workspace of their own."""
    monkeypatch.setenv("CNN_EXPLORER_CLASSROOM", "1")


def home(user: dict | None, secret: str | None = SECRET, learner: str | None = None) -> AppTest:
    """The home page on a server with sign-in configured, for ``user`` (None: nobody signed in)."""
    at = AppTest.from_file(APP_PATH, default_timeout=60)
    at.secrets["auth"] = AUTH
    if secret is not None:
        at.secrets["cnn_explorer"] = {"workspace_secret": secret}
    at.user.clear()
    at.user.update({"is_logged_in": user is not None, **(user or {})})
    if learner:
        at.query_params["learner"] = learner
    return at.run()


def workspace_id(at: AppTest) -> str:
    """The session's workspace id."""
    return at.session_state[WORKSPACE]


def test_nobody_signed_in_is_offered_sign_in_and_nothing_else():
    at = home(None, learner=new_workspace_id())
    assert not at.exception and at.button(key="sign_in").label == "Sign in"
    assert "sign in to open yours" in at.info[0].value and not at.get("plotly_chart")


def test_each_identity_has_its_own_workspace_and_the_url_cannot_choose_another():
    somebody_else = new_workspace_id()
    kim = home(KIM, learner=somebody_else)
    assert not kim.exception and workspace_id(kim) != somebody_else and "learner" not in kim.query_params
    assert workspace_id(home(KIM)) == workspace_id(kim)  # the same person, another day
    assert workspace_id(home({**KIM, "sub": "1002", "email": "lee@example.com"})) != workspace_id(kim)
    assert any("Signed in as Kim" in caption.value for caption in kim.sidebar.caption)
    assert kim.sidebar.button(key="sign_out").label == "Sign out"


@pytest.mark.parametrize(("user", "secret", "sentence"), [
    ({**KIM, "email_verified": False}, SECRET, "has not verified the e-mail address kim@example.com"),
    (KIM, None, "no workspace secret of at least 32 characters"),
    (KIM, "short", "no workspace secret of at least 32 characters"),
    ({**KIM, "sub": ""}, SECRET, "did not say who you are"),
], ids=["unverified", "no-secret", "short-secret", "no-subject"])
def test_a_sign_in_that_cannot_be_trusted_gets_a_sentence_and_no_workspace(user, secret, sentence):
    at = home(user, secret)
    assert not at.exception and sentence in at.error[0].value and WORKSPACE not in at.session_state
    assert at.button(key="sign_out").label == "Sign out" and not at.get("plotly_chart")


def test_without_sign_in_configured_the_address_keeps_the_workspace():
    learner = new_workspace_id()
    at = AppTest.from_file(APP_PATH, default_timeout=60)
    at.query_params["learner"] = learner
    at.run()
    assert not at.exception and workspace_id(at) == learner and not at.button
