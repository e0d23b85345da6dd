"""Chinese text for search: normalisation, runs and grams, query terms, synonyms, highlights.

Chinese has no spaces between words, so nothing here tries to find words. Text is cut
into *runs* (maximal stretches of letters and digits; everything else separates), and a
query term matches when it is a substring of a run. The database backend indexes every
run's unigrams and bigrams, which is enough to find any substring exactly: a term of one
or two characters is one gram, a longer term is a chain of overlapping bigrams.

Every function here is pure and shared by both backends, so that the database and
Elasticsearch agree on what a query means.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

SYNONYMS_PATH = Path(__file__).with_name("synonyms.txt")

MAX_QUERY_LENGTH = 100  # characters of raw input accepted at all; longer is refused (422)
MAX_TERMS = 8  # terms of one query that are matched (AND); more are dropped
MAX_TERM_LENGTH = 32  # characters of one term; longer terms are cut (nobody types a 32-character word)
MAX_VARIANTS = 8  # synonym variants of one term


def _norm_char(ch: str) -> str:
    """One character, normalised: full-width to half-width (NFKC), case folded, controls dropped."""
    if unicodedata.category(ch)[0] == "C":
        return " "
    return unicodedata.normalize("NFKC", ch).casefold()


def normalize(text: str | None) -> str:
    return "".join(_norm_char(ch) for ch in (text or ""))


def _is_word_char(ch: str) -> bool:
    return unicodedata.category(ch)[0] in "LN"


def runs(text: str | None) -> list[str]:
    """The normalised runs of ``text``: 「巫山脆李 5斤/箱」 → ["巫山脆李", "5斤", "箱"]."""
    found: list[str] = []
    current: list[str] = []
    for ch in normalize(text):
        if _is_word_char(ch):
            current.append(ch)
        elif current:
            found.append("".join(current))
            current = []
    if current:
        found.append("".join(current))
    return found


def grams(run: str) -> list[str]:
    """Unigrams and bigrams of one run, in order, duplicates kept."""
    out = list(run)
    out.extend(run[i : i + 2] for i in range(len(run) - 1))
    return out


def gram_set(texts: list[str]) -> list[str]:
    """Distinct unigrams and bigrams of every run of ``texts`` (the PostgreSQL bigram column)."""
    seen: dict[str, None] = {}
    for text in texts:
        for run in runs(text):
            for gram in grams(run):
                seen.setdefault(gram, None)
    return list(seen)


def query_grams(term: str) -> list[str]:
    """The grams that must all be present for ``term`` to be a substring: itself when short, else its bigrams."""
    if len(term) <= 2:
        return [term]
    return list(dict.fromkeys(term[i : i + 2] for i in range(len(term) - 1)))


# --- SQLite FTS5 encoding ---------------------------------------------------------------------
# FTS5's unicode61 tokenizer would split or merge Chinese text its own way. Each gram is
# therefore written as an opaque token of hex digits (six per character), so that FTS5
# indexes exactly our grams: a run becomes its bigrams in order followed by its last
# character, and a phrase of consecutive bigram tokens matches exactly a substring.


def _hex(chars: str) -> str:
    return "".join(f"{ord(c):06x}" for c in chars)


def fts_text(texts: list[str]) -> str:
    tokens: list[str] = []
    for text in texts:
        for run in runs(text):
            tokens.extend(_hex(run[i : i + 2]) for i in range(len(run) - 1))
            tokens.append(_hex(run[-1]))
    return " ".join(tokens)


def fts_term(term: str) -> str:
    """An FTS5 query matching runs that contain ``term``.

    One character: any token that starts with it (every character of a run starts a
    bigram or is the run's last character). Longer: the phrase of its bigrams.
    """
    if len(term) == 1:
        return f"{_hex(term)}*"
    return '"' + " ".join(_hex(term[i : i + 2]) for i in range(len(term) - 1)) + '"'


# --- Queries and synonyms ---------------------------------------------------------------------


@dataclass(frozen=True)
class Term:
    text: str
    variants: tuple[str, ...]  # text first, then its synonym variants


def parse_terms(raw: str | None) -> list[Term]:
    """Terms of a user query, with synonyms. Query-language characters carry no meaning:
    quotes, ``*``, ``:`` , brackets, ``AND``/``OR`` … are separators or plain words."""
    out: list[Term] = []
    seen: set[str] = set()
    for run in runs(raw):
        term = run[:MAX_TERM_LENGTH]
        if term in seen:
            continue
        seen.add(term)
        out.append(Term(term, expand(term)))
        if len(out) == MAX_TERMS:
            break
    return out


@lru_cache(maxsize=1)
def synonym_groups() -> tuple[tuple[str, ...], ...]:
    """The groups of ``synonyms.txt``, normalised (lines starting with # are comments)."""
    groups = []
    for line in SYNONYMS_PATH.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        words = tuple(dict.fromkeys(w for w in (normalize(x).strip() for x in line.split(",")) if w))
        if len(words) > 1:
            groups.append(words)
    return tuple(groups)


def synonym_lines() -> list[str]:
    """The groups as Elasticsearch synonym rules ("番茄,西红柿")."""
    return [",".join(group) for group in synonym_groups()]


def expand(term: str) -> tuple[str, ...]:
    """``term`` and the terms made by replacing a synonym inside it: 土豆 → 土豆, 马铃薯, 洋芋;
    鲁渝番茄 → 鲁渝番茄, 鲁渝西红柿."""
    variants: dict[str, None] = {term: None}
    for group in synonym_groups():
        for word in group:
            if word in term:
                for other in group:
                    if other != word:
                        variants.setdefault(term.replace(word, other), None)
    return tuple(list(variants)[:MAX_VARIANTS])


# --- Highlights --------------------------------------------------------------------------------


def highlight(text: str | None, needles: list[str], *, limit: int | None = None) -> list[dict]:
    """``text`` cut into segments ``{"text": ..., "match": bool}``, matching any of ``needles``.

    Matching is done on the normalised text, and the segments are cut from the original
    (normalisation here is per character, so positions map one to one). Segments are plain
    text: templates escape them and mark the matches, so nothing here produces HTML.
    With ``limit``, a long text is cut to about ``limit`` characters around the first match.
    """
    text = text or ""
    norm_parts = [_norm_char(ch) for ch in text]
    # Map every position of the normalised string back to its original character.
    owner: list[int] = []
    for index, part in enumerate(norm_parts):
        owner.extend([index] * len(part))
    norm = "".join(norm_parts)
    marked = [False] * len(text)
    for needle in sorted({n for n in needles if n}, key=len, reverse=True):
        start = norm.find(needle)
        while start != -1:
            for pos in range(start, start + len(needle)):
                marked[owner[pos]] = True
            start = norm.find(needle, start + len(needle))
    begin, end = 0, len(text)
    if limit is not None and len(text) > limit:
        first = marked.index(True) if any(marked) else 0
        begin = max(0, min(first - limit // 4, len(text) - limit))
        end = begin + limit
    segments: list[dict] = []
    if begin > 0:
        segments.append({"text": "…", "match": False})
    for index in range(begin, end):
        if segments and segments[-1]["match"] == marked[index] and segments[-1]["text"] != "…":
            segments[-1]["text"] += text[index]
        else:
            segments.append({"text": text[index], "match": marked[index]})
    if end < len(text):
        segments.append({"text": "…", "match": False})
    return segments


def overlap(query: str, candidate: str) -> float:
    """Share of the query's unigrams and bigrams found in ``candidate`` (0 … 1), for "did you mean"."""
    wanted = set(grams(query))
    if not wanted:
        return 0.0
    return len(wanted & set(gram_set([candidate]))) / len(wanted)
