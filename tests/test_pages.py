"""Guards for every page: each one listed in the navigation opens without an exception or a bug, no page (or part of
one, pages/parts/) shows a sentence that bypasses the text lookup (a string literal passed to a Streamlit display
call), and what stops a panel is shown as a refusal's sentence, a file's trouble or a bug's reference, never as a
traceback or a library's message."""

import ast
import logging
import re
from pathlib import Path

import pytest
from conftest import APP_PATH, ROOT
from streamlit.testing.v1 import AppTest

from cnnlib.text import LANGUAGES, catalogue

PAGE_SOURCES = sorted((ROOT / "pages").rglob("*.py"))  # the pages and pages/parts/
DISPLAY_CALLS = {  # Streamlit calls whose first argument or text keywords a learner reads
    "title", "header", "subheader", "markdown", "caption", "write", "text", "info", "warning", "error", "success",
    "toast", "spinner", "expander", "status", "button", "download_button", "link_button", "page_link", "checkbox",
    "toggle", "radio", "selectbox", "multiselect", "select_slider", "slider", "number_input", "text_input",
    "text_area", "file_uploader", "segmented_control", "pills", "metric", "progress", "form_submit_button",
    "tabs", "Page", "popover", "dialog", "chat_input", "color_picker", "date_input", "time_input", "camera_input",
}
TEXT_KEYWORDS = {"label", "help", "placeholder", "caption", "text", "title", "body", "value"}
FILE_PATH = re.compile(r"[\w.-]*(/[\w.-]*)+|\.py")  # st.Page("pages/home.py"), f"pages/{name}.py": not sentences


def navigation_pages() -> list[str]:
    """The page files app.py's navigation lists, read from pages/__init__.py."""
    tree = ast.parse((ROOT / "pages" / "__init__.py").read_text(encoding="utf-8"))
    return [node.args[0].value for node in ast.walk(tree) if isinstance(node, ast.Call)
            and getattr(node.func, "attr", None) == "Page" and isinstance(node.args[0], ast.Constant)]


def words_in(node: ast.expr) -> list[str]:
    """The literal text in an argument that a reader would see: string constants and f-string parts with letters."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        readable = any(character.isalpha() for character in node.value) and not FILE_PATH.fullmatch(node.value)
        return [node.value] if readable else []
    if isinstance(node, ast.JoinedStr):
        return [part for value in node.values for part in words_in(value)]
    if isinstance(node, ast.BinOp):
        return words_in(node.left) + words_in(node.right)
    if isinstance(node, ast.IfExp):
        return words_in(node.body) + words_in(node.orelse)
    if isinstance(node, (ast.List, ast.Tuple)):
        return [part for element in node.elts for part in words_in(element)]
    return []


def page_trouble(at: AppTest) -> list[str]:
    """What went wrong on a page AppTest ran: uncaught exceptions, and errors that report a bug. Pages catch every
    exception (pages/parts/errors.py), so ``not at.exception`` alone no longer sees a bug: its sentence does, and the
    test's captured log holds its traceback."""
    openings = {catalogue(language)["common.error.bug"].split("{")[0] for language in LANGUAGES}
    bugs = [error.value for error in at.error if any(opening in error.value for opening in openings)]
    return [exception.value for exception in at.exception] + bugs


def browser_trouble(page) -> list[str]:
    """``page_trouble`` in Chromium: Streamlit's exception boxes, and the opening of any bug sentence on the page."""
    openings = {catalogue(language)["common.error.bug"].split("{")[0] for language in LANGUAGES}
    shown = page.locator("body").inner_text()
    return page.locator('[data-testid="stException"]').all_inner_texts() + [o for o in openings if o in shown]


