"""De-identification: participants' and other people's names, emails, phones and URLs → consistent pseudonyms.

What is replaced, in this order of precedence where matches overlap:

1. emails (``[EMAIL-1]``), URLs including bare domains such as ``stmarys.nhs.uk/rota`` (``[URL-1]``) and
   phone numbers in grouped or unseparated forms (``[PHONE-1]``), but not times, dates, years or amounts;
2. participants (roster and aliases, and name-shaped speaker labels of the transcript): the full name
   as written, without credentials, ``Title Surname``, first name and surname → the participant's own code
   when it is one (``[R01]`` for participant R01), else ``[P01]``, ``[P02]``... (never another participant's code);
3. other people: a title followed by capitalised names (``Dr. Raj Patel``, ``Nurse Kim``), names from
   a names list (a built-in list of common given names that are not also common words, plus ``names=``)
   with a following capitalised surname, and PERSON entities from spaCy NER when a trained pipeline is
   installed (``ner="auto"``) → ``[PERSON-1]``... One person written several ways ("Anna Maria
   Lopez", later "Maria Lopez" and "Dr Lopez") keeps one pseudonym when the surname and a given name
   tie them to a name seen before; a surname that could be two people gets a pseudonym of its own.

Role labels (``Moderator``, ``I1``, ``P3``) are not names and stay. Pseudonyms are consistent within a
:class:`Deidentifier` (use one object, or pass ``key=`` from an earlier run, for several files). The
result carries a new :class:`~qualkit.model.Source` whose segments, marks and label spans are mapped to
the new text (so ``text[start:end] == segment.text`` still holds; the original bytes are dropped), the
list of every replacement for review, and the key (pseudonym → originals), which :meth:`Deidentifier.write_key`
writes to a separate file. Keep the key away from the de-identified data.

Example:
    >>> from qualkit.model import Participant, Source
    >>> result = deidentify(Source("a.txt", "Jill Smith: Ask Dr. Raj Patel or mail jill@x.org", "txt"),
    ...                     participants=[Participant("R01", pseudonym="Jill Smith")], ner=False)
    >>> result.source.text
    '[R01]: Ask [PERSON-1] or mail [EMAIL-1]'
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qualkit.errors import MissingDependency
from qualkit.ingest.participants import ParticipantsLike, read_participants
from qualkit.ingest.speakers import TITLES, label_shape
from qualkit.model import ImportReport, Mark, Participant, Segment, Source, Speaker
from qualkit.spans import OffsetMap

if TYPE_CHECKING:
    import pandas as pd

# Common given names that are not also everyday English words (no Will, Mark, Grace, May, Joy, ...).
GIVEN_NAMES = frozenset(["aaron", "abdul", "abigail", "adam", "adrian", "ahmed", "aisha", "alan", "albert", "alejandro", "alex", "alexander", "alexandra", "alice", "alicia", "alison", "amanda", "amelia", "amir", "amy", "ana", "andrea", "andrew", "angela", "anita", "ann", "anna", "anne", "anthony", "antonio", "arjun", "ashley", "barbara", "ben", "benjamin", "beth", "brian", "carlos", "carmen", "caroline", "catherine", "charles", "charlotte", "chen", "chloe", "chris", "christina", "christine", "christopher", "claire", "claudia", "dan", "daniel", "david", "deborah", "denise", "diana", "diego", "dmitri", "donald", "dorothy", "eduardo", "elena", "elizabeth", "ella", "emily", "emma", "eric", "erik", "esther", "ethan", "eva", "fatima", "felix", "fernando", "fiona", "francesca", "francisco", "gabriel", "gareth", "george", "gloria", "gregory", "hannah", "harold", "harry", "heather", "helen", "henry", "hiroshi", "hugo", "ian", "ibrahim", "isabel", "isabella", "ivan", "jacob", "james", "jane", "janet", "jason", "javier", "jennifer", "jeremy", "jessica", "jill", "joanna", "joel", "johan", "john", "jonathan", "jorge", "jose", "joseph", "joshua", "juan", "julia", "julie", "justin", "karen", "kate", "katherine", "kathleen", "katie", "kelly", "kenji", "kevin", "kim", "laura", "lauren", "leah", "lena", "leo", "linda", "lisa", "liz", "lucas", "lucy", "luis", "maria", "marie", "marta", "martha", "mary", "matthew", "mei", "melissa", "michael", "michelle", "miguel", "mohammed", "monica", "nancy", "natalie", "nathan", "nicholas", "nicole", "nina", "noah", "olga", "oliver", "olivia", "owen", "omar", "pablo", "patricia", "paul", "pedro", "peter", "priya", "rachel", "rahul", "raj", "rebecca", "rhys", "richard", "robert", "ryan", "samuel", "sandra", "sara", "sam", "sarah", "sean", "sofia", "sophia", "sophie", "stephanie", "stephen", "steven", "susan", "thomas", "tim", "timothy", "tom", "tomas", "victoria", "vincent", "wei", "william", "xavier", "yusuf", "zoe", "zhang"])
# The local part may hold an apostrophe (ann.o'neil@x.org); a quote opening the address is trimmed off.
_EMAIL = re.compile(r"(?<![\w.+'’-])[\w.+'’-]+@[\w-]+(?:\.[\w-]+)+")
_URL = re.compile(r"\b(?:https?://|www\.)[^\s<>()\[\]\"']+", re.IGNORECASE)
# Bare domains (stmarys.nhs.uk/rota): lower case, ending in a common top-level domain; TLDs that are
# everyday words (it, in, me, no, be, at, to, us) are left out, so "done.It was" is not a URL.
_TLDS = ("com|org|net|edu|gov|mil|int|info|biz|io|co|uk|ca|au|nz|ie|de|fr|nl|ch|es|pt|se|dk|fi|pl|cz|eu|jp|cn|"
         "br|mx|za|tv|app|dev|health")
_BARE_URL = re.compile(rf"(?<![\w@.\-/])(?:[a-z0-9](?:[a-z0-9-]{{0,61}}[a-z0-9])?\.)+(?:{_TLDS})(?![\w.-]*\w)"
                       r"(?:[/?#][^\s<>()\[\]\"']*)?")
# Digit groups separated by a space, dot or hyphen (07700 900123, 555-123-4567, +44 (0)20 7946 0958),
# or one run of 10-15 digits (5551234567); checked further in _is_phone.
_PHONE = re.compile(r"(?<![\w:./-])(?:\+\d{1,3}[ \t\u00a0.-]?)?(?:\(\d{1,5}\)[ \t\u00a0.-]?)?"
                    r"\d{2,15}(?:[ \t\u00a0.-]\d{2,6}){0,4}(?![\w:]|[.,/-]\d)")
_NOT_PHONE = re.compile(r"(?:19|20)\d{2}\s*[-–]\s*(?:19|20)?\d{2}|\d{4}-\d{2}-\d{2}|\d{1,2}[./-]\d{1,2}[./-]\d{2,4}"
                        r"|\d{1,3}(?:\.\d{3})+|(?:(?:19|20)\d{2}[ \t\u00a0]+)+(?:19|20)\d{2}")
_TITLE_NAME = re.compile(
    r"\b(?:Dr|Doctor|Prof|Professor|Mr|Mrs|Ms|Mx|Miss|Nurse|Sister|Sr)\.?[ \t]+"
    r"(?P<name>[A-ZÀ-ÖØ-Þ][\w'’-]+(?:[ \t]+[A-ZÀ-ÖØ-Þ][\w'’-]+)?)")
# A capitalised word, with hyphenated or apostrophe parts (Watson-Brown, O'Neil); never a lone "I".
_CAPITALISED = r"[A-ZÀ-ÖØ-Þ](?:[a-zß-öø-ÿ]+|(?=['’][A-ZÀ-ÖØ-Þ]))(?:['’-][A-ZÀ-ÖØ-Þa-zß-öø-ÿ][a-zß-öø-ÿ]*)*"
# Every capitalised word and the capitalised word after it, if any (overlapping: the run is inside a lookahead).
_CAPITALISED_RUN = re.compile(
    rf"(?<![\w'’-])(?=(?P<run>(?P<first>{_CAPITALISED})(?:[ \t]+(?P<last>{_CAPITALISED}))?)"
    rf"(?:[ \t]+(?P<third>{_CAPITALISED}))?)")
_PRIORITY = {"email": 0, "url": 0, "phone": 1, "participant": 2, "person": 3}


@dataclass(slots=True)
class Replacement:
    """One replacement made: where in the old and new text, what it was, what it became, and why.

    Example:
        >>> Replacement("a.txt", 0, 4, "Jill", "[P01]", "participant", 0, 5).replacement
        '[P01]'
    """

    source: str
    start: int
    end: int
    original: str
    replacement: str
    kind: str
    new_start: int
    new_end: int


@dataclass(slots=True)
class Deidentified:
    """A de-identified source, the replacements made in it (for review) and the key so far.

    Example:
        >>> Deidentified(Source("a.txt", "", "txt")).replacements
        []
    """

    source: Source
    replacements: list[Replacement] = field(default_factory=list)
    key: dict[str, dict[str, Any]] = field(default_factory=dict)

    def report(self) -> Any:
        """The replacements as a DataFrame (source, offsets old and new, original, replacement, kind, context)."""
        import pandas as pd

        text = self.source.text
        rows = [dataclasses.asdict(r) | {"context": text[max(r.new_start - 30, 0): r.new_end + 30]}
                for r in self.replacements]
        return pd.DataFrame(rows, columns=["source", "start", "end", "original", "replacement", "kind",
                                           "new_start", "new_end", "context"])


class Deidentifier:
    """Holds the pseudonym key so several sources get consistent pseudonyms.

    Example:
        >>> from qualkit.model import Source
        >>> d = Deidentifier(ner=False)
        >>> d.deidentify(Source("a.txt", "Call 555-123-4567.", "txt")).source.text
        'Call [PHONE-1].'
    """

    def __init__(
        self,
        *,
        participants: ParticipantsLike | None = None,
        aliases: Mapping[str, str] | None = None,
        names: Iterable[str] = (),
        ner: bool | str = "auto",
        nlp: Any = None,
        key: Mapping[str, Mapping[str, Any]] | str | os.PathLike[str] | None = None,
        participant_format: str = "[P{n:02d}]",
        person_format: str = "[PERSON-{n}]",
    ) -> None:
        self.participants: list[Participant] = read_participants(participants) if participants is not None else []
        self.aliases = dict(aliases or {})
        self.names = {n.strip().casefold() for n in names if n.strip()}
        self.ner = ner
        self.nlp = nlp
        self.participant_format = participant_format
        self.person_format = person_format
        if isinstance(key, str | os.PathLike):
            key = json.loads(Path(key).read_text(encoding="utf-8")) if Path(key).exists() else {}
        self.key: dict[str, dict[str, Any]] = {k: dict(v) for k, v in (key or {}).items()}
        self._by_original: dict[tuple[str, str], str] = {}
        self._counters: dict[str, int] = {}
        for pseudonym, entry in self.key.items():
            kind = entry.get("kind", "person")
            for original in entry.get("originals", []):
                self._by_original[(kind if kind != "participant" else "person", _norm(original))] = pseudonym
            if entry.get("participant"):
                self._by_original[("participant-id", entry["participant"])] = pseudonym
            number = re.search(r"(\d+)\]?$", pseudonym)
            counter = "participant" if kind == "participant" else kind
            if number:
                self._counters[counter] = max(self._counters.get(counter, 0), int(number.group(1)))
        self.ner_used: bool = False

    # ---------------------------------------------------------------- pseudonyms
    def _pseudonym(self, kind: str, original: str, participant: str | None = None) -> str:
        lookup_kind = "person" if kind in ("participant", "person") else kind
        if participant is not None and ("participant-id", participant) in self._by_original:
            pseudonym = self._by_original[("participant-id", participant)]
        elif (lookup_kind, _norm(original)) in self._by_original:
            pseudonym = self._by_original[(lookup_kind, _norm(original))]
        elif kind == "person" and (same := self._same_person(original)) is not None:
            pseudonym = same
        elif kind == "participant" and participant is not None and self._own_code(participant):
            # The study's own code for the person: a stranger's P05 became [P03], the code of another participant.
            pseudonym = f"[{participant}]"
            self.key[pseudonym] = {"kind": kind, "participant": participant, "originals": []}
            self._by_original[("participant-id", participant)] = pseudonym
        else:
            counter = "participant" if kind == "participant" else kind
            taken = {p.id for p in self.participants} | {p.pseudonym for p in self.participants if p.pseudonym}
            while True:  # never a pseudonym that reads as another participant's code
                self._counters[counter] = self._counters.get(counter, 0) + 1
                n = self._counters[counter]
                if kind == "participant":
                    pseudonym = self.participant_format.format(n=n)
                elif kind == "person":
                    pseudonym = self.person_format.format(n=n)
                else:
                    pseudonym = f"[{kind.upper()}-{n}]"
                if pseudonym not in self.key and pseudonym.strip("[]") not in taken:
                    break
            self.key[pseudonym] = {"kind": kind, "participant": participant, "originals": []}
            if participant is not None:
                self._by_original[("participant-id", participant)] = pseudonym
        entry = self.key[pseudonym]
        if original not in entry["originals"]:
            entry["originals"].append(original)
        self._by_original[(lookup_kind, _norm(original))] = pseudonym
        return pseudonym

    def _own_code(self, participant: str) -> bool:
        """Whether a participant id is a code (P05, R01) that can stand in the text for the person, unused so far."""
        return label_shape(participant) == "role" and f"[{participant}]" not in self.key

    def _same_person(self, original: str) -> str | None:
        """The one other person ``original`` names by surname: "Maria Lopez" or "Dr Lopez" after "Anna Maria Lopez".

        A full name matches a known full name with the same surname and a shared given name; a surname
        alone (from "Dr Lopez") matches when exactly one known person has that surname. Anything
        ambiguous gets a pseudonym of its own.
        """
        words = [_norm(w) for w in original.split()]
        if not words:
            return None
        matches = set()
        for pseudonym, entry in self.key.items():
            if entry.get("kind") != "person":
                continue
            for known in entry["originals"]:
                known_words = [_norm(w) for w in known.split()]
                if len(known_words) < 2 or known_words[-1] != words[-1]:
                    continue
                if len(words) == 1 or set(words[:-1]) & set(known_words[:-1]):
                    matches.add(pseudonym)
        return matches.pop() if len(matches) == 1 else None

    def write_key(self, path: str | os.PathLike[str]) -> Path:
        """Write the key (pseudonym → kind, participant id, originals) as JSON to its own file.

        Example:
            >>> Deidentifier(ner=False).write_key("key.json")  # doctest: +SKIP
            PosixPath('key.json')
        """
        path = Path(path)
        path.write_text(json.dumps(self.key, indent=2, ensure_ascii=False), encoding="utf-8")
        return path

    def participants_table(self) -> pd.DataFrame:
        """The participants list for the de-identified transcripts: id, the pseudonym their turns carry, attributes.

        Importing the ``.deid.txt`` files with this list links each ``[P01]`` to its participant, so group
        figures keep the roles and sites (with the original list the pseudonyms matched nobody). It holds no
        names or aliases; the attributes are copied as they are, so read them before sharing the list.

        Example:
            >>> from qualkit.model import Participant, Source
            >>> d = Deidentifier(participants=[Participant("R01", pseudonym="Jill Smith",
            ...                                            attributes={"role": "nurse"})], ner=False)
            >>> _ = d.deidentify(Source("a.txt", "Jill Smith: nights again", "txt"))
            >>> d.participants_table().to_dict("records")
            [{'participant_id': 'R01', 'pseudonym': 'R01', 'aliases': '[R01]', 'role': 'nurse'}]
        """
        import pandas as pd

        pseudonyms = {entry["participant"]: pseudonym for pseudonym, entry in self.key.items()
                      if entry.get("kind") == "participant" and entry.get("participant")}
        # The transcript reader takes "[P01]:" for the label P01 (a bracketed label style); both forms match.
        # A participant written by a role code (P3) kept it in the text: listed with it, or P3 matched nobody.
        rows = [{"participant_id": p.id, "pseudonym": pseudonyms[p.id].strip("[]"), "aliases": pseudonyms[p.id],
                 **p.attributes} if p.id in pseudonyms else
                {"participant_id": p.id, "pseudonym": p.pseudonym, "aliases": "", **p.attributes}
                for p in self.participants
                if p.id in pseudonyms or (p.pseudonym and label_shape(p.pseudonym) == "role")]
        attributes = list(dict.fromkeys(name for p in self.participants for name in p.attributes))
        return pd.DataFrame(rows, columns=["participant_id", "pseudonym", "aliases", *attributes])

    # ---------------------------------------------------------------- finding
    def _people(self, source: Source) -> list[tuple[str | None, list[str]]]:
        """(participant id or None, name variants) for every roster person and name-shaped speaker."""
        people: list[tuple[str | None, list[str]]] = []
        seen_labels: set[str] = set()
        for p in self.participants:
            names = [n for n in [p.pseudonym, *p.aliases] if n]
            names += [alias for alias, target in self.aliases.items() if target in names]
            for speaker in source.speakers:
                if speaker.participant == p.id:
                    names += [speaker.label, *speaker.aliases]
            names = [n for n in dict.fromkeys(names) if label_shape(n) == "name"]
            seen_labels.update(names)
            if names:
                people.append((p.id, names))
        for speaker in source.speakers:
            if speaker.participant and any(pid == speaker.participant for pid, _ in people):
                continue
            names = [n for n in [speaker.label, *speaker.aliases] if label_shape(n) == "name" and n not in seen_labels]
            if names:
                people.append((speaker.participant or f"speaker:{speaker.label}", names))
        return people

    def _spans(self, text: str, source: Source) -> list[tuple[int, int, str, str, str | None]]:
        """Candidate (start, end, kind, key name, participant) spans, overlapping; resolved later."""
        spans: list[tuple[int, int, str, str, str | None]] = []
        for match in _EMAIL.finditer(text):
            start = match.start()
            while text[start] in "'’.+-":
                start += 1
            spans.append((start, match.end(), "email", text[start:match.end()], None))
        for pattern in (_URL, _BARE_URL):
            for match in pattern.finditer(text):
                end = match.end()
                while end > match.start() and text[end - 1] in ".,;:!?'’":
                    end -= 1
                spans.append((match.start(), end, "url", text[match.start():end], None))
        for match in _PHONE.finditer(text):
            if _is_phone(match.group()):
                spans.append((match.start(), match.end(), "phone", match.group(), None))
        for participant, names in self._people(source):
            for variant, canonical in _variants(names):
                pattern = re.compile(rf"(?<![\w]){re.escape(variant)}(?![\w])")
                for match in pattern.finditer(text):
                    spans.append((match.start(), match.end(), "participant", canonical, participant))
        for match in _TITLE_NAME.finditer(text):
            name = match.group("name")
            if label_shape(name) is None:
                continue
            spans.append((match.start(), match.end(), "person", name.split()[-1], None))
        given = GIVEN_NAMES | self.names
        # A zero-width match at every capitalised word (not only every other one): a name right after
        # another capitalised word ("Ask Maria Lopez", "Yesterday Emma said") must be seen too.
        for match in _CAPITALISED_RUN.finditer(text):
            first, last = match.group("first"), match.group("last")
            start = match.start()
            possessive = re.fullmatch(r"(.+)['’]s", first)
            if possessive and possessive.group(1).casefold() in given:  # "Kim's shift"
                spans.append((start, start + len(possessive.group(1)), "person", possessive.group(1), None))
                continue
            if first.casefold() not in given:
                continue
            third = match.group("third")
            if last and last.casefold() in given and third and third.casefold() not in given:
                # Two given names and a surname ("Anna Maria Lopez") are one person, not two.
                run = re.sub(r"['’]s$", "", text[start:match.end("third")])
                spans.append((start, start + len(run), "person", run, None))
            elif last and last.casefold() not in given:
                run = re.sub(r"['’]s$", "", match.group("run"))
                spans.append((start, start + len(run), "person", run, None))
            else:
                spans.append((start, start + len(first), "person", first, None))
        for start, end in self._ner_spans(text):
            spans.append((start, end, "person", text[start:end], None))
        return spans

    def _ner_spans(self, text: str) -> list[tuple[int, int]]:
        if self.ner is False:
            return []
        nlp = self.nlp
        if nlp is None:
            from qualkit.nlp import load_nlp, trained_pipeline_name

            if trained_pipeline_name() is None:
                if self.ner is True:
                    raise MissingDependency("en_core_web_sm",
                                            pip="install a trained spaCy English pipeline, or de-identify without it (--no-ner)")
                return []
            nlp = self.nlp = load_nlp(trained=True)
        self.ner_used = True
        return [(ent.start_char, ent.end_char) for ent in nlp(text).ents if ent.label_ == "PERSON"]

    # ---------------------------------------------------------------- replacing
    def deidentify(self, source: Source) -> Deidentified:
        """A de-identified copy of ``source`` with the replacements made; the key grows as needed.

        Example:
            >>> from qualkit.model import Source
            >>> Deidentifier(ner=False).deidentify(Source("a.txt", "see www.x.org.", "txt")).source.text
            'see [URL-1].'
        """
        text = source.text
        candidates = sorted(self._spans(text, source), key=lambda s: (s[0], -(s[1] - s[0]), _PRIORITY[s[2]]))
        chosen: list[tuple[int, int, str, str, str | None]] = []
        last_end = -1
        for span in candidates:
            if span[0] >= last_end and span[1] > span[0]:
                chosen.append(span)
                last_end = span[1]
        pieces: list[str] = []
        replacements: list[Replacement] = []
        position = 0
        new_position = 0
        speaker_names: dict[str, str] = {}
        for start, end, kind, key_name, participant in chosen:
            pid = participant if participant and not participant.startswith("speaker:") else None
            pseudonym = self._pseudonym(kind, key_name, pid)
            if text[start:end] not in self.key[pseudonym]["originals"]:
                self.key[pseudonym]["originals"].append(text[start:end])
            if participant and participant.startswith("speaker:"):
                self._by_original[("person", _norm(participant))] = pseudonym
            pieces.append(text[position:start])
            new_position += start - position
            pieces.append(pseudonym)
            replacements.append(Replacement(source.name, start, end, text[start:end], pseudonym, kind, new_position,
                                            new_position + len(pseudonym)))
            new_position += len(pseudonym)
            position = end
            if kind in ("participant", "person"):
                speaker_names[text[start:end]] = pseudonym
        pieces.append(text[position:])
        new_text = "".join(pieces)
        mapper = OffsetMap([(r.start, r.end, r.new_start, r.new_end) for r in replacements])
        for speaker in source.speakers:
            for label in [speaker.label, *speaker.aliases]:
                if label in speaker_names or label_shape(label) != "name":
                    continue
                pid = speaker.participant
                pseudonym = self._pseudonym("participant", label, pid) if pid or label_shape(label) == "name" else None
                if pseudonym:
                    speaker_names[label] = pseudonym

        def scrub(value: Any) -> Any:
            if isinstance(value, str):
                for original in sorted(speaker_names, key=len, reverse=True):
                    value = re.sub(rf"(?<![\w]){re.escape(original)}(?![\w])", speaker_names[original], value)
                return value
            if isinstance(value, dict):
                return {scrub(k): scrub(v) for k, v in value.items()}
            if isinstance(value, list):
                return [scrub(v) for v in value]
            return value

        def name_of(label: str | None) -> str | None:
            return None if label is None else speaker_names.get(label, label)

        segments = []
        for seg in source.segments:
            start, end = mapper.start(seg.start), mapper.end(seg.end)
            segments.append(Segment(
                source=seg.source, start=start, end=end, text=new_text[start:end], speaker=name_of(seg.speaker),
                role=seg.role, kind=seg.kind, turn=seg.turn, time_start=seg.time_start, time_end=seg.time_end,
                marks=[Mark(mapper.start(m.start), mapper.end(m.end), m.kind) for m in seg.marks],
                attributes=scrub(seg.attributes), participant=seg.participant,
            ))
        speakers = []
        for sp in source.speakers:
            label = name_of(sp.label) or sp.label
            aliases = [a for a in dict.fromkeys(name_of(a) or a for a in sp.aliases) if a != label]
            speakers.append(Speaker(label, aliases=aliases, role=sp.role, turns=sp.turns, words=sp.words,
                                    participant=sp.participant, attributes=scrub(sp.attributes)))
        offset_keys = ("label_spans", "cue_offsets")
        metadata = scrub({k: v for k, v in source.metadata.items() if k not in offset_keys})
        if "label_spans" in source.metadata:
            metadata["label_spans"] = mapper.spans(source.metadata["label_spans"])
        if "cue_offsets" in source.metadata:
            metadata["cue_offsets"] = {turn: mapper.spans(spans)
                                       for turn, spans in source.metadata["cue_offsets"].items()}
        metadata["deidentified"] = True
        report = None
        if source.import_report is not None:
            old = source.import_report
            report = ImportReport(
                source=old.source, format=old.format, encoding=old.encoding, label_style=old.label_style,
                speakers={name_of(k) or k: v for k, v in old.speakers.items()},
                proposed_merges={name_of(k) or k: name_of(v) or v for k, v in old.proposed_merges.items()},
                moderators=[name_of(m) or m for m in old.moderators], unattributed=old.unattributed,
                unattributed_examples=[_replace_all(e, replacements) for e in old.unattributed_examples],
                marks=old.marks, segments=old.segments, warnings=[scrub(w) for w in old.warnings],
            )
        new_source = Source(name=source.name, text=new_text, format=source.format, raw=None, encoding=None,
                            segments=segments, speakers=speakers, metadata=metadata, import_report=report)
        return Deidentified(new_source, replacements, self.key)


def _is_phone(candidate: str) -> bool:
    """Whether a run of digit groups is a phone number, not a year, date, amount or list of numbers.

    Example:
        >>> [_is_phone(x) for x in ("07700 900123", "5551234567", "2019 2020", "10.000.000", "1234567")]
        [True, True, False, False, False]
    """
    digits = sum(c.isdigit() for c in candidate)
    if not 7 <= digits <= 15 or _NOT_PHONE.fullmatch(candidate.strip()):
        return False
    one_group = re.fullmatch(r"\+?\d+", candidate) is not None
    return digits >= 10 if one_group else True


def _norm(name: str) -> str:
    return re.sub(r"\s+", " ", name.strip()).casefold()


def _replace_all(text: str, replacements: Sequence[Replacement]) -> str:
    for r in sorted(replacements, key=lambda r: -len(r.original)):
        text = text.replace(r.original, r.replacement)
    return text


def _variants(names: Sequence[str]) -> list[tuple[str, str]]:
    """Name variants to look for, longest first, each with the canonical (first) name as key.

    Example:
        >>> sorted(v for v, _ in _variants(["Jill Smith, MD"]) if " " not in v or "Jill" in v)
        ['Jill', 'Jill Smith', 'Jill Smith, MD', 'Smith']
    """
    canonical = names[0]
    variants: set[str] = set()
    for name in names:
        variants.add(name)
        bare = name.split(",")[0].strip()
        variants.add(bare)
        words = bare.split()
        if words and words[0].rstrip(".").casefold() in TITLES:
            words = words[1:]
        if not words:
            continue
        variants.add(" ".join(words))
        if len(words) >= 2:
            surname, first = words[-1], words[0]
            for title in ("Dr", "Dr.", "Doctor", "Prof", "Prof.", "Mr", "Mr.", "Mrs", "Mrs.", "Ms", "Ms.", "Nurse"):
                variants.add(f"{title} {surname}")
            if len(surname) >= 3:
                variants.add(surname)
            if len(first) >= 3:
                variants.add(first)
        elif len(words[0]) >= 3:
            variants.add(words[0])
    return sorted(((v, canonical) for v in variants if v), key=lambda vc: -len(vc[0]))


def deidentify(
    source: Source | str | os.PathLike[str],
    *,
    participants: ParticipantsLike | None = None,
    aliases: Mapping[str, str] | None = None,
    names: Iterable[str] = (),
    ner: bool | str = "auto",
    deidentifier: Deidentifier | None = None,
    **read_options: Any,
) -> Deidentified:
    """De-identify one source (or a transcript file, read first); see the module docstring.

    Pass the same ``deidentifier`` for several sources to keep pseudonyms consistent across them.

    Example:
        >>> from qualkit.model import Source
        >>> deidentify(Source("a.txt", "I asked Nurse Kim.", "txt"), ner=False).source.text
        'I asked [PERSON-1].'
    """
    if deidentifier is None:
        deidentifier = Deidentifier(participants=participants, aliases=aliases, names=names, ner=ner)
    if not isinstance(source, Source):
        from qualkit.ingest.transcript import read_transcript

        source = read_transcript(source, participants=deidentifier.participants or None,
                                 aliases=aliases or deidentifier.aliases or None, **read_options)
    return deidentifier.deidentify(source)
