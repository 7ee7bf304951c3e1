"""The studio's Auto-tune panel: search the current preset's settings with :func:`pipeline.tuning.tune`.

The search starts from the preset being tuned (trial 0, so the best row is never worse than it)
and runs on either the current image, scored by the CER against the "Expected text" box (or, when
that box is empty, by Tesseract's mean word confidence: a proxy, not accuracy), or on several
uploaded images with one expected text each. The ranked trials are kept in the session
(:data:`K.TUNE_RESULT`), so they survive reruns; "Apply" loads a row's preset through
:func:`studio.state.load_preset` like the preset picker does, so the widgets, the share link and
"Undo last change" follow.

The search runs in a worker thread (:class:`studio.tune_job.TuneJob`, kept in the session under
:data:`K.TUNE_JOB`) that never calls Streamlit; a fragment (:func:`progress_view`) reruns every
:data:`POLL_S` seconds while it runs and draws its progress, so the rest of the page stays
usable. Stop asks the search to end after its current batch of trials, keeping the trials so
far. When the thread has ended, the next run of the page (the fragment asks for one) keeps its
result (:func:`collect`). The search also stops on its own after :func:`patience_for` trials
without progress or :data:`TIME_LIMIT_S` seconds.

Widget keys (tests address widgets by them):

=====================  ==============================================================
``tune:source``        radio: tune on the current image or on uploaded images
``tune:files``         the images to tune on (several); ``tune:texts`` their expected texts
``tune:trials``        trials slider; ``tune:seed`` sampler seed
``tune:start``         Start button; ``tune:stop`` Stop button (enabled during a search)
``tune:row``           rank to apply; ``tune:apply`` the Apply button
=====================  ==============================================================

The "Ignore case" and "Ignore spaces" boxes of the expected-text panel (``ocr:ignore_case``,
``ocr:ignore_spaces``) apply to the search too.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import streamlit as st

from pipeline.errors import ClarityError, ImageError
from pipeline.preset import Preset
from pipeline.tuning import TrialInfo, TuneResult, format_score

from . import keys as K
from . import sources, views
from . import state as S
from .tune_job import JobSettings, Search, TuneJob

CURRENT, UPLOADS = "current", "uploads"
TRIALS_MIN, TRIALS_MAX, TRIALS_DEFAULT = 10, 300, 40
TOP_ROWS = 10
"""Rows of the ranked table (and choices of the Apply picker)."""
TIME_LIMIT_S = 600.0
"""No new batch of trials starts after this many seconds."""
MAX_IMAGES = 20
POLL_S = 0.5
"""Seconds between two redraws of a running search's progress."""
JOBS = 1
"""Worker processes per search: 1, the readings run in the search thread. ``tune``'s spawned
workers re-import the main module, and under ``streamlit run`` that is ``app.py`` itself: every
worker would run the whole page once in bare mode (seconds, and a flood of warnings) before
reading. For one small image the whole search costs less than starting the workers."""

CONFIDENCE_NOTE = (
    "No expected text: the search maximises Tesseract's mean word confidence. That is a proxy for "
    "accuracy, not accuracy: it can prefer settings that erase the hard words. Check the result "
    "by eye, or type the expected text to tune for the character error rate (CER)."
)
SOURCE_LABELS = {CURRENT: "The current image", UPLOADS: "Several uploaded images"}

_STOPS = {
    "trials": "all {n} trials run",
    "patience": "stopped after {n} of {total} trials: no progress in the last {p}",
    "timeout": "stopped after {n} of {total} trials: time limit of {t:.0f} s reached",
    "stopped": "stopped after {n} of {total} trials with the Stop button",
}


# ---------------------------------------------------------------------- pure helpers


