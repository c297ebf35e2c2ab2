"""The mini study shared by the review and app tests: two transcripts, five codes, eight suggestions, four users.

It does not depend on the other areas (ingestion, coders): exact offsets (CRLF and non-ASCII included),
a five-code codebook, and machine suggestions inserted with ``store.add_codings``. Test folders import it
with ``sys.path`` (conftest modules cannot be imported under importlib mode).
"""

from __future__ import annotations

from dataclasses import dataclass

PASSWORDS = {"admin": "admin-password", "ana": "ana-password", "ben": "ben-password", "vic": "vic-password"}
PROJECT = "Mini burnout study"

TRANSCRIPTS = {
    "group1.txt": [
        ("Moderator", "moderator", "What wears you down most at work?"),
        ("Ana", "participant", "Honestly? The EHR. I spend two hours every night on documentation."),
        ("Béla", "participant", "We are short-staffed, so every shift is double the patients."),
        ("Ana", "participant", "I feel completely drained, running on empty by Thursday."),
        ("Chris", "participant", "My colleagues keep me going; we debrief after hard cases."),
        ("Béla", "participant", "The paperwork never ends, and nobody above us listens."),
    ],
    "group2.txt": [
        ("Moderator", "moderator", "How do you cope?"),
        ("Dee", "participant", "I go for a run, and I talk to a friend from residency."),
        ("Eli", "participant", "Too many patients, too little time. I am exhausted."),
        ("Dee", "participant", "The wellness app felt like a joke when we cannot even take lunch."),
    ],
}

# (source, turn index, code, score, evidence words)
SUGGESTIONS = [
    ("group1.txt", 1, "administrative_burden", 0.92, ["EHR", "documentation"]),
    ("group1.txt", 2, "workload", 0.88, ["short-staffed"]),
    ("group1.txt", 3, "emotional_exhaustion", 0.55, ["drained"]),
    ("group1.txt", 4, "peer_support", 0.61, ["debrief"]),
    ("group1.txt", 5, "administrative_burden", 0.45, ["paperwork"]),
    ("group2.txt", 2, "workload", 0.72, ["patients"]),
    ("group2.txt", 2, "emotional_exhaustion", 0.97, ["exhausted"]),
    ("group2.txt", 1, "peer_support", 0.3, ["friend"]),
]


def mini_codebook():
    """Five codes of the burnout taxonomy under two parents (parents are not codable)."""
    from qualkit.model import Code, Codebook

    return Codebook(name="burnout-mini", description="A few burnout codes for tests", codes=[
        Code("systemic_drivers", "Systemic drivers", codable=False),
        Code("workload", "Workload", parent="systemic_drivers", definition="Volume, hours, understaffing.",
             cues=["short-staffed", "too many patients"]),
        Code("administrative_burden", "Administrative burden", parent="systemic_drivers",
             definition="Paperwork, documentation, the EHR.", cues=["EHR", "paperwork"]),
        Code("burnout_dimensions", "Burnout dimensions", codable=False),
        Code("emotional_exhaustion", "Emotional exhaustion", parent="burnout_dimensions",
             definition="Feeling drained.", examples=["I am running on empty."]),
        Code("peer_support", "Peer support", definition="Colleagues supporting each other."),
        Code("individual_coping", "Individual coping", definition="Rest, exercise, hobbies."),
    ])


def build_source(name: str, turns):
    """A source whose segments are the text after each speaker label, offsets exact, CRLF line ends."""
    from qualkit.model import Segment, Source

    lines, segments, position = [], [], 0
    for turn, (speaker, role, body) in enumerate(turns):
        prefix = f"{speaker}: "
        start = position + len(prefix)
        segments.append((speaker, role, body, start, turn))
        line = prefix + body + "\r\n"
        lines.append(line)
        position += len(line)
    text = "".join(lines)
    source = Source(name=name, text=text, format="txt", raw=text.encode("utf-8"), encoding="utf-8")
    source.segments = [Segment(name, start, start + len(body), body, speaker=speaker, role=role, turn=turn)
                       for speaker, role, body, start, turn in segments]
    return source


def build_study(url: str, *, name: str = PROJECT, users: bool = True):
    """Create the mini study in ``url``: codebook, two transcripts, eight suggestions, four users."""
    from qualkit.model import Coding
    from qualkit.project import Project
    from qualkit.users import add_user

    project = Project.create(url, name, codebook=None, user="setup")
    project.set_codebook(mini_codebook(), note="test codebook")
    segment_ids = {}
    for source_name, turns in TRANSCRIPTS.items():
        source = build_source(source_name, turns)
        project.store.add_source(source, user="setup")
        for seg in source.segments:
            segment_ids[(source_name, seg.turn)] = seg
    codings = []
    for source_name, turn, code, score, words in SUGGESTIONS:
        seg = segment_ids[(source_name, turn)]
        evidence = [(seg.start + seg.text.index(w), seg.start + seg.text.index(w) + len(w)) for w in words]
        codings.append(Coding(segment_id=seg.id, code_id=code, origin="rules", status="suggested", score=score,
                              coder="auto", evidence=evidence, rationale=f"cue words: {', '.join(words)}",
                              codebook_version=1))
    project.store.add_codings(codings, user="auto", action="suggest")
    if users:
        for user, role in (("admin", "admin"), ("ana", "coder"), ("ben", "coder"), ("vic", "viewer")):
            add_user(project.store, user, PASSWORDS[user], role, actor="setup", rounds=4)
    return project


@dataclass
class MiniStudy:
    """A built study: its URL, project, and the segments and suggestions by (source, turn)."""

    url: str
    project: object

    @property
    def store(self):
        return self.project.store

    def segment(self, source: str, turn: int):
        frame = self.store.segments_df(source=source, attributes=False)
        row = frame[frame["turn"] == turn].iloc[0]
        return row

    def suggestion(self, source: str, turn: int, code: str):
        """The machine suggestion of ``code`` on a turn (its origin may change when retraining rescores it)."""
        frame = self.store.codings_df(source=source, code_id=code)
        return frame[(frame["turn"] == turn) & (frame["origin"] != "human")].iloc[0]
