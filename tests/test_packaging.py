"""A plain (non-editable) install works: the wheel carries the codebooks and the migrations."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out),
                    str(ROOT)], check=True, capture_output=True, timeout=600)
    [built] = out.glob("qualkit-*.whl")
    return built


def test_wheel_carries_package_data(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "qualkit/codebooks/burnout.yaml" in names
    assert "qualkit/store/migrations/env.py" in names
    assert "qualkit/store/migrations/versions/0001_initial_schema.py" in names
    assert {"qualkit/app/components/text_select.js", "qualkit/app/components/text_select.css"} <= names
    assert not any(n.startswith(("tests/", "corpora/", "bench/")) for n in names)


def test_installed_wheel_creates_a_project_outside_the_checkout(wheel, tmp_path):
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)],
                   check=True, capture_output=True, timeout=600)
    probe = ("import qualkit, pathlib; assert 'site' in qualkit.__file__, qualkit.__file__; "
             "p = qualkit.Project.create('x.qualkit.db', codebook='burnout'); "
             "print(len(p.codebook.codable_codes))")
    env = dict(os.environ, PYTHONPATH=str(target))
    result = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, env=env, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "24"
