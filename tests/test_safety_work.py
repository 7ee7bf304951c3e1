"""Bounded work: stage output pixels, the images one run keeps, each page or frame's pixels,
forged JPEGs, and worker processes that a time or memory limit really stops."""

from __future__ import annotations

import io
import operator
import os
import threading
import time

import numpy as np
import pytest
from PIL import Image

from pipeline import imageio
from pipeline.errors import ImageError, StageError
from pipeline.preset import preset_from_data
from pipeline.runner import run
from pipeline.workers import WorkerError, WorkerMemoryError, WorkerPool, WorkerTimeout, rss_mb


def preset(*stages: dict) -> object:
    return preset_from_data({"schema_version": 1, "stages": list(stages)}, "test")


EIGHT_X = {"stage": "rescale", "params": {"mode": "factor", "factor": 8, "max_pixels": 500}}


def test_two_8x_rescales_are_refused_before_allocating() -> None:
    image = np.full((191, 384, 3), 200, np.uint8)  # the size of the bundled document sample
    with pytest.raises(StageError) as info:
        run(image, preset(EIGHT_X, EIGHT_X), cache=None)
    message = str(info.value)
    assert message.startswith("stage 2 (rescale): the rescaled image would be 24576 x 12224")
    assert "300,417,024 pixels, more than the limit of 50,000,000 (set CLARITY_MAX_STAGE_PIXELS" in message
    assert "\n" not in message


def test_every_stage_output_is_capped_centrally(monkeypatch: pytest.MonkeyPatch) -> None:
    """A stage that does not check the cap itself (pad checks, invert never does) is stopped by the runner."""
    monkeypatch.setenv("CLARITY_MAX_STAGE_PIXELS", "5000")
    image = np.full((50, 100), 200, np.uint8)  # 5000 pixels: allowed
    assert run(image, preset({"stage": "invert"}), cache=None).final.shape == (50, 100)
    with pytest.raises(StageError, match=r"stage 1 \(pad\): the padded image would be 102 x 52"):
        run(image, preset({"stage": "pad", "params": {"size": 1}}), cache=None)
    monkeypatch.setenv("CLARITY_MAX_STAGE_PIXELS", "4999")
    with pytest.raises(StageError, match=r"stage 1 \(invert\)'s output would be 100 x 50: 5,000 pixels"):
        run(image, preset({"stage": "invert"}), cache=None)


def test_the_images_one_run_keeps_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLARITY_MAX_RUN_MB", "1")
    image = np.full((400, 1000), 200, np.uint8)  # 0.38 MB per image
    assert len(run(image, preset({"stage": "invert"}), cache=None).steps) == 1
    with pytest.raises(StageError, match=r"stage 2 \(invert\): the outputs.*CLARITY_MAX_RUN_MB"):
        run(image, preset({"stage": "invert"}, {"stage": "invert"}, {"stage": "invert"}), cache=None)


# ------------------------------------------------------------------------------------ images


def _multi_page(fmt: str) -> bytes:
    """Two pages: 100 x 100, then 400 x 300.

    A GIF's later frame can be larger than the screen its header declares (Pillow then grows
    the canvas): both frames are written 400 x 300 and the header and first frame edited down.
    """
    size = (100, 100) if fmt == "TIFF" else (400, 300)
    frames = [Image.new("L", size, 200), Image.new("L", (400, 300), 100)]
    if fmt == "GIF":
        frames = [f.convert("P") for f in frames]
    buf = io.BytesIO()
    frames[0].save(buf, fmt, save_all=True, append_images=frames[1:])
    data = bytearray(buf.getvalue())
    if fmt == "GIF":
        small = (100).to_bytes(2, "little") * 2
        data[6:10] = small  # logical screen
        first = data.index(b"\x2c\x00\x00\x00\x00\x90\x01\x2c\x01")  # first image descriptor
        data[first + 5 : first + 9] = small
    return bytes(data)


