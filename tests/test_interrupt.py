"""Stopping a run (issue 13, case 7): SIGTERM is handled like Ctrl-C, worker processes never
outlive the run, and a partial run folder left by a killed run is reported and removable."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

import pipeline.run
from pipeline.cli import app
from pipeline.embed import HashingEmbedder
from pipeline.enrich import load_nlp
from pipeline.preflight import check_out_dir, check_run
from pipeline.run import RunOptions, run_pipeline
from pipeline.utils.runfolder import (
    OWNER_FILE,
    Interrupted,
    create_partial,
    stale_partials,
    stop_on_signals,
)

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="signals and prctl: Linux")

# A parent with two forked pool workers busy for a minute; it prints the workers' pids.
POOL_SCRIPT = textwrap.dedent(
    """
    import multiprocessing, sys, time
    from concurrent.futures import ProcessPoolExecutor
    from pipeline.utils.runfolder import Interrupted, stop_on_signals

    def work(x):
        time.sleep(60)
        return x

    if __name__ == "__main__":
        try:
            with stop_on_signals():
                ctx = multiprocessing.get_context("fork")
                with ProcessPoolExecutor(2, mp_context=ctx) as pool:
                    futures = [pool.submit(work, i) for i in range(4)]
                    while len(multiprocessing.active_children()) < 2:
                        time.sleep(0.05)
                    pids = [p.pid for p in multiprocessing.active_children()]
                    print(" ".join(map(str, pids)), flush=True)
                    [f.result() for f in futures]
        except Interrupted as exc:
            print("interrupted", exc.signum, flush=True)
            sys.exit(128 + exc.signum)
    """
)


def _alive(pid: int) -> bool:
    """True for a running process (a zombie awaiting its reaper is dead)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in status


def _wait_dead(pids: list[int], timeout: float = 10.0) -> list[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(_alive(p) for p in pids):
        time.sleep(0.05)
    return [p for p in pids if _alive(p)]


def _start_pool(tmp_path: Path) -> tuple[subprocess.Popen[str], list[int]]:
    script = tmp_path / "pool.py"
    script.write_text(POOL_SCRIPT, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, str(script)], stdout=subprocess.PIPE, text=True, env=env
    )
    assert proc.stdout is not None
    workers = [int(p) for p in proc.stdout.readline().split()]
    assert len(workers) == 2
    return proc, workers


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGKILL])
def test_workers_die_with_the_run(tmp_path: Path, signum: int) -> None:
    proc, workers = _start_pool(tmp_path)
    try:
        proc.send_signal(signum)
        code = proc.wait(timeout=60)  # generous: CI machines can be busy
        assert _wait_dead(workers) == [], "workers outlived their parent"
        assert code == (128 + signum if signum == signal.SIGTERM else -signum)
    finally:
        for pid in workers:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
        proc.kill()


@pytest.fixture(scope="module")
def blank_nlp():
    return load_nlp("no-such-model-so-blank")


def _items(tmp_path: Path) -> Path:
    path = tmp_path / "items.csv"
    path.write_text(
        "body,committee,title\nITU-T,SG17,Security of quantum key distribution\n"
        "ISO/IEC,JTC1/SC27,Quantum key distribution security requirements\n",
        encoding="utf-8",
    )
    return path


def test_sigterm_during_export_removes_the_partial_folder(
    tmp_path: Path, blank_nlp, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[Path] = []

    def killed_while_writing(folder: Path, _result: object, **_kw: object) -> None:
        (folder / "overlaps.xlsx").write_bytes(b"half")
        seen.append(folder)
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)  # the handler raises before this ends

    monkeypatch.setattr(pipeline.run, "write_outputs", killed_while_writing)
    out = tmp_path / "runs"
    options = RunOptions(
        items_files=[_items(tmp_path)], out_dir=out, embedder=HashingEmbedder(), nlp=blank_nlp
    )
    with pytest.raises(Interrupted), stop_on_signals():
        run_pipeline(options)
    assert seen and not seen[0].exists()
    assert list(out.iterdir()) == []
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # handler restored


def test_cli_says_interrupted_and_exits_143(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def stopped(*_args: object, **_kw: object) -> None:
        raise Interrupted(signal.SIGTERM)

    monkeypatch.setattr(pipeline.run, "load_item_files", stopped)
    result = CliRunner().invoke(
        app, ["run", "--items", str(_items(tmp_path)), "--out", str(tmp_path / "runs")]
    )
    assert result.exit_code == 143
    assert "error: interrupted (SIGTERM)" in result.output


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_stale_partial_is_reported_and_clean_partial_removes_only_it(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    out = tmp_path / "runs"
    stale, _ = create_partial(out)
    owner = (stale / OWNER_FILE).read_text().split()
    (stale / OWNER_FILE).write_text(f"{_dead_pid()} {owner[1]}\n")
    (stale / "overlaps.xlsx").write_bytes(b"half")
    live, _ = create_partial(out)  # owned by this (running) process
    finished = out / "20260101T000000Z-abcd"
    finished.mkdir()

    assert stale_partials(out) == [stale]
    with caplog.at_level(logging.WARNING):
        check_run(snapshot=None, items_files=[_items(tmp_path)], out_dir=out)
    assert str(stale) in caplog.text
    assert f"sdo-overlap clean-partial --out {out}" in caplog.text

    result = CliRunner().invoke(app, ["clean-partial", "--out", str(out), "--dry-run"])
    assert result.exit_code == 0 and stale.exists()
    result = CliRunner().invoke(app, ["clean-partial", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert f"removed {stale}" in result.output
    assert not stale.exists() and live.exists() and finished.exists()
    check_out_dir(out)


SAMPLE = ROOT / "data" / "raw" / "sample"


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(FileNotFoundError, ProcessLookupError):
            found += [int(p) for p in (task / "children").read_text().split()]
    return found


@pytest.mark.skipif(not SAMPLE.is_dir(), reason="bundled sample snapshot missing")
def test_sigterm_during_enrich_stops_the_spacy_workers(tmp_path: Path) -> None:
    """The real command on the sample, stopped while spaCy runs in two worker processes."""
    config = tmp_path / "parallel.toml"
    config.write_text("[enrich]\nbatch_size = 8\nn_process = 2\n", encoding="utf-8")
    out = tmp_path / "runs"
    command = [sys.executable, "-m", "pipeline", "run", "--snapshot", str(SAMPLE)]
    command += ["--model", "hashing-512", "--config", str(config), "--out", str(out)]
    # An empty cache folder: with the project's own (models/), texts parsed by an earlier run
    # are read back and no worker ever starts.
    command += ["--cache-dir", str(tmp_path / "cache")]
    proc = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    workers: list[int] = []
    try:
        deadline = time.monotonic() + 120
        while len(workers) < 2 and proc.poll() is None and time.monotonic() < deadline:
            workers = _children(proc.pid)
            time.sleep(0.05)
        if len(workers) < 2:
            pytest.skip("enrich finished before its workers could be seen")
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 143, err
        assert "error: interrupted (SIGTERM)" in err
        assert _wait_dead(workers) == [], "spaCy workers outlived the run"
        assert not out.exists() or list(out.iterdir()) == []
    finally:
        for pid in workers:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
        proc.kill()
