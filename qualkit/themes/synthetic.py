"""Generated focus-group corpora with planted themes, for tests, benchmarks and checking settings.

Each participant line is built from one planted theme's subjects and predicates, wrapped in spoken
fillers ("Um,", "you know", "kind of"); about one line in ten is off-topic chatter (planted label -1).
Themes lean towards some roles (residents talk about sleep, nurses about staffing) so prevalence by
group has something to show. Everything is written by the qualkit authors; nothing is real.

Example:
    >>> corpus = planted_corpus(60, seed=1)
    >>> len(corpus.segments), len(corpus.labels), corpus.sources[0].name
    (60, 60, 'focus_group_1.txt')
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import numpy as np

from qualkit.model import Segment, Source

PLANTED_THEMES: dict[str, tuple[list[str], list[str]]] = {
    "documentation": (
        ["the charting", "the inbox", "the EHR", "my notes", "prior authorizations", "the in-basket messages",
         "all the clicking in Epic", "the documentation"],
        ["eats every evening I have", "takes longer than seeing the patient", "follows me home at night",
         "never ends no matter how fast I type", "keeps me at the computer until midnight",
         "is clerical work that a scribe could do"]),
    "staffing": (
        ["we are short-staffed again", "two nurses called out", "the unit runs with half the staff",
         "there is no float pool", "we keep losing nurses to travel contracts", "the agency coverage fell through"],
        ["every single weekend", "and nobody backfills the shift", "so I take six patients instead of four",
         "and the ratios are unsafe", "so we skip our breaks to cover"]),
    "sleep": (
        ["after a string of night shifts", "on call every fourth night", "after a twenty-eight hour call",
         "when the pager goes off at three in the morning", "during a week of nights"],
        ["I can barely keep my eyes open", "I fall asleep at red lights driving home",
         "I sleep through my whole day off", "my body never recovers", "I am too wired to fall asleep"]),
    "leadership": (
        ["administration", "the hospital leadership", "management", "the executives", "our department chair"],
        ["sends emails about resilience", "never asks us before changing the schedule",
         "cares about metrics and not about people", "offered pizza instead of more staff",
         "does not listen at the town halls"]),
    "family": (
        ["my kids", "my husband", "my partner", "my family", "my friends outside medicine"],
        ["barely see me awake", "stopped asking how my day was", "get whatever is left of me",
         "had dinner without me again", "think I chose the job over them"]),
    "moral_injury": (
        ["discharging patients too early", "rationing time with dying patients",
         "being told to rush the family meeting", "insurance denying the scan my patient needs"],
        ["goes against everything I trained for", "makes me feel complicit",
         "keeps me up with guilt", "is not the medicine I signed up for"]),
    "peer_support": (
        ["our Balint group", "debriefing after a code", "the residents group chat",
         "having a colleague check in on me", "the peer support team"],
        ["is the only thing that keeps me going", "helps me feel less alone", "lets us talk honestly",
         "got me through intern year"]),
    "meaning": (
        ["when a patient thanks me", "seeing a child go home healthy", "catching a diagnosis everyone missed",
         "sitting with a family at the end"],
        ["reminds me why I went into medicine", "makes the hard days worth it",
         "is the part of the job I love", "gives me a sense of purpose"]),
}
OPENERS = ["", "", "Um, ", "Yeah, ", "I mean, ", "Honestly, ", "You know, ", "Like, ", "So, ", "And, uh, "]
JOINERS = [", and ", ", and honestly ", " and then ", ", because ", ", plus ", " and also "]
TAILS = ["", "", "", ", you know", ", kind of", ", like, all the time", ", I mean", ", yeah", ", sort of"]
CHATTER = [
    "Yeah, I totally agree with what she just said about that.", "That is a really good question, let me think.",
    "Sorry, go ahead, I think I interrupted you there.", "Can you repeat the question for me please?",
    "Right, right, exactly, that is what I was going to say.", "Mm-hmm, yeah, same here, same for me.",
    "I do not know, it depends on the day I guess.", "Okay, so, where was I going with this?",
]
ROLES = {"resident": ["sleep", "documentation", "peer_support"], "attending": ["documentation", "moral_injury"],
         "nurse": ["staffing", "leadership"], "staff": ["leadership", "family"]}


@dataclass
class PlantedCorpus:
    """Sources, their participant segments (one per line) and the planted theme of each segment (-1: chatter).

    Example:
        >>> planted_corpus(40, seed=0).theme_names[:2]
        ['documentation', 'staffing']
    """

    sources: list[Source]
    segments: list[Segment]
    labels: np.ndarray
    theme_names: list[str] = field(default_factory=list)


def _sentence(rng: random.Random, theme: str) -> str:
    """One planted line: a subject and a predicate of the theme, often joined by a second clause of it,
    so that a theme is not a handful of near-duplicate templates."""
    subjects, predicates = PLANTED_THEMES[theme]
    body = f"{rng.choice(subjects)} {rng.choice(predicates)}"
    if rng.random() < 0.6:
        body += f"{rng.choice(JOINERS)}{rng.choice(subjects)} {rng.choice(predicates)}"
    text = f"{rng.choice(OPENERS)}{body}{rng.choice(TAILS)}."
    return text[0].upper() + text[1:]


def planted_corpus(
    n_segments: int, *, n_themes: int = 8, groups: int = 4, chatter: float = 0.1, kind: str = "sentence",
    sentences_per_turn: int = 1, moderator: bool = False, seed: int = 0,
) -> PlantedCorpus:
    """Generate ``n_segments`` participant lines over ``groups`` focus groups with planted themes.

    Segments carry ``group``, ``role`` and ``session`` attributes and exact offsets into their source;
    ``kind`` is the segment kind to report (``"sentence"``, or ``"turn"`` to exercise splitting), and a
    turn holds ``sentences_per_turn`` sentences of one theme. With ``moderator=True`` each group opens
    with a moderator question (not counted in ``segments``' labels, but present in the sources).

    Example:
        >>> c = planted_corpus(30, n_themes=3, seed=2)
        >>> sorted(set(c.labels.tolist()) - {-1}) == [0, 1, 2]
        True
    """
    rng = random.Random(seed)
    names = list(PLANTED_THEMES)[:n_themes]
    speakers = []
    for g in range(groups):
        for p in range(6):
            role = list(ROLES)[(g + p) % len(ROLES)]
            speakers.append((g, f"P{g + 1}{p + 1:02d}", role))
    lines: dict[int, list[tuple[str, str, str, int]]] = {g: [] for g in range(groups)}
    labels_by_group: dict[int, list[int]] = {g: [] for g in range(groups)}
    for i in range(n_segments):
        g, speaker, role = speakers[rng.randrange(len(speakers))] if i >= groups else speakers[i * 6]
        if rng.random() < chatter:
            text, label = " ".join(rng.choice(CHATTER) for _ in range(sentences_per_turn)), -1
        else:
            favoured = [t for t in ROLES[role] if t in names]
            theme = rng.choice(favoured) if favoured and rng.random() < 0.4 else rng.choice(names)
            text = " ".join(_sentence(rng, theme) for _ in range(sentences_per_turn))
            label = names.index(theme)
        lines[g].append((speaker, role, text, i))
        labels_by_group[g].append(label)
    sources, segments, order, labels = [], [], [], []
    for g in range(groups):
        name = f"focus_group_{g + 1}.txt"
        parts, position, segs, all_segs = [], 0, [], []
        if moderator:
            question = "Moderator: What wears you down at work, and what keeps you going?"
            start = len("Moderator: ")
            all_segs.append(Segment(name, start, len(question), question[start:], speaker="Moderator",
                                    role="moderator", kind=kind, turn=-1, attributes={"group": f"FG{g + 1}"}))
            parts.append(question + "\n")
            position = len(parts[-1])
        for turn, (speaker, role, text, i) in enumerate(lines[g]):
            prefix = f"{speaker}: "
            start = position + len(prefix)
            segs.append(Segment(name, start, start + len(text), text, speaker=speaker, kind=kind, turn=turn,
                                participant=speaker,
                                attributes={"group": f"FG{g + 1}", "role": role, "session": f"S{g % 2 + 1}"}))
            parts.append(f"{prefix}{text}\n")
            position += len(parts[-1])
            order.append(i)
        source = Source(name=name, text="".join(parts), format="txt", segments=all_segs + segs)
        sources.append(source)
        segments.extend(segs)
        labels.extend(labels_by_group[g])
    return PlantedCorpus(sources=sources, segments=segments, labels=np.array(labels), theme_names=names)