def patience_for(trials: int) -> int:
    """Trials without progress after which the search ends: a third of the trials, at least 30."""
    return max(30, trials // 3)


def parse_expected(text: str, names: Sequence[str]) -> tuple[list[str | None], str]:
    """Expected text of each uploaded file, and how the lines were matched (``"name"``/``"order"``).

    When every non-empty line starts with the name of an uploaded file and a colon
    (``label.png: LOT 4471-B``), lines are matched by name; otherwise the first line is the
    first file's, the second the second's, and so on (a blank line: no expected text). A file
    without a line has no expected text. Line breaks inside a text do not matter for the CER
    (whitespace runs count as one space), so each text fits on one line.

    Raises :class:`ValueError` (a message for the user) when there are more lines than files.
    """
    lines = text.splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    filled = [line for line in lines if line.strip()]
    by_length = sorted(set(names), key=len, reverse=True)

    def named(line: str) -> tuple[str, str] | None:
        stripped = line.strip()
        for name in by_length:
            if stripped.startswith(name + ":"):
                return name, stripped[len(name) + 1 :].strip()
        return None

    matches = [named(line) for line in filled]
    if filled and all(m is not None for m in matches):
        texts: dict[str, str] = {}
        for name, value in matches:  # type: ignore[misc]
            if name in texts:
                raise ValueError(f"Two lines give the expected text of {name}.")
            texts[name] = value
        return [texts.get(n) or None for n in names], "name"
    if len(lines) > len(names):
        raise ValueError(
            f"{len(lines)} lines of expected text for {len(names)} image(s): write one line per image, "
            "in the order of the files, or 'file name: text' lines."
        )
    out: list[str | None] = [line.strip() or None for line in lines]
    return out + [None] * (len(names) - len(out)), "order"


def table_rows(result: TuneResult, rows: Sequence[TrialInfo]) -> list[dict[str, Any]]:
    """The ranked table: rank, trial, score (CER in % or confidence), change vs the base, changes."""
    cer = result.metric == "cer"
    scale = 100.0 if cer else 1.0
    base = result.base.score
    out = []
    for rank, info in enumerate(rows, 1):
        assert info.score is not None
        row: dict[str, Any] = {
            "Rank": rank,
            "Trial": info.number,
            ("Mean CER" if cer else "Mean confidence"): round(info.score * scale, 2),
            "vs. current": None if base is None else round((info.score - base) * scale, 2),
            "Changes from the current preset": info.summary if info.number else "none (the current preset)",
        }
        if result.n_images > 1:
            row["Failed images"] = len(info.failures)
        out.append(row)
    return out


def studio_preset(search: Search, trial: TrialInfo) -> Preset:
    """``trial``'s preset named and described as tuned (the description says: in the studio)."""
    preset = search.result.tuned(trial)
    description = preset.description.replace(
        "with `python -m pipeline tune`", "with the studio's Auto-tune", 1
    )
    return preset.model_copy(update={"description": description})


def summary(search: Search) -> str:
    """One line: how the search ended and how the best compares with the starting preset."""
    result = search.result
    n = len(result.trials)
    searched = result.searched or n
    how = _STOPS.get(result.stop_reason, "{n} trials").format(
        n=searched, total=search.planned, p=search.patience, t=TIME_LIMIT_S
    )
    if n > searched:  # the simplification reads one more trial per changed value
        how += f", then {n - searched} more to put back changes that did not count"
    best, base = result.best, result.base
    if best.number == 0:
        base_score = format_score(result.metric, base.score, short=True)
        verdict = f"no trial beat the current preset ({base_score})"
    else:
        verdict = (
            f"best: trial {best.number}, {format_score(result.metric, best.score, short=True)} "
            f"vs. {format_score(result.metric, base.score, short=True)} for the current preset"
        )
    return f"Tuned '{search.base_name}' on {search.on}: {how} in {result.seconds:.1f} s; {verdict}."


def progress_text(metric: str, info: TrialInfo) -> str:
    """The progress bar's text after a trial."""
    best = format_score(metric, info.best_score, short=True)
    return f"Trial {info.done} of {info.total} — best so far: {best}"


# --------------------------------------------------------------------------------- panel


def panel(preset: Preset) -> None:
    """The Auto-tune panel (drawn inside the "Auto-tune" expander by ``app.py``)."""
    ss = st.session_state
    collect()
    st.caption(
        "Search the current preset's stage settings, which stages are on and the page segmentation "
        "mode for the best reading. The current settings are trial 0, so the best row is never worse "
        "than them on these images. Applying a row replaces the current settings; "
        "'Undo last change' goes back."
    )
    source = st.radio(
        "Tune on",
        [CURRENT, UPLOADS],
        key=K.TUNE_SOURCE,
        format_func=SOURCE_LABELS.get,
        horizontal=True,
    )
    ignore_case = bool(ss.get(K.IGNORE_CASE))
    ignore_spaces = bool(ss.get(K.IGNORE_SPACES))
    if source == CURRENT:
        image: sources.LoadedImage = ss[K.IMAGE]
        expected = ss.get(K.EXPECTED) or ""
        if expected.strip():
            st.caption(
                f"Scored by the CER of the cleaned reading of {views.md_escape(image.name)} against the "
                "expected text above" + _ignoring(ignore_case, ignore_spaces) + "."
            )
        else:
            st.info(CONFIDENCE_NOTE)
        files, texts, text_problem = [], [], None
    else:
        files = list(
            st.file_uploader(
                "Images to tune on",
                type=views.IMAGE_TYPES,
                accept_multiple_files=True,
                key=K.TUNE_FILES,
                help=f"Up to {MAX_IMAGES} images (the first page of multi-page files).",
            )
            or []
        )
        st.text_area(
            "Expected texts, one line per image",
            key=K.TUNE_TEXTS,
            height=110,
            placeholder="label.png: LOT 4471-B BEST BEFORE 12/2026\nmeter.jpg: 004512",
            help="Either one line per image in the order of the files above, or 'file name: text' "
            "lines in any order. A multi-line text goes on one line (line breaks count as spaces). "
            "Images without a text are left out when any image has one; with no text at all the "
            "search maximises the mean word confidence instead.",
        )
        texts, text_problem = _matched_texts(files)
    a, b = st.columns(2)
    trials = int(
        a.slider(
            "Trials", TRIALS_MIN, TRIALS_MAX, TRIALS_DEFAULT, key=K.TUNE_TRIALS,
            help="Most settings to try (the current ones included). Each trial reads every image once.",
        )
    )  # fmt: skip
    seed = int(
        b.number_input(
            "Seed", 0, 2**31 - 1, 0, step=1, key=K.TUNE_SEED,
            help="The same seed, images and preset give the same trials.",
        )
    )  # fmt: skip
    st.caption(
        f"The search stops early after {patience_for(trials)} trials without progress or "
        f"{TIME_LIMIT_S / 60:.0f} minutes. The Ignore case and Ignore spaces boxes above apply. "
        "The page stays usable while it runs; Stop ends it after the current trial and keeps the "
        "trials so far."
    )
    job: TuneJob | None = ss.get(K.TUNE_JOB)
    left, right = st.columns(2)
    if left.button("Start", key=K.TUNE_START, icon=":material/tune:", type="primary", width="stretch"):
        if job is not None and job.running:
            st.info("A search is already running: stop it first.")
        else:
            pairs, on = _pairs(source or CURRENT, files, texts, text_problem)
            if pairs:
                job = start_job(preset, pairs, on, trials, seed, ignore_case, ignore_spaces)
                ss[K.TUNE_FOR] = ss[K.IMAGE].digest if source == CURRENT else None
    right.button(
        "Stop",
        key=K.TUNE_STOP,
        icon=":material/stop:",
        disabled=job is None or not job.running,
        on_click=_on_stop,
        width="stretch",
    )
    if job is not None:
        progress_view()
    results(preset)


def _ignoring(ignore_case: bool, ignore_spaces: bool) -> str:
    ignored = [w for w, on in (("case", ignore_case), ("spaces", ignore_spaces)) if on]
    return f", ignoring {' and '.join(ignored)}" if ignored else ""


def _matched_texts(files: Sequence[Any]) -> tuple[list[str | None], str | None]:
    """Expected text per uploaded file and a problem to show; a preview table of the matches."""
    if not files:
        return [], None
    names = [f.name for f in files]
    try:
        texts, how = parse_expected(st.session_state.get(K.TUNE_TEXTS) or "", names)
    except ValueError as exc:
        views.alert("error", str(exc))
        return [None] * len(names), str(exc)
    preview = [
        {"Image": n, "Expected text": t if t is not None else "— (none)"}
        for n, t in zip(names, texts, strict=True)
    ]
    st.dataframe(preview, hide_index=True, width="stretch")
    with_text = sum(t is not None for t in texts)
    if with_text == 0:
        st.info(CONFIDENCE_NOTE)
    elif with_text < len(texts):
        st.warning(
            f"{len(texts) - with_text} image(s) without an expected text will be left out: the CER needs one."
        )
    else:
        st.caption("Matched by file name." if how == "name" else "Matched by line order.")
    return texts, None


def _upload_pairs(
    files: Sequence[Any], texts: Sequence[str | None], problem: str | None
) -> tuple[list[tuple[np.ndarray, str | None]], str]:
    """Decode the uploaded files for a search; errors are shown and the bad files left out."""
    if not files:
        views.alert("error", "Upload the images to tune on first.")
        return [], ""
    if problem is not None:
        views.alert("error", f"Fix the expected texts first: {problem}")
        return [], ""
    if len(files) > MAX_IMAGES:
        views.alert("error", f"{len(files)} images: tune on {MAX_IMAGES} at most.")
        return [], ""
    pairs: list[tuple[np.ndarray, str | None]] = []
    for file, text in zip(files, texts, strict=True):
        try:
            pairs.append((sources.decode(file.getvalue(), file.name, 0, "upload").array, text))
        except ImageError as exc:
            views.alert("error", f"Left out: {str(exc).rstrip('.')}.")
    if not pairs:
        views.alert("error", "None of the uploaded images could be read.")
    elif any(text is not None for _, text in pairs):
        pairs = [(image, text) for image, text in pairs if text is not None]  # the CER needs a text
    return pairs, f"{len(pairs)} uploaded image{'s' if len(pairs) != 1 else ''}"


def _pairs(
    source: str, files: Sequence[Any], texts: Sequence[str | None], problem: str | None
) -> tuple[list[tuple[np.ndarray, str | None]], str]:
    """The images to tune on with their expected texts, and what to call them."""
    if source == CURRENT:
        image: sources.LoadedImage = st.session_state[K.IMAGE]
        text = (st.session_state.get(K.EXPECTED) or "").strip() or None
        return [(image.array, text)], f"the image {image.name}"
    return _upload_pairs(files, texts, problem)


def start_job(
    preset: Preset,
    pairs: Sequence[tuple[np.ndarray, str | None]],
    on: str,
    trials: int,
    seed: int,
    ignore_case: bool,
    ignore_spaces: bool,
) -> TuneJob:
    """Start a search in its worker thread and keep it in the session (:data:`K.TUNE_JOB`)."""
    settings = JobSettings(
        trials=trials,
        seed=seed,
        ignore_case=ignore_case,
        ignore_spaces=ignore_spaces,
        patience=patience_for(trials),
        time_limit_s=TIME_LIMIT_S,
        jobs=JOBS,
    )
    job = TuneJob(preset, pairs, on, settings).start()
    st.session_state[K.TUNE_JOB] = job
    return job


def _on_stop() -> None:
    job: TuneJob | None = st.session_state.get(K.TUNE_JOB)
    if job is not None:
        job.stop()


def collect() -> None:
    """Keep the result of a search whose thread has ended (or show why it failed)."""
    ss = st.session_state
    job: TuneJob | None = ss.get(K.TUNE_JOB)
    if job is None or job.running:
        return
    del ss[K.TUNE_JOB]
    if job.search is not None:
        ss[K.TUNE_RESULT] = job.search
        ss[K.TUNE_ROW] = 1
    else:
        views.alert("error", job.error or "Auto-tune ended without a result.")


@st.fragment(run_every=POLL_S)
def progress_view() -> None:
    """The running search's progress bar and best trial so far (reruns every :data:`POLL_S` s).

    Once the search has ended it asks for a run of the whole page, which keeps the result
    (:func:`collect`) and no longer draws this fragment, so the polling stops.
    """
    job: TuneJob | None = st.session_state.get(K.TUNE_JOB)
    if job is None:
        return
    progress = job.progress()
    if not progress.running:
        st.rerun(scope="app")
    info = progress.latest
    if info is None:
        st.progress(0.0, text=f"Trial 0 of {job.settings.trials}: reading with the current settings…")
    else:
        st.progress(min(info.done / max(info.total, 1), 1.0), text=progress_text(job.metric, info))
    best = progress.best
    if best is not None:
        what = best.summary if best.number else "the current preset"
        st.caption(f"Best so far: trial {best.number} ({views.md_escape(what)})")


def results(current: Preset) -> None:
    """The ranked table of the last search and the Apply picker (``current``: the settings shown)."""
    ss = st.session_state
    search: Search | None = ss.get(K.TUNE_RESULT)
    if search is None:
        return
    result = search.result
    rows = result.top(TOP_ROWS)
    st.markdown("**Best trials**")
    st.caption(views.md_escape(summary(search)))
    cer = result.metric == "cer"
    score_col = "Mean CER" if cer else "Mean confidence"
    st.dataframe(
        table_rows(result, rows),
        hide_index=True,
        width="stretch",
        column_config={
            score_col: st.column_config.NumberColumn(
                score_col,
                format="%.1f%%" if cer else "%.1f",
                help="Character error rate: 0% is perfect." if cer else "Mean word confidence, 0..100.",
            ),
            "vs. current": st.column_config.NumberColumn(
                "vs. current", format="%+.1f", help="Difference from the current preset (trial 0), in points."
            ),
            "Changes from the current preset": st.column_config.TextColumn(width="large"),
        },
    )
    if not cer:
        st.caption("Confidence is a proxy for accuracy, not accuracy: check an applied row's reading by eye.")
    options = list(range(1, len(rows) + 1))
    if ss.get(K.TUNE_ROW) not in options:
        ss[K.TUNE_ROW] = 1
    left, right = st.columns([3, 1], vertical_alignment="bottom")
    left.selectbox(
        "Trial to apply",
        options,
        key=K.TUNE_ROW,
        format_func=lambda r: (
            f"{r}. trial {rows[r - 1].number} — {format_score(result.metric, rows[r - 1].score, short=True)}"
        ),
    )
    stale = stale_reason(search, rows, current)
    if stale:
        st.warning(stale, icon=":material/history:")
    right.button(
        "Apply",
        key=K.TUNE_APPLY,
        icon=":material/check:",
        on_click=_on_apply,
        width="stretch",
        disabled=stale is not None,
    )
    chosen = rows[int(ss[K.TUNE_ROW]) - 1]
    st.caption(
        "Changes of this trial: "
        + views.md_escape(chosen.summary if chosen.number else "none, it is the current preset")
    )


def stale_reason(search: Search, rows: Sequence[TrialInfo], current: Preset) -> str | None:
    """Why these results no longer fit what is shown (another image, or ``current`` settings that
    are neither the search's start nor one of its rows), or ``None``."""
    ss = st.session_state
    searched = ss.get(K.TUNE_FOR)
    if searched is not None and searched != ss[K.IMAGE].digest:
        return (
            "These trials were computed for another image: applying one here could read nothing. "
            "Start again to tune for this image."
        )
    known = [search.result.space.base, *(r.preset for r in rows if r.preset is not None)]
    if not any(_same_settings(current, p) for p in known):
        return (
            "The settings changed since this search (not by applying one of its rows): its "
            "scores no longer describe them. Start again to tune from the current settings."
        )
    return None


def _same_settings(a: Preset, b: Preset) -> bool:
    """Equal stages and OCR options (names and descriptions aside)."""
    return a.stages == b.stages and a.ocr == b.ocr


def _on_apply() -> None:
    """Replace the current preset with the chosen row's (undoable, like loading a preset)."""
    ss = st.session_state
    search: Search | None = ss.get(K.TUNE_RESULT)
    rank = ss.get(K.TUNE_ROW)
    if search is None or not isinstance(rank, int):
        return
    rows = search.result.top(TOP_ROWS)
    if not 1 <= rank <= len(rows):
        return
    trial = rows[rank - 1]
    try:
        S.load_preset(ss, studio_preset(search, trial), keep_history=True)
    except ClarityError as exc:
        views.flash(f"Could not apply trial {trial.number}: {exc}")
        return
    ss[K.PRESET_PICK] = None
    ss[K.NOTICE] = (
        f"Applied rank {rank} of the auto-tune (trial {trial.number}, "
        f"{format_score(search.result.metric, trial.score, short=True)}). 'Undo last change' goes back."
    )
