"""Speaker labels: recognising them, telling them from look-alikes, legends, aliases and roles.

Label styles recognised at the start of a line (after optional indentation)::

    colon        Name:  NAME:  Dr Name:  Name, MD:  I:  R:  I1:  P3:  Speaker 2:
    bold         **Name:**  **Name**:
    bracket      [Name]  [Name]:  [Name] 00:01:02
    name_time    Name (00:01:02):  Name [00:01:02]
    colon_time   Name: (00:01:02)  Name: [00:01:02]      (Rev: the time belongs to the label)
    name_time_bare  Name 00:01:02 words  (hours written, so ``At 10:30 we met`` stays talk)
    time_name    00:01:02 Name:  [00:01:02] Name:  (00:01:02) Name:
    time_bracket (00:01:02) [Name]  [00:01:02] [Name]:
    dash         R1 - ...  INT – ...  (a role or code, or a known speaker, then a spaced dash)
    star_time    *1:40 = I1:
    header_line  Name  00:01:02          (Otter-style: the words follow on the next lines)

A candidate is only a label when it is *shaped* like one (:func:`label_shape`: a short name, with
optional title and credentials, or a role/code such as ``Interviewer``, ``I1``, ``P3``) and *behaves*
like one (:func:`accept_labels`: it recurs, or it is known from the legend/participants/aliases, or it
sits in a file whose labels follow the same style and it looks like a proper name). ``Note: ...`` and
other heading words are never labels.

Aliases (:func:`resolve_speakers`): labels are merged when they are the same name written differently
(case, title, credentials, punctuation), when a surname, first name or initials match exactly one
fuller label, or when they match the same participant. The user's alias map wins; mapping a label to
itself keeps it apart.

Example:
    >>> label_shape("Jill Smith, MD"), label_shape("I1"), label_shape("Note")
    ('name', 'role', None)
    >>> name_key("Dr. SMITH"), name_key("Jill Smith, MD")
    ('smith', 'jill smith')
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field

from qualkit.ingest.marks import TIMESTAMP, is_mark_word

TITLES = frozenset({"dr", "doctor", "prof", "professor", "mr", "mrs", "ms", "mx", "miss", "sr", "sister", "rev",
                    "nurse", "dame", "sir", "drs", "mme", "mlle", "frau", "herr", "fr"})
CREDENTIAL = re.compile(
    r"(?:[A-Z][A-Za-z]{0,5}(?:[-.][A-Za-z]{1,4})*\.?|[A-Z]\.(?:[A-Z]\.)+)"
)
PARTICLES = frozenset({"de", "da", "di", "do", "dos", "das", "del", "della", "der", "den", "van", "von", "la",
                       "le", "du", "bin", "binti", "al", "el", "ten", "ter", "y", "e", "af", "zu", "st"})
MODERATOR_WORDS = frozenset({
    "moderator", "mod", "interviewer", "int", "facilitator", "host", "cohost", "co-host", "researcher", "chair",
    "i", "q", "question", "questioner", "comoderator", "co-moderator", "assistant moderator", "note taker",
    "notetaker", "note-taker", "observer", "research assistant", "ra", "investigator", "fac", "mod.",
    "interviewer/moderator", "study team", "research team", "presenter", "anchor",
})
ROLE_WORDS = MODERATOR_WORDS | frozenset({
    "respondent", "participant", "interviewee", "speaker", "person", "voice", "unknown", "unknown speaker",
    "unidentified", "unidentified speaker", "man", "woman", "male", "female", "nurse", "doctor", "resident",
    "student", "caller", "guest", "audience", "audience member", "member", "all", "group", "several",
    "multiple", "everyone", "r", "a", "p", "m", "f", "answer", "clinician", "physician", "attending",
    "patient", "carer", "caregiver", "staff", "pharmacist", "therapist", "consultant", "registrar",
})
# First words that make a "Word:" a heading or metadata, never a speaker.
STOP_WORDS = frozenset({
    "note", "notes", "nb", "n.b", "ps", "p.s", "date", "dates", "time", "times", "duration", "length",
    "location", "place", "venue", "setting", "transcript", "transcription", "transcribed", "transcriber",
    "recording", "recorded", "audio", "video", "file", "filename", "session", "sessions", "focus", "title",
    "subject", "topic", "topics", "theme", "themes", "tags", "tag", "category", "categories", "source",
    "sources", "posted", "published", "updated", "edited", "edit", "update", "warning", "caution", "example",
    "examples", "summary", "abstract", "keywords", "links", "link", "url", "website", "web", "email",
    "e-mail", "phone", "tel", "telephone", "fax", "address", "share", "follow", "listen", "subscribe",
    "download", "related", "menu", "home", "search", "comments", "comment", "reply", "copyright",
    "disclaimer", "privacy", "terms", "cookies", "cookie", "notice", "language", "words", "attendees",
    "present", "absent", "apologies", "participants", "speakers", "key", "legend", "codes", "instructions",
    "instruction", "purpose", "aim", "aims", "objective", "objectives", "background", "introduction",
    "conclusion", "agenda", "total", "version", "status", "project", "study", "protocol", "site",
    "department", "ward", "pages", "page", "part", "section", "chapter", "episode", "season", "figure",
    "table", "slide", "step", "task", "exercise", "scenario", "vignette", "prompt", "probe", "probes",
    "item", "items", "re", "fw", "fwd", "cc", "bcc", "from", "to", "sent", "via", "http", "https", "ftp",
    "mailto", "www", "tip", "tips", "hint", "important", "reminder", "todo", "fixme", "definition",
    "definitions", "context", "description", "question", "questions", "answers", "response", "responses",
    "feedback", "result", "results", "findings", "finding", "quote", "quotes", "end", "start", "begin",
    "beginning", "break", "intro", "outro", "credits", "sponsor", "sponsors", "ad", "advertisement",
    "chapters", "timestamps", "show", "guests", "hosts", "produced", "producer", "editor", "music",
    "artwork", "transcripts", "contents", "content", "index", "appendix", "reference", "references",
    "yes", "no", "ok", "okay", "well", "so", "and", "but", "or", "because", "also", "plus", "then", "now",
    "first", "second", "third", "finally", "lastly", "anyway", "honestly", "basically", "actually",
    "exactly", "absolutely", "right", "sure", "true", "false", "like", "um", "uh", "hmm", "mm", "oh", "ah",
    "yeah", "yep", "nope", "thanks", "thank", "sorry", "please", "hello", "hi", "hey", "welcome", "bottom",
    "problem", "problems", "solution", "reason", "reasons", "point", "points", "lesson", "lessons",
    "translation", "translated", "original", "interpretation", "caption", "captions", "subtitle",
    # days, months and other words people list things under ("Monday: nights. / Tuesday: days.")
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "mondays", "tuesdays",
    "wednesdays", "thursdays", "fridays", "saturdays", "sundays", "january", "february", "march", "july",
    "september", "october", "november", "december", "today", "tomorrow", "yesterday", "tonight", "morning",
    "mornings", "afternoon", "afternoons", "evening", "evenings", "night", "nights", "days", "weekday",
    "weekdays", "weekend", "weekends", "week", "weeks", "month", "months", "year", "years", "before", "after",
    "during", "later", "earlier", "pros", "cons", "pro", "con", "advantages", "disadvantages", "benefits",
    "drawbacks", "downsides", "upsides", "positives", "negatives", "strengths", "weaknesses", "likes",
    "dislikes", "good", "bad", "option", "options", "plan", "plans", "goal", "goals", "issue", "issues",
})
# Words that make a capitalised "Two Words:" a heading wherever they stand ("Disclosure Statement:",
# "Conflicts of Interest:", "Author Bio:", "Show Notes:"): nobody is named so.
HEADING_WORDS = frozenset({
    "statement", "statements", "disclosure", "disclosures", "acknowledgement", "acknowledgements",
    "acknowledgment", "acknowledgments", "funding", "conflict", "conflicts", "interests", "competing",
    "declaration", "declarations", "disclaimer", "disclaimers", "information", "info", "details", "policy",
    "credits", "bio", "bios", "biography", "references", "citation", "citations", "licence", "license",
    "copyright", "affiliation", "affiliations", "correspondence", "contributors", "contribution",
    "contributions", "notes", "transcript", "transcription", "episode", "summary", "keywords", "abstract",
    "footnote", "footnotes", "resources", "links", "contact", "availability", "approval",
    "consent", "ethics", "permissions", "sponsorship", "advertisement", "newsletter", "subscription",
    "standards", "editorial", "correction", "corrections", "methodology", "methods", "sources", "glossary",
})
# Months that are also given names: not labels on their own unless the participants or aliases name them.
CALENDAR_NAMES = frozenset({"april", "may", "june", "august"})
# "Section 2", "Question 4", "Part II": headings, even though "Speaker 2" has the same shape.
NUMBERED_HEADING = re.compile(
    r"(?:part|section|chapter|question|q|topic|theme|item|step|task|page|episode|figure|table|slide|exercise|"
    r"scenario|vignette|prompt|probe|case|day|week|session|round|block|module|unit|phase|stage|appendix|"
    r"focus group|group|fg)\s*(?:\d+|[ivxlc]+)[a-z]?(?:\.\d+)*",
    re.IGNORECASE,
)
_ROLE_CODE = re.compile(r"[A-Z]{1,3}(?:\d{1,3}[a-z]?)?|[A-Z]{1,3}-\d{1,3}")
_ROLE_NUMBERED = re.compile(r"(?P<word>[^\W\d_][\w/-]*(?:\s[^\W\d_][\w-]*)?)\s?(?:\d{1,3}|[A-Z])", re.UNICODE)
_NAME_TOKEN = re.compile(r"(?:[^\W\d_][\w'’\-]*\.?|[^\W\d_]\.)", re.UNICODE)
_DISCOURSE = frozenset({"i", "i'm", "im", "we", "you", "me", "my", "our", "us", "let's", "lets", "it's", "i've",
                        "yeah", "yes", "okay", "ok", "so", "well", "um", "uh", "thanks", "thank", "hi", "hello",
                        "welcome", "good", "great", "sure", "right", "they", "he", "she", "it", "is", "was",
                        "are", "were", "do", "did", "have", "had", "think", "just", "really", "that", "this"})

# ---------------------------------------------------------------- label styles
_NAME = r"(?P<label>[^\W\d_][^:\r\n\[\]()*=<>{}\t|]{0,60}?)"
_TS = rf"(?P<time>{TIMESTAMP})"
# A star marker's time is often written short (``*0:0 = I1:``, ``*1:5 = R:``): one-digit seconds allowed.
_STAR_TS = r"(?P<time>(?:\d{1,2}:)?\d{1,2}:\d{1,2}(?:[.,]\d{1,3})?)"
_STYLES: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (style, re.compile(r"[ \t]*" + pattern, re.UNICODE))
    for style, pattern in (
        ("star_time", rf"\*{_STAR_TS}\s*=\s*{_NAME}\s*:[ \t]*"),
        ("time_bracket", rf"(?:\[{_TS}\]|\((?P<time2>{TIMESTAMP})\)|(?P<time3>{TIMESTAMP}))"
                         rf"[ \t]*\[{_NAME}\][ \t]*(?::[ \t]*)?"),
        ("time_name", rf"(?:\[{_TS}\]|\((?P<time2>{TIMESTAMP})\)|(?P<time3>{TIMESTAMP}))"
                      rf"[ \t]*(?:[-–—][ \t]*)?{_NAME}[ \t]*:[ \t]*"),
        ("bold", rf"\*\*{_NAME}[ \t]*(?::[ \t]*\*\*|\*\*[ \t]*:)[ \t]*"),
        ("name_time", rf"{_NAME}[ \t]+[\[(]{_TS}[\])][ \t]*(?::[ \t]*|$)"),
        ("header_line", rf"\[?{_NAME}\]?[ \t]{{1,}}{_TS}[ \t]*$"),
        # Rev and similar services write the time after the name on the same line, the talk following on it
        # or on the next line: "Ann 00:03:12 Tired." (hours required, so "At 10:30 we met" stays talk).
        ("name_time_bare", rf"\[?{_NAME}\]?[ \t]+(?P<time>\d{{1,2}}:\d{{2}}:\d{{2}}(?:[.,]\d{{1,3}})?)[ \t]+(?=\S)"),
        ("bracket", rf"\[{_NAME}\][ \t]*(?::[ \t]*)?(?:{_TS}[ \t]*)?"),
        # "Ann: (00:03)" (Rev): the time belongs to the label, not to the talk.
        ("colon_time", rf"{_NAME}[ \t]*:[ \t]*[\[(]{_TS}[\])](?:[ \t]*:)?[ \t]*"),
        ("colon", rf"{_NAME}[ \t]*:[ \t]*"),
        # "Helen (facilitator): ..." names the speaker and, in brackets, their part in the session.
        ("name_note", rf"{_NAME}[ \t]+\((?P<note>[^()\r\n:]{{1,30}})\)[ \t]*:[ \t]*"),
        # "R1 - I chart at home." A spaced dash follows a role or code (two characters at least: "I - I mean"
        # is a stammer) or a speaker known from the participants; "Well - ..." and names are left as talk.
        ("dash", rf"{_NAME}[ \t]+[-–—][ \t]+"),
    )
)
STYLE_NAMES = tuple(style for style, _ in _STYLES)


@dataclass(slots=True)
class Candidate:
    """A possible speaker label at the start of a line.

    ``prefix_start``/``prefix_end`` are offsets into the line of the whole label (timestamp and
    punctuation included, following spaces excluded from the start but consumed at the end).

    Example:
        >>> find_candidate("[00:01:02] Ann: hi").label
        'Ann'
    """

    style: str
    label: str
    prefix_start: int
    prefix_end: int
    time: float | None = None
    shape: str | None = None
    variant: str | None = None  # how the style is written, for the report (``time_name_bracket``)


def parse_time(value: str | None) -> float | None:
    """Seconds from ``1:40``, ``00:01:02``, ``00:01:02.500``, ``00:01:02,500`` or ``0:0``; None when not a time.

    Example:
        >>> parse_time("01:02:03,5"), parse_time("0:0")
        (3723.5, 0.0)
    """
    if not value:
        return None
    match = re.fullmatch(r"\s*(?:(\d{1,2}):)?(\d{1,2}):(\d{1,2})(?:[.,](\d{1,3}))?\s*", value)
    if not match:
        return None
    hours, minutes, seconds, fraction = match.groups()
    total = int(hours or 0) * 3600 + int(minutes) * 60 + int(seconds)
    if fraction:
        total += int(fraction) / 10 ** len(fraction)
    return float(total)


def find_candidate(line: str, known: Collection[str] = ()) -> Candidate | None:
    """The first label-shaped candidate at the start of ``line`` over all styles, or None.

    ``known`` holds :func:`label_key` values that are speakers for sure: such a label is taken whatever its
    shape (``helen:`` in a file where Helen speaks, or is a participant), not only a capitalised name.

    Example:
        >>> c = find_candidate("Jill Smith, MD (00:01:02): Exhausted.")
        >>> (c.style, c.label, c.time, line_rest := "Jill Smith, MD (00:01:02): Exhausted."[c.prefix_end:])
        ('name_time', 'Jill Smith, MD', 62.0, 'Exhausted.')
    """
    if not line or len(line) - len(line.lstrip()) > 12:
        return None
    first = line.lstrip()[:1]
    if not first or not (first.isalpha() or first in "[(*" or first.isdigit()):
        return None
    for style, pattern in _STYLES:
        match = pattern.match(line)
        if not match:
            continue
        label = _clean_label(match.group("label"))
        shape = label_shape(label)
        if shape is None and label_key(label) in known:
            shape = "name"
        if shape is None:
            continue
        if style == "dash" and label_key(label) not in known and (shape != "role" or len(label) < 2):
            continue
        groups = match.groupdict()
        time = parse_time(groups.get("time") or groups.get("time2") or groups.get("time3"))
        prefix_start = len(line) - len(line.lstrip(" \t"))
        end = match.end()
        variant = None
        if style == "time_name":
            variant = "time_name_bracket" if groups.get("time") else "time_name_paren" if groups.get("time2") else None
        return Candidate(style, label, prefix_start, end, time, shape, variant)
    return None


_HEADING_COLON = re.compile(r"[ \t]*(?:\*\*)?(?P<head>[^\W\d_][\w'’-]*(?:[ \t]+[\w'’-]+){0,4})[ \t]*:(?:\*\*)?(?:[ \t]|$)")


def heading_label(line: str) -> bool:
    """True when ``line`` opens with a heading followed by a colon (``Disclosure Statement:``, ``Note:``).

    Such a line after the conversation is a page's footer, not a speaker.

    Example:
        >>> heading_label("Disclosure Statement: The author has no conflicts."), heading_label("Ann: Hi")
        (True, False)
    """
    match = _HEADING_COLON.match(line)
    if match is None:
        return False
    words = match.group("head").split()
    if not words[0][:1].isupper():
        return False
    folded = [w.casefold().rstrip(".") for w in words]
    return folded[0] in STOP_WORDS or any(w in HEADING_WORDS for w in folded)


def _clean_label(label: str) -> str:
    return re.sub(r"\s+", " ", label.strip().strip("*_").strip())


def label_end(line: str, candidate: Candidate) -> int:
    """Offset in ``line`` where the label prefix ends, excluding the spaces that follow it.

    Example:
        >>> line = "Ann:   hi"
        >>> line[: label_end(line, find_candidate(line))]
        'Ann:'
    """
    return len(line[: candidate.prefix_end].rstrip(" \t"))


def label_shape(label: str) -> str | None:
    """``"role"`` (Moderator, I1, P3, Speaker 2), ``"name"`` (Jill Smith, MD; Dr Okafor) or None.

    Example:
        >>> [label_shape(x) for x in ("P3", "Dr. Ana de la Cruz", "Section 2", "honestly", "Crosstalk")]
        ['role', 'name', None, None, None]
    """
    # Judged in composed form: a name typed on a Mac or copied from a PDF ("Jose" + combining accent) is the
    # same name, and the combining mark is no word character to the patterns below. Offsets are untouched.
    label = unicodedata.normalize("NFC", label.strip())
    if not label or len(label) > 48 or "  " in label:
        return None
    lowered = label.casefold()
    if is_mark_word(label) or NUMBERED_HEADING.fullmatch(label):
        return None
    name_part, *credentials = [part.strip() for part in label.split(",")]
    if not name_part or any(not CREDENTIAL.fullmatch(c) for c in credentials) or len(credentials) > 3:
        return None
    words = name_part.split()
    first = words[0].casefold().rstrip(".")
    if first in STOP_WORDS and lowered.rstrip(".") not in ROLE_WORDS:
        return None
    if lowered in ROLE_WORDS or name_part.casefold() in ROLE_WORDS:
        return "role"
    if _ROLE_CODE.fullmatch(name_part):
        return "role"
    numbered = _ROLE_NUMBERED.fullmatch(name_part)
    if numbered and numbered.group("word").casefold() in ROLE_WORDS:
        return "role"
    if len(words) > 5 or any(word.casefold().rstrip(".") in HEADING_WORDS for word in words):
        return None
    capitalised = 0
    for index, word in enumerate(words):
        bare = word.rstrip(".")
        if index == 0 and bare.casefold() in TITLES:
            capitalised += 1
            continue
        if bare.casefold() in PARTICLES and index > 0:
            continue
        if not _NAME_TOKEN.fullmatch(word) or word[0].islower():
            return None
        capitalised += 1
    if capitalised == 0:
        return None
    return "name"


def is_moderator_label(label: str) -> bool:
    """True for labels that name the moderator/interviewer role (``Moderator``, ``Interviewer 2``, ``I``, ``I1``).

    Example:
        >>> is_moderator_label("I1"), is_moderator_label("Interviewer"), is_moderator_label("P1")
        (True, True, False)
    """
    lowered = re.sub(r"\s+", " ", label.strip().casefold())
    if lowered in MODERATOR_WORDS:
        return True
    bare = re.sub(r"[\s-]*(\d{1,3}|[a-z])$", "", lowered)
    if bare in MODERATOR_WORDS and bare not in {"q"}:
        return True
    return bool(re.fullmatch(r"(?:i|int|mod|fac)\s?-?\d{1,2}", lowered))


def mentions_moderator(description: str) -> bool:
    """True when a legend description names the moderator role (``Interviewer 1``, ``facilitator (RN)``).

    Example:
        >>> mentions_moderator("Interviewer 1"), mentions_moderator("nurse, 12 years")
        (True, False)
    """
    words = set(re.findall(r"[\w-]+", description.casefold()))
    return bool(words & {"moderator", "interviewer", "facilitator", "host", "researcher", "co-moderator",
                         "comoderator", "notetaker", "observer", "investigator"})


# ---------------------------------------------------------------- keys and aliases
def _strip_accents(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def label_key(label: str) -> str:
    """The label as written, case-folded with spaces collapsed: the key for counting recurrences.

    Example:
        >>> label_key("  JILL   Smith ")
        'jill smith'
    """
    return re.sub(r"\s+", " ", label.strip()).casefold()


def name_key(label: str) -> str:
    """A label without case, accents, titles, credentials and punctuation: ``Dr. SMITH`` → ``smith``.

    Example:
        >>> name_key("Prof. José  Núñez, PhD")
        'jose nunez'
        >>> name_key("Mary O’Neil") == name_key("Mary O'Neil")
        True
    """
    name_part = re.sub(r"[’‘ʼ`´]", "'", label.split(",")[0])  # O’Neil and O'Neil: one person, two keyboards
    words = [w.strip(".'") for w in _strip_accents(name_part).casefold().replace("-", " ").split()]
    while len(words) > 1 and words[0] in TITLES:
        words = words[1:]
    return " ".join(w for w in words if w)


def _initials(key: str) -> str:
    return "".join(word[0] for word in key.split() if word)


def propose_merges(labels: Iterable[str], *, keep_apart: Iterable[str] = ()) -> dict[str, str]:
    """Propose alias → canonical merges among one file's labels (same person written differently).

    Rules, in order: the same label but for case and spacing (``MODERATOR``/``Moderator``); the same
    :func:`name_key` (title, credential and punctuation variants); a one-word key equal to the surname
    or first name of exactly one fuller label; initials (``JS``, ``J. Smith``) matching exactly one
    fuller label. Role labels (``Moderator``, ``P3``) merge only with their case variants. The
    canonical label is the fullest form (most words, then credentials, then mixed case).

    Example:
        >>> sorted(propose_merges(["Jill Smith, MD", "Dr Smith", "Ben Ode", "BEN ODE", "MODERATOR", "Moderator"]).items())
        [('BEN ODE', 'Ben Ode'), ('Dr Smith', 'Jill Smith, MD'), ('MODERATOR', 'Moderator')]
    """
    keep = set(keep_apart)
    labels = list(dict.fromkeys(labels))
    # Everything below is linear in the number of labels: keys computed once, matches found in indexes.
    position = {label: index for index, label in enumerate(labels)}
    keys = {label: name_key(label) for label in labels}

    def fullness(label: str) -> tuple[int, int, int, int]:
        return (len(keys[label].split()), label.count(","), int(not label.isupper()), -position[label])

    merges: dict[str, str] = {}
    by_case: dict[str, list[str]] = {}
    for label in labels:
        if label not in keep:
            by_case.setdefault(label_key(label), []).append(label)
    for group in by_case.values():
        best = max(group, key=fullness)
        for label in group:
            if label != best:
                merges[label] = best
    named = [label for label in labels if label not in keep and label not in merges
             and (label_shape(label) == "name" or re.fullmatch(r"[A-Z]{2,3}", label))]
    by_key: dict[str, list[str]] = {}
    for label in named:
        by_key.setdefault(keys[label], []).append(label)
    canonical_of_key = {key: max(group, key=fullness) for key, group in by_key.items()}
    for group in by_key.values():
        best = canonical_of_key[keys[group[0]]]
        for label in group:
            if label != best:
                merges[label] = best
    full_keys = [key for key in canonical_of_key if len(key.split()) >= 2 and len(key.split()[0]) > 1]
    by_word: dict[str, list[str]] = {}  # first or last word -> full keys
    by_initials: dict[str, list[str]] = {}  # "js" -> full keys
    by_initials_last: dict[tuple[str, str], list[str]] = {}  # ("j", "smith") -> full keys
    for key in full_keys:
        words = key.split()
        for word in dict.fromkeys((words[-1], words[0])):
            by_word.setdefault(word, []).append(key)
        by_initials.setdefault(_initials(key), []).append(key)
        by_initials_last.setdefault((_initials(key)[:-1], words[-1]), []).append(key)
    for key in canonical_of_key:
        words = key.split()
        if len(words) == 1:
            word = words[0]
            matches = by_word.get(word, [])
            if len(matches) != 1 and len(word) in (2, 3):
                matches = by_initials.get(word, [])
        elif len(words) >= 2 and all(len(w) == 1 for w in words[:-1]):  # "J. Smith", "J S"
            matches = [k for k in by_initials_last.get(("".join(words[:-1]), words[-1]), []) if k != key]
            if not matches and all(len(w) == 1 for w in words):
                matches = [k for k in by_initials.get("".join(words), []) if k != key]
        else:
            continue
        if len(matches) == 1:
            target = canonical_of_key[matches[0]]
            for label in by_key[key]:
                merges[label] = target
    for label, target in merges.items():  # a case variant follows its group into a merge
        merges[label] = merges.get(target, target)
    return merges


@dataclass(slots=True)
class Resolution:
    """How each label as written maps to a canonical speaker, and why.

    Example:
        >>> Resolution({"Dr Smith": "Jill Smith"}, {"Dr Smith": "Jill Smith"}).canonical["Dr Smith"]
        'Jill Smith'
    """

    canonical: dict[str, str]
    proposed: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def resolve_speakers(
    labels: Iterable[str],
    *,
    aliases: Mapping[str, str] | None = None,
    participant_of: Mapping[str, str] | None = None,
    preferred: Mapping[str, str] | None = None,
    merge: bool = True,
) -> Resolution:
    """Map every label to its canonical speaker: user aliases first, then shared participants, then proposals.

    ``participant_of`` maps a label to the participant it matched; labels that matched the same
    participant become one speaker named ``preferred[participant]`` (its pseudonym) when that is one of
    the labels, else the fullest label. Proposed merges never join two different participants. With
    ``merge=False`` proposals are only reported.

    Example:
        >>> resolve_speakers(["Jill Smith", "Dr Smith"], aliases={"Dr Smith": "Dr Smith"}).canonical
        {'Jill Smith': 'Jill Smith', 'Dr Smith': 'Dr Smith'}
    """
    labels = list(dict.fromkeys(labels))
    aliases = dict(aliases or {})
    participant_of = dict(participant_of or {})
    preferred = dict(preferred or {})
    canonical = {label: label for label in labels}
    explicit = set()
    lowered = {label_key(k): v for k, v in aliases.items()}
    for label in labels:
        target = aliases.get(label)
        if target is None:
            target = lowered.get(label_key(label))
        if target is not None:
            canonical[label] = target
            explicit.add(label)
    groups: dict[str, list[str]] = {}
    for label in labels:
        if label not in explicit and label in participant_of:
            groups.setdefault(participant_of[label], []).append(label)
    for participant, group in groups.items():
        pseudonym = preferred.get(participant)
        target = pseudonym if pseudonym in group else max(group, key=lambda x: (len(name_key(x).split()), len(x)))
        for label in group:
            canonical[label] = target
    free = [label for label in labels if label not in explicit]
    proposed: dict[str, str] = {}
    members: dict[str, list[str]] = {}  # speaker -> the free labels now read as that speaker
    for label in free:
        members.setdefault(canonical[label], []).append(label)
    for alias, target in propose_merges(free, keep_apart=[k for k, v in aliases.items() if k == v]).items():
        alias_p, target_p = participant_of.get(alias), participant_of.get(target)
        if alias_p is not None and target_p is not None:
            continue  # both matched participants: those matches decide
        final_target = canonical[target]
        current = canonical[alias]
        if final_target == current:
            continue
        proposed[alias] = final_target
        if merge:
            moved = members.pop(current, [])
            for label in moved:
                canonical[label] = final_target
            members.setdefault(final_target, []).extend(moved)
    return Resolution(canonical, proposed)


def count_keys(labels: Iterable[str]) -> Counter[str]:
    """Occurrences per :func:`label_key`.

    Example:
        >>> count_keys(["Ann", "ANN", "Bo"])["ann"]
        2
    """
    return Counter(label_key(label) for label in labels)


def looks_like_description(text: str) -> bool:
    """True for a legend description (``Interviewer 1``, ``nurse, 12 years``), not a line of talk.

    Example:
        >>> looks_like_description("nurse, 12 years"), looks_like_description("Well, I think so.")
        (True, False)
    """
    stripped = text.strip()
    if not stripped or len(stripped) > 80 or stripped[-1] in ".?!…:;\"”" or "?" in stripped:
        return False
    words = re.findall(r"[\w'’]+", stripped.casefold())
    if not words or len(words) > 8:
        return False
    return not any(w in _DISCOURSE for w in words)
