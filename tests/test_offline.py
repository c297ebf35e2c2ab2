"""qualkit runs offline: importing it and building + auto-coding the demo study opens no network socket.

The check runs in a fresh interpreter with a ``sys.addaudithook`` hook, which sees every socket
connect, bind and name lookup made through Python, including those made by libraries.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

PROBE = r"""
import json, sys
seen, probes = [], []
def is_urllib3_ipv6_probe(event, args):
    # urllib3 (imported by spaCy through requests) binds ("::1", 0) once at import to learn whether the
    # machine has IPv6, then closes the socket: nothing is sent, received or resolved.
    if event != "socket.bind" or args[1] != ("::1", 0):
        return False
    frame = sys._getframe(2)
    return frame.f_code.co_name == "_has_ipv6" and "urllib3" in frame.f_code.co_filename
def hook(event, args):
    if event in ("socket.connect", "socket.bind", "socket.getaddrinfo", "socket.gethostbyname",
                 "socket.gethostbyaddr", "socket.sendto", "socket.sendmsg", "urllib.Request",
                 "http.client.connect"):
        (probes if is_urllib3_ipv6_probe(event, args) else seen).append([event, repr(args)[:200]])
sys.addaudithook(hook)

import qualkit
from qualkit.embeddings import MiniLMEmbedder, minilm_available
from qualkit.demo import build_demo

used_minilm = False
if minilm_available():
    MiniLMEmbedder().encode(["I feel like a cog in a machine."])
    used_minilm = True
summary = build_demo(sys.argv[1], autocode=True, echo=lambda *_: None)
print(json.dumps({"events": seen, "probes": probes, "summary": summary, "minilm": used_minilm}))
"""


@pytest.mark.slow
def test_demo_pipeline_opens_no_socket(tmp_path, demo_corpus):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "TRANSFORMERS_"))}
    result = subprocess.run([sys.executable, "-c", PROBE, str(tmp_path / "demo.qualkit.db")], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["events"] == []
    assert len(report["probes"]) <= 1, report["probes"]  # the one import-time IPv6 check, at most
    assert "suggestions" in report["summary"]
    if os.environ.get("QUALKIT_REQUIRE_EMBEDDINGS") == "1":
        assert report["minilm"], "the MiniLM path must be exercised in CI"


def test_importing_qualkit_loads_no_heavy_modules():
    probe = ("import sys, qualkit; heavy = [m for m in ('torch', 'sentence_transformers', 'bertopic', 'streamlit', "
             "'spacy') if m in sys.modules]; print(','.join(heavy))")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""


def test_the_app_config_keeps_the_server_quiet_and_steady():
    """No usage statistics, no public-IP lookup, and no module reloads under people's feet after an upgrade."""
    import tomllib

    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["browser"]["gatherUsageStats"] is False and config["browser"]["serverAddress"]
    assert config["server"]["fileWatcherType"] == "none" and config["server"]["runOnSave"] is False
