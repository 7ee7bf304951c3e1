"""Streamlit-side helpers of the Clarity tuning studio (``app.py``).

The modules are named for what they hold:

``overlays``
    Pure NumPy/OpenCV image helpers: preview downscaling and encoding, the red overlay of
    pixels a stage removed, word boxes coloured by confidence.
``widgets``
    A stage's pydantic params model mapped to widget descriptions, and their rendering.
``state``
    The session state: the current preset as a list of stage dicts with stable ids, widget
    keys, loading presets, undo.
``sources``
    Where images and presets come from: samples, the presets folder, uploads, saving.
``ocr``
    Cached OCR calls and the text diff rendering.
``views``
    The page's sections: stage list, stage grid, compare view, OCR panel, save and share.
``autotune``
    The Auto-tune panel: :func:`pipeline.tuning.tune` on the current or uploaded images, the
    ranked trials, applying one.
``tune_job``
    The Auto-tune search in a worker thread that never calls Streamlit (polled by the panel).

Only ``views``, ``autotune`` (and ``widgets.render_field``) call Streamlit; the rest is
unit-testable.
"""
