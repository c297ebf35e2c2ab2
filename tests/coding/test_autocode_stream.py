"""``qualkit autocode`` at volume: streamed in chunks, written as it goes, resumed after an interruption with every
row coded exactly once, and nothing written when the input has a bad row."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter

from typer.testing import CliRunner

from qualkit.cli import app

runner = CliRunner()
PHRASES = ["the paperwork never ends", "I chart every night", "so exhausted after the shift", "the team was kind",
           "nobody listened to me", "we had a lovely barbecue", "my manager supported me", "too many patients"]


def _rows(n: int) -> list[dict]:
    return [{"id": f"r{i:05d}", "text": f"{PHRASES[i % len(PHRASES)].capitalize()}, and {PHRASES[(i * 3 + 1) % 8]}."}
            for i in range(n)]


def _jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def _autocode(src, out, *extra):
    return runner.invoke(app, ["autocode", "--codebook", "burnout", "--input", str(src), "--output", str(out),
                               "--embedder", "lsa", "--no-progress", "--chunk-size", "7", "--fit-rows", "20", *extra])


def _ids(path) -> list[str]:
    return [json.loads(line)["id"] for line in path.read_text(encoding="utf-8").splitlines()]


def test_interrupted_run_resumes_with_every_row_coded_once(tmp_path, monkeypatch):
    from qualkit.coding.ensemble import AutoCoder

    rows = _rows(60)
    src = _jsonl(tmp_path / "in.jsonl", rows)
    whole = tmp_path / "whole.jsonl"
    assert _autocode(src, whole).exit_code == 0
    calls = Counter()
    real = AutoCoder.predict_scores

    def interrupted(self, items, *args, **kwargs):
        calls["chunks"] += 1
        if calls["chunks"] == 4:
            raise KeyboardInterrupt
        return real(self, items, *args, **kwargs)

    out = tmp_path / "out.jsonl"
    monkeypatch.setattr(AutoCoder, "predict_scores", interrupted)
    assert _autocode(src, out).exit_code != 0
    partial = tmp_path / "out.jsonl.partial"
    assert not out.exists() and len(_ids(partial)) == 21  # three chunks of 7 were written before the stop
    monkeypatch.setattr(AutoCoder, "predict_scores", real)
    with open(partial, "a", encoding="utf-8") as handle:
        handle.write('{"id": "r00021", "codes": [')  # killed in the middle of a line
    refused = _autocode(src, out)
    assert refused.exit_code != 0 and "--resume" in str(refused.exception)
    resumed = _autocode(src, out, "--resume")
    assert resumed.exit_code == 0, resumed.output
    ids = _ids(out)
    assert ids == [r["id"] for r in rows] and len(set(ids)) == 60
    assert out.read_text(encoding="utf-8") == whole.read_text(encoding="utf-8")  # same as one uninterrupted run
    assert not partial.exists() and not (tmp_path / "out.jsonl.partial.json").exists()


def test_resume_refuses_other_settings_and_a_missing_run(tmp_path, monkeypatch):
    src = _jsonl(tmp_path / "in.jsonl", _rows(30))
    out = tmp_path / "out.jsonl"
    missing = _autocode(src, out, "--resume")
    assert missing.exit_code != 0 and "no interrupted run" in str(missing.exception)
    (tmp_path / "out.jsonl.partial").write_text("", encoding="utf-8")
    (tmp_path / "out.jsonl.partial.json").write_text(json.dumps({"codebook": "burnout", "top_k": 3}), encoding="utf-8")
    other = _autocode(src, out, "--resume")
    assert other.exit_code != 0 and "other settings" in str(other.exception)
    # A run interrupted with two tuning runs does not resume as one (a setting the current call leaves out).
    from qualkit.codebook import load_codebook

    saved = {"codebook": "burnout", "codebook_version": load_codebook("burnout").version, "input": str(src.resolve()),
             "rows": 30, "train": None, "top_k": None, "threshold": None, "embedder": "lsa", "fine_tune": None,
             "code_moderators": False, "fit_rows": 20}
    (tmp_path / "out.jsonl.partial.json").write_text(json.dumps(saved | {"tuning_runs": 2}), encoding="utf-8")
    two = _autocode(src, out, "--resume")
    assert two.exit_code != 0 and "(tuning_runs)" in str(two.exception)
    (tmp_path / "out.jsonl.partial.json").write_text(json.dumps(saved), encoding="utf-8")
    assert _autocode(src, out, "--resume").exit_code == 0  # the same settings resume (one run needs no key)


def test_a_bad_row_anywhere_writes_nothing(tmp_path):
    src = tmp_path / "in.jsonl"
    _jsonl(src, _rows(40))
    with open(src, "a", encoding="utf-8") as handle:
        handle.write('{"id": "r00001", "text": "a duplicate at the very end"}\n')
    result = _autocode(src, tmp_path / "out.jsonl")
    assert result.exit_code != 0 and "duplicate id 'r00001'" in str(result.exception)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl"]


def test_csv_input_is_streamed_too(tmp_path):
    src = tmp_path / "in.csv"
    src.write_text("id,text\n" + "".join(f'{r["id"]},"{r["text"]}"\n' for r in _rows(25)), encoding="utf-8")
    out = tmp_path / "out.jsonl"
    assert _autocode(src, out).exit_code == 0
    assert _ids(out) == [r["id"] for r in _rows(25)]


def test_killed_process_resumes_exactly_once(tmp_path):
    rows = _rows(1500)
    src = _jsonl(tmp_path / "in.jsonl", rows)
    out = tmp_path / "out.jsonl"
    partial = tmp_path / "out.jsonl.partial"
    command = [sys.executable, "-m", "qualkit.cli", "autocode", "--codebook", "burnout", "--input", str(src),
               "--output", str(out), "--embedder", "lsa", "--no-progress", "--chunk-size", "1", "--fit-rows", "50"]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 240
    while time.time() < deadline and process.poll() is None:
        if partial.exists() and partial.stat().st_size > 20_000:
            break
        time.sleep(0.05)
    assert process.poll() is None, "the run finished (or failed) before it could be killed"
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    written = len(partial.read_text(encoding="utf-8").splitlines())
    assert 0 < written < len(rows) and not out.exists()
    done = subprocess.run([*command, "--resume"], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    ids = _ids(out)
    assert ids == [r["id"] for r in rows]
    assert "before resuming" in done.stderr


def test_two_workers_write_the_same_output_in_order(tmp_path):
    src = _jsonl(tmp_path / "in.jsonl", _rows(50))
    one, two = tmp_path / "one.jsonl", tmp_path / "two.jsonl"
    assert _autocode(src, one).exit_code == 0
    assert _autocode(src, two, "--workers", "2").exit_code == 0
    assert two.read_text(encoding="utf-8") == one.read_text(encoding="utf-8")
