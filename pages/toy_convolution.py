"""Toy convolution: the tutorial's 3x3 image through a conv and a max-pool, one multiply-and-sum at a time.
No TensorFlow here unless the learner asks for the "TensorFlow agrees" check: this page must open fast."""

import time

import streamlit as st

from cnnlib.lessons.toy import convolution as toy
from cnnlib.lessons.toy import lesson as toy_lesson
from cnnlib.lessons.toy import words as toy_text
from cnnlib.lessons.toy.figures import conv_step_figure, maps_figure, pool_step_figure
from cnnlib.text import t
from pages import ensure_app_navigation
from pages.parts.errors import explained_errors
from pages.parts.state import init_page
from pages.parts.toy_editors import editors_panel

ensure_app_navigation()

PLAY_SECONDS = 1.2  # one step per tick while playing
CHART = dict(width="content", config={"displayModeBar": False})
STAGES = {"conv": (conv_step_figure, toy_text.conv_step_text), "pool": (pool_step_figure, toy_text.pool_step_text)}
ICONS = dict(first="first_page", previous="chevron_left", play="play_arrow", pause="pause", next="chevron_right",
             last="last_page")  # stepper button label -> its Material icon


def tutorial_state() -> dict:
    """Every session-state key of this page with the tutorial's example: settings, playback, each tensor's editors'
    values (``_start``: what they start from, ``_latest``: on the last run) and a new version that renews them."""
    tensors = {"image": toy.TUTORIAL_IMAGE, "filters": toy.TUTORIAL_FILTERS}  # (1, H, W, C), (kh, kw, C, F)
    version = st.session_state.get("toy_editor_version", -1) + 1  # a resize renews the editors too
    return {**{f"toy_{name}": value for name, value in toy_lesson.tutorial_settings().items()},
            **{f"toy_{name}_{when}": tensor.copy() for name, tensor in tensors.items() for when in ("start", "latest")},
            "toy_playback": toy_lesson.Playback(), "toy_editor_version": version}


init_page(tutorial_state())


def shapes_panel(lesson: toy_lesson.Lesson) -> None:
    """The NHWC shape at each stage, and what each axis means."""
    st.header(t("toy.shapes.header"))
    st.markdown(toy_text.shapes_flow(lesson))
    st.markdown(toy_text.shapes_table(lesson))
    st.caption(t("toy.shapes.caption"))


def stage_panel(key: str, trace: toy.Trace) -> None:
    """The convolution or the max-pool: a stepper through its steps (figure, arithmetic, words), then its maps."""
    step_figure, explain = STAGES[key]
    count, playing = len(trace.steps), st.session_state.toy_playback.playing == key
    st.header(t(f"toy.stage.{key}.header"))

    @st.fragment(run_every=PLAY_SECONDS if playing else None)
    @explained_errors()
    def stepper() -> None:
        state = st.session_state
        playback = state.toy_playback = state.toy_playback.tick(key, count, time.monotonic(), PLAY_SECONDS)
        if (playback.playing == key) != playing:
            st.rerun()  # Play or Pause was clicked, or the last step came: the page starts or stops the ticking
        index = playback.shown(key, count)
        columns = st.columns([1, 1, 1, 1, 1, 3])
        for column, (button, (label, after, disabled)) in zip(columns, playback.buttons(key, count).items()):
            column.button(t(f"toy.stepper.{label}"), key=f"toy_{key}_step_{button}", on_click=st.session_state.update,
                          args=({"toy_playback": after},), disabled=disabled, icon=f":material/{ICONS[label]}:")
        columns[5].markdown(toy_text.step_position(index, count, trace.steps[index]))
        st.markdown(f"### {trace.steps[index].expression}")
        st.markdown(explain(trace, trace.steps[index]))
        st.plotly_chart(step_figure(trace, index), key=f"toy_{key}_step_figure", **CHART)

    stepper()
    st.markdown(t(f"toy.stage.{key}.result", shape=trace.output.shape))
    st.plotly_chart(maps_figure(trace.output, toy_text.map_titles(trace.output.shape[3], key)),
                    key=f"toy_{key}_result", **CHART)


def padding_panel(lesson: toy_lesson.Lesson) -> None:
    """Where does SAME padding go? The rule on the current numbers, and why max-pool keeps negative numbers."""
    st.header(t("toy.padding.header"))
    st.markdown(t("toy.padding.rule"))
    for block in toy_text.padding_rules(lesson):
        st.markdown(block)
    if (pool := lesson.pool) is None:
        return
    st.markdown(t("toy.padding.why_negative"))
    if not (changed := toy.padding_would_have_won(pool)):
        st.markdown(t("toy.padding.no_change"))
        return
    st.markdown(toy_text.zero_padding_changes(changed))
    if toy_lesson.is_tutorial_pool(pool):
        st.info(t("toy.padding.tutorial_puzzle"), icon=":material/lightbulb:")
    first = pool.steps.index(changed[0])
    st.plotly_chart(pool_step_figure(pool, first), key="toy_padding_example", **CHART)
    st.caption(t("toy.padding.example_caption", number=first + 1, expression=changed[0].expression))


def tensorflow_panel(lesson: toy_lesson.Lesson) -> None:
    """TensorFlow agrees (✓ or the gap, TensorFlow loaded only when asked), then the same as TensorFlow 2 code."""
    st.header(t("toy.tensorflow.header"))
    if not st.toggle(t("toy.tensorflow.toggle"), key="toy_tf_check"):
        st.caption(t("toy.tensorflow.off"))
    elif lesson.pool is None:
        st.info(t("toy.tensorflow.fix_pool_first"))
    else:
        with st.spinner(t("toy.tensorflow.running")):
            agreements = toy_lesson.tensorflow_agreements(lesson)
        for name, theirs, agreement in agreements:
            (st.success if agreement.same else st.error)(toy_text.agreement_text(name, agreement, theirs.shape))
            if not agreement.same:
                st.plotly_chart(maps_figure(theirs, toy_text.map_titles(theirs.shape[3], "tensorflow", name)),
                                key=f"toy_tf_{name}", width="content")
    st.header(t("toy.code.header"))
    if lesson.pool is None:
        st.info(t("toy.tensorflow.fix_pool_first"))
    else:
        st.caption(t("toy.code.caption"))
        st.code(toy.tensorflow_code(lesson.image, lesson.filters, **lesson.options), language="python")


st.title(t("toy.title"))
st.markdown(t("toy.intro"))
st.button(t("toy.restore"), key="toy_restore", on_click=lambda: st.session_state.update(tutorial_state()),
          icon=":material/restart_alt:")
with explained_errors():
    lesson = toy_lesson.lesson_for(*editors_panel())
    if lesson.error:
        st.error(lesson.error, icon=":material/error:")
    shapes_panel(lesson)
    if lesson.conv is not None:
        stage_panel("conv", lesson.conv)
        if lesson.pool is not None:
            stage_panel("pool", lesson.pool)
        padding_panel(lesson)
        tensorflow_panel(lesson)
