"""A Sphinx extension: the bibliography labelled and sorted author-year, as the text cites.

sphinxcontrib-bibtex's styles label entries [BCB14] (alpha) or [1] (numeric), while the chapters
cite "Bahdanau et al. (2014)". This registers the pybtex style `authoryear` (unsrt's formatting,
labels "Bahdanau et al., 2014", a/b suffixes where two entries share one, sorted by author and year)
for `bibtex_default_style` in _config.yml.
"""

from __future__ import annotations

from collections import Counter

from pybtex.plugin import register_plugin
from pybtex.style.formatting.unsrt import Style as Unsrt
from pybtex.style.labels import BaseLabelStyle
from pybtex.style.sorting.author_year_title import SortingStyle


def _names(entry) -> str:
    people = entry.persons.get("author") or entry.persons.get("editor") or []
    last = [" ".join(p.last_names) for p in people]
    if not last:
        return entry.fields.get("title", entry.key)
    if len(last) == 1:
        return last[0]
    if len(last) == 2:
        return f"{last[0]} and {last[1]}"
    return f"{last[0]} et al."


class AuthorYearLabels(BaseLabelStyle):
    def format_labels(self, sorted_entries):
        entries = list(sorted_entries)
        plain = [f"{_names(e)}, {e.fields.get('year', 'n.d.')}" for e in entries]
        shared, seen = Counter(plain), Counter()
        for label in plain:
            if shared[label] > 1:
                seen[label] += 1
                label += "abcdefghijklmnopqrstuvwxyz"[seen[label] - 1]
            yield label


class AuthorYearStyle(Unsrt):
    default_label_style = AuthorYearLabels
    default_sorting_style = SortingStyle


def setup(app):
    register_plugin("pybtex.style.formatting", "authoryear", AuthorYearStyle)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