def literal_sentences(path: Path) -> list[str]:
    """``file:line: text`` for every literal a display call in ``path`` would show."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        name = getattr(node.func, "attr", getattr(node.func, "id", None)) if isinstance(node, ast.Call) else None
        if name not in DISPLAY_CALLS:
            continue
        arguments = node.args[:1] + [keyword.value for keyword in node.keywords if keyword.arg in TEXT_KEYWORDS]
        found += [f"{path.relative_to(ROOT)}:{node.lineno}: {words!r}" for argument in arguments
                  for words in words_in(argument)]
    return found


def test_the_literal_check_catches_what_it_should():
    tree = 'st.button("Start", key="k")\ncolumn.caption(f"Step {n} of {count}")\nst.title(t("a.b"))\nst.markdown("---")'
    path = ROOT / "tests" / "_literal_probe.py"
    path.write_text(tree, encoding="utf-8")
    try:
        assert [line.split(": ", 1)[1] for line in literal_sentences(path)] == ["'Start'", "'Step '", "' of '"]
    finally:
        path.unlink()


def test_the_literal_check_reads_the_parts_of_pages_too():
    assert {ROOT / "pages" / "parts" / "saved_models.py", ROOT / "pages" / "__init__.py"} <= set(PAGE_SOURCES)


@pytest.mark.parametrize("path", PAGE_SOURCES, ids=lambda path: str(path.relative_to(ROOT / "pages")))
def test_pages_show_no_literal_sentences(path):
    assert literal_sentences(path) == [], "show text through cnnlib.text.t and the catalogues"


@pytest.mark.parametrize("page_file", navigation_pages())
def test_every_page_opens_without_an_exception(page_file):
    at = AppTest.from_file(APP_PATH, default_timeout=90).run()
    at.switch_page(page_file).run()
    assert not page_trouble(at), page_trouble(at)
    assert at.title, f"{page_file} shows no title"


@pytest.mark.page_bug
def test_a_refusal_a_file_error_and_a_bug_each_get_their_sentence(caplog):
    from cnnlib.errors import Refusal
    from pages.parts.errors import explanation

    refusal = Refusal("common.mnist_failed", reason="no digits")
    assert explanation(refusal) == "MNIST could not be loaded: no digits"
    assert explanation(refusal, within="train.results.reload_failed") == (
        "The test digits could not be loaded again: MNIST could not be loaded: no digits")
    missing = FileNotFoundError(2, "No such file or directory", "/srv/classroom/secret/mnist.npz")
    assert explanation(missing, within="common.mnist_failed") == (
        "MNIST could not be loaded: [Errno 2] No such file or directory: 'mnist.npz'")
    assert "/srv" not in explanation(missing) and "'mnist.npz'" in explanation(missing)
    with caplog.at_level(logging.ERROR, logger="pages.parts.errors"):
        said = explanation(ValueError("operands could not be broadcast together"), within="common.mnist_failed")
    reference = re.fullmatch(r"Something went wrong on our side.*reference: ([0-9a-f]{6})\.", said).group(1)
    [record] = caplog.records
    assert reference in record.getMessage() and record.exc_info[1].args == ("operands could not be broadcast together",)
    assert "broadcast" not in said and "MNIST" not in said  # a bug is not a refusal: no library message, no context


def explained_script(ending: str) -> None:
    """A page with one explained block that ends in ``ending``: a bug, a refusal, or Streamlit's stop or rerun."""
    import streamlit as st

    from cnnlib.errors import Refusal
    from pages.parts.errors import explained_errors

    st.session_state.setdefault("runs", 0)
    st.session_state["runs"] += 1
    with explained_errors():
        st.markdown("before")
        if ending == "bug":
            raise IndexError("index 28 is out of bounds for axis 0 with size 28")
        if ending == "refusal":
            raise Refusal("common.mnist_failed", reason="no digits")
        if ending == "rerun" and st.session_state["runs"] == 1:
            st.rerun()
        if ending == "stop":
            st.stop()
    st.markdown("after")


@pytest.mark.page_bug
@pytest.mark.parametrize(("ending", "shown", "errors", "runs"), [
    ("bug", ["before", "after"], ["Something went wrong on our side"], 1),
    ("refusal", ["before", "after"], ["MNIST could not be loaded: no digits"], 1),
    ("stop", ["before"], [], 1), ("rerun", ["before", "after"], [], 2),
])
def test_explained_errors_shows_a_sentence_and_lets_streamlit_stop_and_rerun(ending, shown, errors, runs):
    at = AppTest.from_function(explained_script, args=(ending,), default_timeout=30).run()
    assert not at.exception and [markdown.value for markdown in at.markdown] == shown
    assert len(at.error) == len(errors) and all(error.value.startswith(start) for error, start in zip(at.error, errors))
    assert "IndexError" not in str(at._tree) and at.session_state["runs"] == runs


def shown_texts(node) -> list[str]:
    """Every text an AppTest element tree shows: values, labels, help, options, plotly specs (titles, hover); code
    blocks are left out, since code reads the same in every language."""
    if getattr(node, "type", None) == "code":
        return []
    texts = [value for name in ("value", "label", "help", "body", "placeholder")
             if isinstance(value := getattr(node, name, None), str)]
    proto = getattr(node, "proto", None)
    texts += [str(option) for option in getattr(proto, "options", [])]
    if getattr(proto, "spec", None):
        texts.append(proto.spec)
    return texts + [text for child in getattr(node, "children", {}).values() for text in shown_texts(child)]


def english_fragments() -> dict[str, str]:
    """Fragments of English sentences long enough to be unmistakable, each with its key; text that Korean keeps
    the same (code, shapes, names) is left out."""
    from cnnlib.text import catalogue, placeholders

    english, korean = catalogue("en"), catalogue("ko")
    fragments = {}
    for key, sentence in english.items():
        parts = re.split(r"\{[^}]*\}", sentence) if placeholders(sentence) else [sentence]
        for part in parts:
            part = part.strip(" .,:;()`*")
            if len(part) >= 12 and re.search(r"[a-z]{3}", part) and part not in korean.get(key, ""):
                fragments[part] = key
    return fragments


@pytest.mark.parametrize("page_file", navigation_pages())
def test_korean_pages_show_no_english_sentence(page_file):
    at = AppTest.from_file(APP_PATH, default_timeout=90)
    at.query_params["lang"] = "ko"
    at.run()
    at.switch_page(page_file).run()
    assert not page_trouble(at), page_trouble(at)
    shown = "\n".join(shown_texts(at._tree))
    leaks = sorted({f"{key}: {fragment!r}" for fragment, key in english_fragments().items() if fragment in shown})
    assert leaks == [], "English text on a Korean page"
