"""Batch scaling: ``clarity run`` on one core vs two, ``--resume``, and a local Dask cluster.

    .venv/bin/python bench/batch_scaling.py [--work /tmp/clarity-batch] [--preset text-line]
                                            [--engine ENGINE] [--dask]

Builds 598 line images in nested folders under ``--work`` (never in the repository): the 97
corpus line images (gt4histcomment, kant-fraktur, forms-funsd, print-archiscribe) twice, in
``corpus-1/`` and ``corpus-2/`` (so the same file name sits in several folders), and 404
generated text lines (``scripts/make_samples.py --scenario text-line``) in four folders whose
files are all called ``0.png`` .. ``100.png``. Then, in the same run, times:

* ``clarity run --jobs 1`` and ``--jobs 2`` (fresh output folders), and their ratio;
* a second ``--jobs 2 --resume`` run into the second folder, as a fraction of the first;
* with ``--dask``: the same batch against ``dask scheduler`` + two ``dask worker`` processes
  (one thread each), and whether its texts equal the local ones.

Every run must write one text per input and a manifest of 598 records without errors.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = (ROOT / ".." / "shared" / "corpus").resolve()
LINE_FOLDERS = ("gt4histcomment-lines", "kant-fraktur-lines", "forms-funsd-lines", "print-archiscribe-lines")
GENERATED = 4
PER_GENERATED = 101


def clarity() -> list[str]:
    """The ``clarity`` command of this interpreter's environment (``python -m pipeline`` without it)."""
    script = Path(sys.executable).parent / "clarity"
    return [str(script)] if script.is_file() else [sys.executable, "-m", "pipeline"]


def build(work: Path, corpus: Path) -> Path:
    """The input tree (built once; reused when it already holds 598 images)."""
    inputs = work / "inputs"
    if inputs.is_dir() and sum(1 for _ in inputs.rglob("*.png")) == 598:
        return inputs
    shutil.rmtree(inputs, ignore_errors=True)
    for copy in ("corpus-1", "corpus-2"):
        for folder in LINE_FOLDERS:
            target = inputs / copy / folder
            target.mkdir(parents=True)
            for image in sorted((corpus / folder).glob("*.png")):
                if not image.name.endswith(".gt.png"):
                    shutil.copy(image, target / image.name)
    for index in range(GENERATED):
        target = inputs / "generated" / f"set-{index}" / "lines"
        subprocess.run(
            [sys.executable, str(ROOT / "scripts" / "make_samples.py"), "--scenario", "text-line",
             "--count", str(PER_GENERATED), "--seed", str(index + 1), "--out", str(target)],
            check=True, stdout=subprocess.DEVNULL,
        )  # fmt: skip
    count = sum(1 for _ in inputs.rglob("*.png"))
    if count != 598:
        raise SystemExit(f"{inputs}: built {count} images, expected 598 (is the corpus complete?)")
    return inputs


