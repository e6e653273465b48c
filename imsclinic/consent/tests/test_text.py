"""The tiny consent markup: paragraphs, lists and headings, with everything escaped."""

from __future__ import annotations

from imsclinic.consent.text import body_html


def test_blank_lines_make_paragraphs_and_single_lines_break() -> None:
    html = body_html("First line\nsame paragraph\n\n\nSecond paragraph")
    assert html == "<p>First line<br>same paragraph</p>\n<p>Second paragraph</p>"


def test_dashes_make_a_list_and_hashes_a_heading() -> None:
    html = body_html("## Risks\n\n- Bruising\n- Soreness")
    assert html == "<h3>Risks</h3>\n<ul><li>Bruising</li><li>Soreness</li></ul>"


def test_nothing_typed_is_taken_as_html() -> None:
    html = body_html('<script>alert("x")</script>\n\n## <b>bold</b>\n\n- <img src=x onerror=y>')
    assert "<script>" not in html
    assert "<b>" not in html
    assert "<img" not in html
    assert "&lt;script&gt;" in html
