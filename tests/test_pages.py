"""Guards for every page: each one listed in the navigation opens without an exception, and no page shows a
sentence that bypasses the text lookup (a string literal passed to a Streamlit display call)."""

import ast
import re
from pathlib import Path

import pytest
from conftest import APP_PATH, ROOT
from streamlit.testing.v1 import AppTest

PAGE_SOURCES = sorted((ROOT / "pages").glob("*.py"))
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


def literal_sentences(path: Path) -> list[str]:
    """``file:line: text`` for every literal a display call in ``path`` would show."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        name = getattr(node.func, "attr", getattr(node.func, "id", None)) if isinstance(node, ast.Call) else None
        if name not in DISPLAY_CALLS:
            continue
        arguments = node.args[:1] + [keyword.value for keyword in node.keywords if keyword.arg in TEXT_KEYWORDS]
        found += [f"{path.name}:{node.lineno}: {words!r}" for argument in arguments for words in words_in(argument)]
    return found


def test_the_literal_check_catches_what_it_should():
    tree = 'st.button("Start", key="k")\ncolumn.caption(f"Step {n} of {count}")\nst.title(t("a.b"))\nst.markdown("---")'
    path = ROOT / "tests" / "_literal_probe.py"
    path.write_text(tree, encoding="utf-8")
    try:
        assert [line.split(": ", 1)[1] for line in literal_sentences(path)] == ["'Start'", "'Step '", "' of '"]
    finally:
        path.unlink()


@pytest.mark.parametrize("path", PAGE_SOURCES, ids=lambda path: path.name)
def test_pages_show_no_literal_sentences(path):
    assert literal_sentences(path) == [], "show text through cnnlib.text.t and the catalogues"


@pytest.mark.parametrize("page_file", navigation_pages())
def test_every_page_opens_without_an_exception(page_file):
    at = AppTest.from_file(APP_PATH, default_timeout=90).run()
    at.switch_page(page_file).run()
    assert not at.exception, [exception.value for exception in at.exception]
    assert at.title, f"{page_file} shows no title"


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
    assert not at.exception, [exception.value for exception in at.exception]
    shown = "\n".join(shown_texts(at._tree))
    leaks = sorted({f"{key}: {fragment!r}" for fragment, key in english_fragments().items() if fragment in shown})
    assert leaks == [], "English text on a Korean page"