@pytest.mark.parametrize("fmt", ["TIFF", "GIF"])
def test_each_page_or_frame_is_checked(fmt: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(imageio, "MAX_PIXELS", 50_000)
    data = _multi_page(fmt)
    assert imageio.read_image(data, page=0, name="two.x").shape[:2] == (100, 100)
    with pytest.raises(ImageError) as info:
        imageio.read_image(data, page=1, name="two.x")
    message = str(info.value)
    assert message.startswith("two.x: page 2 is too large") and "CLARITY_MAX_PIXELS" in message
    assert "\n" not in message
    if fmt == "TIFF":  # (Pillow refuses the GIF frame while seeking, before its size is known here)
        assert "(400 x 300 = 120,000 pixels)" in message


def _forged_jpeg(width: int, height: int) -> bytes:
    """A small real JPEG whose header is edited to claim ``width`` x ``height`` pixels."""
    buf = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (16, 16), np.uint8)).save(buf, "JPEG")
    data = bytearray(buf.getvalue())
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = height.to_bytes(2, "big") + width.to_bytes(2, "big")
    return bytes(data)


def test_a_jpeg_too_small_for_its_pixels_is_refused_before_decoding() -> None:
    data = _forged_jpeg(7000, 7000)
    assert len(data) < 1000
    start = time.perf_counter()
    with pytest.raises(ImageError, match=r"forged.jpg: the image data is damaged.*7000 x 7000"):
        imageio.read_image(data, name="forged.jpg")
    assert time.perf_counter() - start < 0.5  # refused from the header, nothing was decoded


def test_real_flat_jpegs_are_still_accepted() -> None:
    """The most compressible real JPEG (a flat page, optimised Huffman tables) is far above the bound."""
    buf = io.BytesIO()
    Image.new("L", (3000, 2000), 255).save(buf, "JPEG", optimize=True, quality=5)
    assert imageio.read_image(buf.getvalue()).shape == (2000, 3000)


# ----------------------------------------------------------------------------------- workers


def hold_memory(mb: int, seconds: float) -> int:
    """Allocate and touch ``mb`` MB, keep it ``seconds`` seconds (runs in a worker)."""
    block = np.ones(mb * 2**20, np.uint8)
    time.sleep(seconds)
    return int(block[-1])


@pytest.fixture(scope="module")
def pool():
    workers = WorkerPool(2, max_rss_mb=300)  # hold_memory(600) passes it
    workers.warm()
    yield workers
    workers.close()


def test_a_timeout_kills_the_worker_and_a_fresh_one_takes_over(pool: WorkerPool) -> None:
    assert pool.call(operator.add, 2, 3, timeout_s=30) == 5
    before, killed = set(pool.pids()), pool.killed
    start = time.monotonic()
    with pytest.raises(WorkerTimeout, match="longer than 1 s and was stopped"):
        pool.call(time.sleep, 30, timeout_s=1)
    assert time.monotonic() - start < 5
    assert pool.killed == killed + 1
    gone = before - set(pool.pids())
    assert len(gone) <= 1
    assert pool.call(operator.mul, 6, 7, timeout_s=30) == 42
    for pid in gone:
        assert rss_mb(pid) == 0  # the killed worker is really gone


def test_a_worker_over_its_memory_is_stopped(pool: WorkerPool) -> None:
    with pytest.raises(WorkerError, match="more than 300 MB"):
        pool.call(hold_memory, 600, 20, timeout_s=60)
    assert pool.call(hold_memory, 10, 0, timeout_s=30) == 1


def abandon_a_thread(seconds: float) -> str:
    """Start a thread that outlives the call (as a Tesseract call abandoned by its watchdog would)."""
    threading.Thread(target=time.sleep, args=(seconds,), name="abandoned", daemon=True).start()
    return "done"


def test_a_worker_left_with_running_work_is_replaced(pool: WorkerPool) -> None:
    killed = pool.killed
    assert pool.call(abandon_a_thread, 30, timeout_s=30) == "done"
    assert pool.killed == killed + 1
    assert pool.call(abandon_a_thread, 0, timeout_s=30) == "done"  # a thread that ends in time
    assert pool.killed == killed + 1
    assert 0 < pool.last_run_s() < 10


def test_the_total_memory_of_server_and_workers_is_bounded() -> None:
    small = WorkerPool(1)
    try:
        small.call(operator.add, 1, 1, timeout_s=60)
        small.max_total_mb = small.total_mb() + 150
        small._total_advice = "CLARITY_MEMORY_BUDGET_MB"
        with pytest.raises(WorkerError, match=r"server's memory passed \d+ MB.*CLARITY_MEMORY_BUDGET_MB"):
            small.call(hold_memory, 400, 20, timeout_s=60)
        assert small.killed == 1
        assert small.call(operator.add, 2, 2, timeout_s=60) == 4
    finally:
        small.close()


