"""Markdown chunks carry the headings they sit under, so a passage that never names its
subject is still found by a question about it."""

from __future__ import annotations

from fleet.rag.documents import Document, Part
from fleet.rag.splitting import split

GUIDE = """# Guide

Intro to the guide.

## Install

```bash
# not a heading: a comment in a code block
pip install thing
```

### Options

| option | default |
|---|---|
| warm | 0 |

## Empty section

## Run

Run it.
"""


def chunks(text: str, size: int = 60) -> list[str]:
    doc = Document(uri="file:///g.md", kind="markdown", sha256="0", parts=[Part(text)])
    return [c.text for c in split(doc, size, 0)]


def test_a_chunk_under_headings_starts_with_their_path():
    got = chunks(GUIDE, size=40)
    assert "Guide > Install > Options\n\n| warm | 0 |" in got
    assert "Guide > Install\n\npip install thing" in got


def test_a_chunk_that_starts_with_its_heading_names_only_the_ones_above():
    got = chunks(GUIDE)
    assert got[0].startswith("# Guide")  # the top heading: nothing above it
    assert "Guide > Install\n\n### Options\n\n| option | default |\n|---|---|\n" \
           "| warm | 0 |" in got


def test_a_comment_in_a_code_block_is_kept_and_headings_alone_are_dropped():
    got = chunks(GUIDE, size=40)
    assert "Guide > Install\n\n# not a heading: a comment in a code" in got
    assert not any(c.rstrip().endswith("## Empty section") for c in got)


def test_text_that_is_not_markdown_is_left_as_it_is():
    doc = Document(uri="file:///n.txt", kind="text", sha256="0",
                   parts=[Part("# not a heading here\n\nplain text")])
    assert [c.text for c in split(doc, 100, 0)] == ["# not a heading here\n\nplain text"]
