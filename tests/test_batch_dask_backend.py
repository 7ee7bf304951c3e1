"""The Dask path: the same batch on a real (in-process) Dask cluster gives the same records."""

from __future__ import annotations

from pathlib import Path

import dask
import pytest
from distributed import Client, LocalCluster

from pipeline.batch import Batch, Job, run_batch
from pipeline.batch.dask_backend import ClusterError, DaskBackend
from pipeline.batch.manifest import preset_digest
from pipeline.preset import parse_preset

from .batch_support import PRESET, make_tree, records


@pytest.fixture(scope="module")
def client():
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None)
    with Client(cluster) as client:
        yield client
    cluster.close()


def job(out: Path) -> Job:
    preset = parse_preset(PRESET)
    return Job(preset, preset_digest(preset), out)


def test_a_batch_on_dask_reads_the_same_texts_and_collects_errors(tmp_path: Path, client, capsys) -> None:
    expected = make_tree(tmp_path / "in")
    broken = tmp_path / "in" / "set0" / "b" / "broken.png"
    broken.write_bytes(b"not an image")
    summary = run_batch(Batch(job(tmp_path / "dask"), [tmp_path / "in"], scheduler=client, chunk_size=3))
    assert (summary.done, summary.failed) == (len(expected), 1)
    assert capsys.readouterr().err.strip().startswith(f"{broken}: ")
    local = run_batch(Batch(job(tmp_path / "local"), [tmp_path / "in"], jobs=1))
    assert local.done == len(expected)

    def texts(out: Path) -> dict[str, str | None]:
        return {r["input"]: r["text"] if r["error"] is None else r["error"] for r in records(out)}

    assert texts(tmp_path / "dask") == texts(tmp_path / "local")
    for rel, words in expected.items():
        assert (tmp_path / "dask" / rel.replace(".png", ".txt")).read_text().strip() == words


def test_resume_works_the_same_on_dask(tmp_path: Path, client) -> None:
    make_tree(tmp_path / "in")
    first = run_batch(Batch(job(tmp_path / "out"), [tmp_path / "in"], scheduler=client))
    again = run_batch(Batch(job(tmp_path / "out"), [tmp_path / "in"], scheduler=client, resume=True))
    assert (first.done, again.done, again.skipped) == (8, 0, 8)


def test_an_unreachable_scheduler_is_a_usage_error() -> None:
    backend = DaskBackend("tcp://127.0.0.1:9", timeout_s=1.0)
    with pytest.raises(ClusterError, match=r"cannot reach the Dask scheduler at tcp://127\.0\.0\.1:9"):
        backend.__enter__()


def test_an_unreachable_scheduler_leaves_the_previous_manifest_alone(tmp_path: Path, capsys) -> None:
    from pipeline.cli import main

    make_tree(tmp_path / "in")
    (tmp_path / "p.yaml").write_text(PRESET)
    out = tmp_path / "out"
    out.mkdir()
    (out / "manifest.jsonl").write_text('{"input": "earlier"}\n')
    args = [
        "run",
        "--preset",
        str(tmp_path / "p.yaml"),
        "--out",
        str(out),
        "--scheduler",
        "tcp://127.0.0.1:9",
    ]
    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}):
        assert main([*args, str(tmp_path / "in")]) == 2
    assert "cannot reach the Dask scheduler" in capsys.readouterr().err
    assert (out / "manifest.jsonl").read_text() == '{"input": "earlier"}\n'