def keep_memory(mb: int) -> int:
    """Allocate ``mb`` MB and keep it in the worker after the call (as loaded models stay)."""
    _KEPT.append(np.ones(mb * 2**20, np.uint8))
    return len(_KEPT)


_KEPT: list[np.ndarray] = []


def test_idle_workers_holding_memory_are_replaced_first() -> None:
    two = WorkerPool(2)
    try:
        both = [
            threading.Thread(target=two.call, args=(keep_memory, 300), kwargs={"timeout_s": 60}) for _ in "ab"
        ]
        for t in both:
            t.start()
        for t in both:
            t.join()
        assert two.killed == 0
        two.max_total_mb = two.total_mb() - 100  # over the budget now: idle workers go, calls go on
        assert two.call(operator.add, 2, 2, timeout_s=60) == 4
        assert two.killed >= 1
    finally:
        two.close()


def test_preparing_is_not_counted_in_the_time_limit(pool: WorkerPool) -> None:
    """``prepare`` (an engine loading its models) has its own limit; the call's starts after it."""
    assert pool.call(operator.add, 1, 2, timeout_s=1, prepare=(time.sleep, (1.5,))) == 3
    with pytest.raises(WorkerTimeout, match=r"getting ready took longer than 0\.5 s"):
        pool.call(operator.add, 1, 2, timeout_s=10, prepare=(time.sleep, (5,)), prepare_timeout_s=0.5)


def test_a_failed_preparation_leaves_the_worker_ready_for_the_next_call() -> None:
    workers = WorkerPool(1)
    try:
        first = workers.call(os.getpid, timeout_s=30)
        with pytest.raises(WorkerError, match="ZeroDivisionError"):
            workers.call(operator.add, 1, 2, timeout_s=30, prepare=(operator.truediv, (1, 0)))
        assert workers.call(operator.add, 2, 3, timeout_s=30) == 5  # its own reply, not a leftover
        assert workers.call(os.getpid, timeout_s=30) == first and workers.killed == 0
    finally:
        workers.close()


def test_errors_come_back_as_they_were_raised(pool: WorkerPool) -> None:
    with pytest.raises(ImageError, match="not an image"):
        pool.call(imageio.read_image, b"not an image at all", timeout_s=30)
    with pytest.raises(WorkerError, match="ZeroDivisionError"):
        pool.call(operator.truediv, 1, 0, timeout_s=30)


def test_big_calls_leave_a_worker_for_small_ones(pool: WorkerPool) -> None:
    both = [
        threading.Thread(target=pool.call, args=(time.sleep, 0.5), kwargs={"timeout_s": 60}) for _ in "ab"
    ]
    for t in both:  # both workers up (and started, whatever the tests before did)
        t.start()
    for t in both:
        t.join()
    bigs = [threading.Thread(target=pool.call, args=(time.sleep, 3), kwargs={"timeout_s": 30, "big": True})]
    bigs.append(
        threading.Thread(target=pool.call, args=(time.sleep, 3), kwargs={"timeout_s": 30, "big": True})
    )
    for t in bigs:
        t.start()
    time.sleep(0.5)
    start = time.monotonic()
    assert pool.call(operator.add, 1, 1, timeout_s=30) == 2
    assert time.monotonic() - start < 2.5  # not behind the second big call (3 s)
    for t in bigs:
        t.join()


def test_small_calls_keep_to_a_worker_at_normal_priority() -> None:
    # Without privileges a worker lowered to nice 10 cannot go back to 0 (as root it can, so the
    # choice of worker is checked by its pid, whoever runs the tests).
    workers = WorkerPool(2)
    try:
        workers.warm()
        lowered = workers.call(os.getpid, timeout_s=30, big=True)
        assert workers.call(os.getpriority, os.PRIO_PROCESS, 0, timeout_s=30, big=True) == 10
        # Each small call finds the idle worker that never ran a big call...
        small = {workers.call(os.getpid, timeout_s=30) for _ in range(4)}
        assert lowered not in small and len(small) == 1
        assert workers.call(os.getpriority, os.PRIO_PROCESS, 0, timeout_s=30) == 0
        # ...and a later big call goes back to the lowered worker.
        assert workers.call(os.getpid, timeout_s=30, big=True) == lowered
    finally:
        workers.close()


