"""Issue 16 findings 1 and 2 in the app (AppTest): every page as a viewer (vic) and as a blind coder (ana, coding
group1.txt blind beside ben), on SQLite and PostgreSQL, against a table of what each may be offered.

For vic, no page offers a control that writes (the table lists those controls by key prefix, per page);
for ana, no page shows ben's memo or names ben's decisions on the blind transcript, and whole-project
results (analyses, exports) wait. The same rule as ``Project`` and the CLI (``qualkit.access``).
"""

from __future__ import annotations

import pytest

from qualkit.review import decisions, double_coding
from qualkit.users import Role, User

SECRET = "BEN-SECRET-MEMO"
# page -> key prefixes of controls that write (a viewer must be offered none of them)
WRITES = {
    "study": ["import_files", "participants_save", "new_project_name"],
    "queue": ["acc_", "rej_", "chg_", "chgbtn_", "add_", "addbtn_", "span_", "spanbtn_", "bulk_go"],
    "transcript": ["tx_memo", "tx_done"],  # tx_memo covers the memo's edit, delete and undo keys too
    "codebook": ["cb_add_", "cb_merge_", "cb_split_", "cb_upload", "cb_import", "cb_name_", "cb_definition_",
                 "cb_unmerge"],
    "themes": ["th_run", "th_promote"],
    "double_coding": ["dc_assign", "adj_yes_", "adj_no_", "adj_undo_", "dc_done_", "dc_reopen_", "dc_rm_", "dc_settle",
                      "dc_unsettle_last"],
    "team": ["tm_add", "tm_role_", "tm_save_", "tm_rm_", "tm_cb_"],
    "history": [],
    "analysis": [],
    "reliability": [],
    "export": [],
}
# pages whose whole-project results wait while ana codes blind (the message they show instead)
WAITS = {"analysis": "open once the blind double-coding", "export": "open once the blind double-coding"}
KINDS = ("button", "text_input", "text_area", "selectbox", "multiselect", "checkbox", "toggle", "number_input",
         "slider", "select_slider", "radio", "download_button", "file_uploader", "form_submit_button")


def _keys(at) -> set[str]:
    keys = set()
    for kind in KINDS:
        try:
            elements = at.get(kind)
        except Exception:  # a kind this Streamlit's AppTest does not know
            continue
        keys |= {str(getattr(e, "key", "") or "") for e in elements}
    return keys


def _shown(at, helpers) -> str:
    return helpers.texts(at) + "\n".join(d.value.to_string() for d in at.dataframe)


@pytest.fixture
def blind_app(study_on, monkeypatch):
    monkeypatch.setenv("QUALKIT_APP_RETRAIN", "0")
    monkeypatch.delenv("QUALKIT_USER", raising=False)
    store = study_on.store
    double_coding.assign(store, "group1.txt", ["ana", "ben"], actor=User("admin", Role.ADMIN))
    peer = study_on.suggestion("group1.txt", 4, "peer_support")
    decisions.decide(store, int(peer.id), "accept", actor=User("ben"))
    decisions.decide(store, int(peer.id), "reject", actor=User("ana"))
    decisions.write_memo(store, SECRET, actor=User("ben"), segment_id=int(peer.segment_id))
    study_on.peer = peer
    return study_on


def test_every_page_as_viewer_and_blind_coder(blind_app, apptest, helpers):
    wrong = []
    for page, writes in WRITES.items():
        vic = apptest("vic", page)
        if vic.exception:
            wrong.append(f"vic/{page}: {[e.value for e in vic.exception]}")
        offered = sorted(k for k in _keys(vic) for prefix in writes if k.startswith(prefix))
        if offered:
            wrong.append(f"vic/{page}: offers {offered}")
        ana = apptest("ana", page)
        if ana.exception:
            wrong.append(f"ana/{page}: {[e.value for e in ana.exception]}")
        shown = _shown(ana, helpers)
        if SECRET in shown:
            wrong.append(f"ana/{page}: shows ben's memo")
        if page in WAITS and WAITS[page] not in shown:
            wrong.append(f"ana/{page}: whole-project results do not wait for the blind double-coding")
        if page == "export" and "ex_run" in _keys(ana):
            wrong.append("ana/export: offers a project export")
        if page == "reliability" and "rel_coders" in _keys(ana) and "ben" in ana.multiselect(key="rel_coders").options:
            wrong.append("ana/reliability: offers ben")
    assert not wrong, wrong


def test_the_admin_is_offered_what_the_viewer_is_not(blind_app, apptest):
    """The viewer checks can fail: the admin sees write controls on the same pages, and ben's memo."""
    offered = {page: sorted(k for k in _keys(apptest("admin", page)) for p in writes if k.startswith(p))
               for page, writes in WRITES.items() if page in ("queue", "team", "double_coding", "codebook")}
    assert all(offered.values()), offered
