"""Plain text from untrusted strings: control characters out, HTML to text, whitespace folded."""

from __future__ import annotations

import html
import re
import unicodedata

from selectolax.lexbor import LexborHTMLParser as HTMLParser

__all__ = ["clean_text", "html_to_text", "looks_like_html"]

# C0/C1 controls except tab and newline; they corrupt spreadsheets and terminals.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_SPACES = re.compile(r"[ \t\u00a0]+")
_AROUND_NEWLINE = re.compile(r" *\n *")
_BLANK_LINES = re.compile(r"\n{3,}")
# Anything clean_text would change besides trimming the ends: controls (\r among them), a tab,
# a no-break space, two spaces, a space beside a newline, three newlines.
_DIRTY = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\t\u00a0]|  | \n|\n |\n\n\n")
_TAG = re.compile(r"<\s*/?\s*[a-zA-Z][^>]*>")
_BLOCK_TAGS = ("p", "br", "li", "div", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "ol", "ul")


def clean_text(text: str) -> str:
    """Strip control characters (``\\r`` becomes a newline), fold runs of spaces, trim."""
    if _DIRTY.search(text) is None and unicodedata.is_normalized("NFC", text):
        return text.strip()  # most values: nothing to fold (a third of the parse time otherwise)
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL.sub("", text)
    text = _SPACES.sub(" ", text)
    text = _AROUND_NEWLINE.sub("\n", text)
    text = _BLANK_LINES.sub("\n\n", text)
    return text.strip()


def looks_like_html(text: str) -> bool:
    return bool(_TAG.search(text or ""))


def html_to_text(markup: str) -> str:
    """Visible text of an HTML fragment, block elements on their own lines, entities decoded.

    Literal ``\\n`` escapes (as ISO Open Data scopes sometimes carry) become newlines.
    """
    if not markup:
        return ""
    markup = markup.replace("\\n", "\n")
    if not looks_like_html(markup):
        return clean_text(html.unescape(markup))
    tree = HTMLParser(markup)
    for node in tree.css("script, style"):
        node.decompose()
    for tag in _BLOCK_TAGS:
        for node in tree.css(tag):
            node.insert_before("\n")
    root = tree.body or tree.root
    text = root.text(separator="", deep=True) if root is not None else ""
    # Nested blocks (<ol><li>) each add a line break: one is enough.
    return re.sub(r"\n{2,}", "\n", clean_text(html.unescape(text)))