def test_big_calls_take_at_most_half_the_workers() -> None:
    workers = WorkerPool(3)
    try:
        workers.warm()
        bigs = [
            threading.Thread(
                target=workers.call, args=(time.sleep, 1.5), kwargs={"timeout_s": 30, "big": True}
            )
            for _ in range(2)
        ]
        for t in bigs:
            t.start()
        time.sleep(0.5)
        running = [w for w in workers._workers if w.busy]
        assert len(running) == 1 and running[0].big  # the second big call waits...
        smalls = [
            threading.Thread(target=workers.call, args=(time.sleep, 0.5), kwargs={"timeout_s": 30})
            for _ in "ab"
        ]
        for t in smalls:
            t.start()
        time.sleep(0.2)
        assert sum(w.busy and not w.big for w in workers._workers) == 2  # ...two small ones run at once
        for t in bigs + smalls:
            t.join()
    finally:
        workers.close()


def test_a_worker_that_kept_most_of_its_memory_is_replaced_after_its_call() -> None:
    workers = WorkerPool(1, max_rss_mb=400)
    try:
        first = workers.call(os.getpid, timeout_s=30)
        assert workers.call(keep_memory, 10, timeout_s=30) == 1
        assert workers.call(os.getpid, timeout_s=30) == first  # kept 10 MB: it stays
        assert workers.call(keep_memory, 250, timeout_s=30) == 2  # ~350 MB: its result comes back...
        assert workers.call(os.getpid, timeout_s=30) != first  # ...and a fresh worker takes over
    finally:
        workers.close()


def churn_heap(mb: int) -> int:
    """Allocate and free ``mb`` MB in 8 MB blocks after one 30 MB block, as a stage run on a big
    image does: glibc then serves the blocks from its heap and, with small blocks still in use
    between them, keeps them when they are freed."""
    big = np.ones(30 * 2**20, np.uint8)
    del big  # freeing it raises glibc's threshold for giving blocks a mapping of their own
    blocks = []
    for _ in range(mb // 8):
        blocks.append(np.ones(8 * 2**20, np.uint8))
        _KEPT.append(np.ones(2**16, np.uint8))  # small blocks kept between them: the heap cannot shrink
    del blocks
    return os.getpid()


def test_memory_a_call_freed_is_given_back_and_the_worker_stays() -> None:
    workers = WorkerPool(1, max_rss_mb=400)
    try:
        first = workers.call(os.getpid, timeout_s=30)
        # ~350 MB at its peak (a worker starts near 95 MB): above the recycle share, under the limit
        assert workers.call(churn_heap, 256, timeout_s=30) == first
        assert rss_mb(first) < 200  # given back after the call
        assert workers.call(os.getpid, timeout_s=30) == first  # so the worker is not replaced
    finally:
        workers.close()


def big_result(mb: int) -> np.ndarray:
    return np.ones(mb * 2**20, np.uint8)


def test_a_big_result_is_sent_without_copies_that_pass_the_limit() -> None:
    """A 150 MB result in a worker allowed 300 MB: pickled the usual way, its copies passed it."""
    workers = WorkerPool(1, max_rss_mb=300)
    try:
        for _ in range(3):
            result = workers.call(big_result, 150, timeout_s=30)
            assert result.nbytes == 150 * 2**20 and result.flags.writeable and result[-1] == 1
        assert workers.killed == 0
    finally:
        workers.close()


def test_a_calls_result_does_not_count_against_the_next_call() -> None:
    workers = WorkerPool(1, max_rss_mb=400)
    try:
        first = workers.call(os.getpid, timeout_s=30)
        assert workers.call(big_result, 120, timeout_s=30).nbytes == 120 * 2**20
        assert workers.call(hold_memory, 250, 0.5, timeout_s=60) == 1  # fits only without the result
        assert workers.killed == 0 and workers.call(os.getpid, timeout_s=30) == first
    finally:
        workers.close()


def test_a_call_stopped_by_what_earlier_calls_left_runs_again_on_a_fresh_worker() -> None:
    workers = WorkerPool(1, max_rss_mb=400)
    try:
        assert workers.call(keep_memory, 120, timeout_s=30) == 1  # leftovers, below the recycle share
        # 250 MB more passes 400 MB on that worker, not on a fresh one: the call is run again there.
        assert workers.call(hold_memory, 250, 0.5, timeout_s=60) == 1
        assert workers.killed == 1
        with pytest.raises(WorkerMemoryError, match="more than 400 MB"):  # too much on any worker
            workers.call(hold_memory, 600, 0.5, timeout_s=60)
    finally:
        workers.close()
