"""An English-French corpus built offline from real locale data: Unicode CLDR through Babel (dates,
amounts of money, units, territory and language names) and num2words (numbers in words).

Slot values (a date, an amount, a country...) are rendered by CLDR in each language and placed in
bilingual sentence frames; sentences join 1 to `max_clauses` clauses. Every slot value is assigned to
train or test by a hash of its English text, and a sentence only uses values of its own split, so no
test phrase ever occurs in training. The reorderings Bahdanau et al. show are all here: "November 22,
2026" -> "22 novembre 2026", "€12.50" -> "12,50 €", "US dollars" -> "dollars des États-Unis".
"""

from __future__ import annotations

import datetime as dt
import random
import re
import zlib
from functools import lru_cache

CURRENCIES = ("EUR", "USD", "GBP", "JPY", "CHF", "CAD", "AUD", "CNY", "INR", "BRL")
UNITS = (
    "length-kilometer",
    "length-meter",
    "length-centimeter",
    "mass-kilogram",
    "mass-gram",
    "duration-hour",
    "duration-minute",
    "duration-day",
    "volume-liter",
    "speed-kilometer-per-hour",
)

# (English, French) frames. Slots: {date} {weekday} {money} {unit} {territory} {language} {number}
FRAMES = (
    ("{date}", "{date}"),
    ("{money}", "{money}"),
    ("{territory} paid {money} on {date}", "{territory} a payé {money} le {date}"),
    ("the distance is {unit}", "la distance est de {unit}"),
    ("the price is {money}", "le prix est de {money}"),
    ("{number} people speak {language}", "{number} personnes parlent {language}"),
    ("we met on {weekday} , {date}", "nous nous sommes vus le {weekday} {date}"),
    ("{territory} sold {unit} of rice for {money}", "{territory} a vendu {unit} de riz pour {money}"),
    ("the report on {territory} is in {language}", "le rapport sur {territory} est en {language}"),
    ("it took {unit}", "cela a pris {unit}"),
)
SPLITS = ("train", "test")


def tokenize(text: str) -> list[str]:
    """Words, single digits and punctuation marks; CLDR's narrow and no-break spaces are spaces."""
    text = text.replace("\u202f", " ").replace("\xa0", " ").lower()
    return re.findall(r"\d|[^\W\d_]+|[^\w\s]", text)


def split_of(english: str, test_share: int = 5) -> str:
    """A slot value's split, fixed by its English text: 1 in `test_share` goes to test."""
    return "test" if zlib.crc32(english.encode()) % test_share == 0 else "train"


@lru_cache(maxsize=None)
def _names():
    from babel import Locale

    en, fr = Locale("en"), Locale("fr")
    territories = sorted(
        (en.territories[c], fr.territories[c])
        for c in en.territories
        if len(c) == 2 and c.isalpha() and c in fr.territories
    )
    languages = sorted((en.languages[c], fr.languages[c]) for c in en.languages if len(c) == 2 and c in fr.languages)
    return territories, languages


def _slot(kind: str, rng: random.Random, date=None):
    from babel.dates import format_date
    from babel.numbers import format_currency
    from babel.units import format_unit
    from num2words import num2words

    if kind == "date":
        return format_date(date, "long", locale="en"), format_date(date, "long", locale="fr")
    if kind == "weekday":
        return format_date(date, "EEEE", locale="en"), format_date(date, "EEEE", locale="fr")
    if kind == "money":
        amount = round(rng.uniform(1, 5000), rng.choice((0, 2)))
        cur, style = rng.choice(CURRENCIES), rng.choice(("standard", "name"))
        return tuple(format_currency(amount, cur, locale=loc, format_type=style) for loc in ("en", "fr"))
    if kind == "unit":
        value, unit = rng.choice((rng.randint(2, 999), round(rng.uniform(2, 100), 1))), rng.choice(UNITS)
        return tuple(format_unit(value, unit, length="long", locale=loc) for loc in ("en", "fr"))
    if kind == "number":
        n = rng.randint(2, 9999)
        return num2words(n, lang="en"), num2words(n, lang="fr")
    territories, languages = _names()
    return rng.choice(territories if kind == "territory" else languages)


def _clause(rng: random.Random, split: str, tries: int = 1000):
    """One clause whose slot values all belong to `split` (each value drawn until it does)."""
    en_frame, fr_frame = rng.choice(FRAMES)
    values, date = {}, None
    for kind in re.findall(r"\{(\w+)\}", en_frame):
        for _ in range(tries):
            if kind in ("date", "weekday") and date is None:
                date = dt.date(1900, 1, 1) + dt.timedelta(days=rng.randrange(200 * 365))
                if split_of(_slot("date", rng, date)[0]) != split:
                    date = None
                    continue
            value = _slot(kind, rng, date)
            # Weekday names are a closed class, like the frames' own words: in both splits.
            if kind == "weekday" or split_of(value[0]) == split:
                values[kind] = value
                break
        else:
            raise RuntimeError(f"no {split} value of {kind!r} in {tries} draws")
    return (
        en_frame.format(**{k: v[0] for k, v in values.items()}),
        fr_frame.format(**{k: v[1] for k, v in values.items()}),
    )


def make_pairs(n: int, split: str, seed: int, max_clauses: int = 4) -> list[tuple[list[str], list[str]]]:
    """`n` tokenised (English, French) sentence pairs of one split, the same for the same seed."""
    if split not in SPLITS:
        raise ValueError(f"split = {split!r}; choose one of 'train', 'test'")
    rng = random.Random(f"{split}-{seed}")
    pairs = []
    for _ in range(n):
        clauses = [_clause(rng, split) for _ in range(rng.randint(1, max_clauses))]
        pairs.append((tokenize(" and ".join(c[0] for c in clauses)), tokenize(" et ".join(c[1] for c in clauses))))
    return pairs