def child_cpu_s() -> float:
    """CPU seconds used so far by this script's finished child processes (user + system)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


CPU: dict[str, float] = {}
"""CPU seconds of each run, by its options."""


def timed_run(inputs: Path, out: Path, preset: str, *extra: str) -> float:
    """Seconds one ``clarity run`` takes (its CPU seconds go to :data:`CPU`); fails unless all were read."""
    cpu = child_cpu_s()
    start = time.perf_counter()
    done = subprocess.run(
        [*clarity(), "run", "--preset", preset, "--out", str(out), *extra, str(inputs)],
        capture_output=True, text=True,
    )  # fmt: skip
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"clarity run {' '.join(extra)} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    cpu = child_cpu_s() - cpu
    CPU[" ".join(extra)] = cpu
    summary = done.stdout.strip().splitlines()[-1]
    print(f"  {' '.join(extra):<28} {seconds:7.2f} s wall, {cpu:7.2f} s CPU   {summary}")
    return seconds


def texts(out: Path) -> dict[str, str]:
    """``{input: text}`` of a finished batch's manifest (its last record per input), checked complete."""
    records = {}
    for line in (out / "manifest.jsonl").read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        if record["error"]:
            raise SystemExit(f"{out}: {record['error']}")
        records[record["input"]] = record["text"]
    txt = sum(1 for _ in out.rglob("*.txt"))
    if len(records) != 598 or txt != 598:
        raise SystemExit(f"{out}: {len(records)} records and {txt} texts, expected 598 of each")
    return records


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def dask_run(inputs: Path, out: Path, preset: str, *extra: str) -> float:
    """Seconds of the batch on a local ``dask scheduler`` with two single-thread ``dask worker`` processes."""
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    scheduler = subprocess.Popen(
        [str(bin_dir / "dask"), "scheduler", "--host", "127.0.0.1", "--port", str(port),
         "--no-dashboard"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
    )  # fmt: skip
    worker = [str(bin_dir / "dask"), "worker", address, "--nthreads", "1", "--no-dashboard"]
    workers = [
        subprocess.Popen(worker, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        for _ in range(2)
    ]
    try:
        _wait_for_workers(address, 2)
        return timed_run(inputs, out, preset, *extra, "--scheduler", address)
    finally:
        for process in [*workers, scheduler]:
            process.terminate()
        for process in [*workers, scheduler]:
            process.wait(timeout=30)


def _wait_for_workers(address: str, count: int, timeout_s: float = 60.0) -> None:
    from distributed import Client

    with Client(address, timeout=timeout_s) as client:
        client.wait_for_workers(count, timeout=timeout_s)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--work", type=Path, default=Path("/tmp/clarity-batch"), help="scratch folder")
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--preset", default="text-line", help="preset file or shipped name")
    parser.add_argument("--engine", help="OCR engine instead of the preset's (clarity run --engine)")
    parser.add_argument("--dask", action="store_true", help="also run on a local Dask cluster")
    args = parser.parse_args()
    engine = ("--engine", args.engine) if args.engine else ()
    inputs = build(args.work, args.corpus)
    for name in ("jobs1", "jobs2", "dask"):
        shutil.rmtree(args.work / name, ignore_errors=True)
    print(f"598 line images under {inputs}; preset {args.preset} {' '.join(engine)}; {os.cpu_count()} cores")
    one = timed_run(inputs, args.work / "jobs1", args.preset, *engine, "--jobs", "1")
    two = timed_run(inputs, args.work / "jobs2", args.preset, *engine, "--jobs", "2")
    again = timed_run(inputs, args.work / "jobs2", args.preset, *engine, "--jobs", "2", "--resume")
    local = texts(args.work / "jobs2")
    if texts(args.work / "jobs1") != local:
        raise SystemExit("--jobs 1 and --jobs 2 read different texts")
    print(f"jobs 2 vs jobs 1: {one / two:.2f}x faster ({598 / one:.1f} vs {598 / two:.1f} images/s)")
    print(f"resume: {again / two:.3f} of the first run ({again:.2f} s vs {two:.2f} s)")
    cpu_one, cpu_two, cpu_resume = CPU.values()
    per_input = (cpu_one - cpu_resume) / 598  # the resume run's CPU is the fixed cost of a run
    print(f"CPU: jobs 1 {cpu_one:.1f} s, jobs 2 {cpu_two:.1f} s; {per_input * 1000:.1f} ms per input")
    print(f"throughput per free core: {1 / per_input:.1f} line images/s")
    idle = cpu_one / (cpu_resume + (cpu_two - cpu_resume) / 2)
    print(f"jobs 2 vs jobs 1 on an idle machine, from the CPU times: about {idle:.2f}x")
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"load average at the end: {load} (on {os.cpu_count()} cores)")
    if args.dask:
        seconds = dask_run(inputs, args.work / "dask", args.preset, *engine)
        same = texts(args.work / "dask") == local
        rate = 598 / seconds
        print(f"dask (scheduler + 2 workers): {seconds:.2f} s, {rate:.1f} images/s, same texts: {same}")
        if not same:
            raise SystemExit("the Dask run read different texts")


if __name__ == "__main__":
    main()
