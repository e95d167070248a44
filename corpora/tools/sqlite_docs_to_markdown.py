#!/usr/bin/env python3
"""Turn the HTML pages of the SQLite documentation into Markdown files.

Usage:
    sqlite_docs_to_markdown.py SRC_DIR OUT_DIR

SRC_DIR is the folder that holds the HTML documentation (for the Debian
package sqlite3-doc this is usr/share/doc/sqlite3 of the unpacked .deb).
Every *.html file below it becomes OUT_DIR/<same relative path>.md.
OUT_DIR must not exist yet or be empty; files are processed in sorted order
and the output depends only on the input bytes, so reruns are byte-identical.

Only the Python standard library is used.  The HTML is parsed with
html.parser into a small element tree (with the few implied-end-tag rules
that the SQLite pages rely on), the site chrome is dropped, and the rest is
rendered block by block:

* headings become #..######; a page without an <h1> gets its <title> (or the
  "fancy" title box of the newer pages) as the H1;
* paragraphs are separated by one blank line, whitespace runs collapse;
* <pre> becomes a fenced code block, <tt>/<code> become `code`;
* <ul>/<ol> become "- " / "1. " items (nested items are indented);
* tables become pipe tables, or plain rows of text when cells hold blocks;
* links keep only their text; images, scripts, forms and menus vanish;
* the inline SVG diagrams (syntax railroad diagrams, pikchr drawings) are
  reduced to one line listing the words drawn in them.
"""

import os
import re
import sys
from html.parser import HTMLParser

VOID_TAGS = {
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link",
    "meta", "param", "source", "track", "wbr",
}

HTML_TAGS = VOID_TAGS | {
    "a", "abbr", "address", "article", "aside", "b", "big", "blockquote",
    "body", "button", "caption", "center", "cite", "code", "colgroup", "dd",
    "del", "dfn", "div", "dl", "dt", "em", "fieldset", "figcaption", "figure",
    "font", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "head",
    "header", "html", "i", "iframe", "ins", "kbd", "label", "legend", "li",
    "main", "map", "mark", "menu", "nav", "nobr", "noscript", "object", "ol",
    "optgroup", "option", "p", "pre", "q", "s", "samp", "script", "section",
    "select", "small", "span", "strike", "strong", "style", "sub", "sup",
    "table", "tbody", "td", "textarea", "tfoot", "th", "thead", "title",
    "tr", "tt", "u", "ul", "var",
}

SVG_TAGS = {
    "svg", "path", "polygon", "polyline", "circle", "ellipse", "line", "rect",
    "text", "tspan", "g", "defs", "marker", "use", "title", "desc",
}

KNOWN_TAGS = HTML_TAGS | SVG_TAGS | {"h"}

# "h" is not HTML, but pragma.html marks each pragma's section with a hidden
# <h> element (meant for the site search); it is rendered as a level-3 heading.
HEADINGS = {"h", "h1", "h2", "h3", "h4", "h5", "h6"}

# Elements that make their own block(s) in the Markdown output.
BLOCK_TAGS = HEADINGS | {
    "address", "article", "aside", "blockquote", "body", "caption", "center",
    "dd", "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer",
    "header", "hr", "html", "li", "main", "menu", "nav", "ol", "p", "pre",
    "section", "svg", "table", "tbody", "td", "tfoot", "th", "thead", "tr",
    "ul",
}

# Start tags that implicitly close an open <p>.
CLOSES_P = BLOCK_TAGS - {"body", "html", "svg", "td", "th", "tr", "tbody",
                         "thead", "tfoot", "caption", "li", "dd", "dt"}

# Elements (and everything inside them) that never reach the output.
DROP_TAGS = {
    "area", "button", "head", "iframe", "img", "input", "link", "map",
    "meta", "noscript", "object", "option", "optgroup", "script", "select",
    "style", "textarea", "title", "form", "label", "legend",
}

# Site chrome of sqlite.org pages: logo, tag line, menu bars, search box,
# the JavaScript "Table Of Contents" toggle and the side bar of the indexes.
DROP_CLASSES = {
    "logo", "tagline", "menu", "mainmenu", "submenu", "searchmenu",
    "fancy_toc", "rightsidebar", "sh_mark",
}

CODE_TAGS = {"code", "tt", "kbd", "samp"}
BOLD_TAGS = {"b", "strong"}
ITALIC_TAGS = {"i", "em", "cite", "dfn"}

WS_RE = re.compile(r"[\s\u00a0]+")
BR = "\x00"  # stands for a hard line break until the paragraph is finished
LIST_START_RE = re.compile(r"^(?:- |\d+\. )")


class Node:
    __slots__ = ("tag", "attrs", "children", "parent")

    def __init__(self, tag, attrs=None, parent=None):
        self.tag = tag
        self.attrs = attrs or {}
        self.children = []
        self.parent = parent

    def classes(self):
        return set((self.attrs.get("class") or "").split())


class TreeBuilder(HTMLParser):
    """Builds a Node tree, repairing the tag soup the way browsers mostly do."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Node("#root")
        self.stack = [self.root]

    # -- helpers -----------------------------------------------------------
    def _append(self, item):
        parent = self.stack[-1]
        if isinstance(item, Node):
            item.parent = parent
        parent.children.append(item)

    def _text(self, data):
        parent = self.stack[-1]
        if parent.children and isinstance(parent.children[-1], str):
            parent.children[-1] += data
        else:
            parent.children.append(data)

    def _find_open(self, tags, boundaries):
        """Index in the stack of the innermost open element named in tags,
        not looking past an element named in boundaries."""
        for i in range(len(self.stack) - 1, 0, -1):
            tag = self.stack[i].tag
            if tag in tags:
                return i
            if tag in boundaries:
                return None
        return None

    def _close_to(self, index):
        del self.stack[index:]

    def _implicit_close(self, tag):
        if self.stack[-1].tag in HEADINGS and tag in HEADINGS:
            self.stack.pop()
        if tag in CLOSES_P:
            i = self._find_open({"p"}, {"table", "td", "th", "caption",
                                        "button", "svg"})
            if i is not None:
                self._close_to(i)
        if tag == "li":
            i = self._find_open({"li"}, {"ul", "ol", "menu", "table", "td",
                                         "th", "blockquote", "dl", "dd",
                                         "dt"})
            if i is not None:
                self._close_to(i)
        elif tag in ("dt", "dd"):
            i = self._find_open({"dt", "dd"}, {"dl", "table", "td", "th",
                                               "ul", "ol", "blockquote"})
            if i is not None:
                self._close_to(i)
        elif tag == "tr":
            i = self._find_open({"tr"}, {"table"})
            if i is not None:
                self._close_to(i)
        elif tag in ("td", "th"):
            i = self._find_open({"td", "th"}, {"tr", "table"})
            if i is not None:
                self._close_to(i)
        elif tag in ("option", "optgroup"):
            i = self._find_open({"option"}, {"select"})
            if i is not None:
                self._close_to(i)
        elif tag == "a":
            i = self._find_open({"a"}, {"table", "td", "th", "li"})
            if i is not None:
                self._close_to(i)

    # -- HTMLParser callbacks ----------------------------------------------
    def handle_starttag(self, tag, attrs):
        self._start(tag, attrs, self_closing=False)

    def handle_startendtag(self, tag, attrs):
        self._start(tag, attrs, self_closing=True)

    def _start(self, tag, attrs, self_closing):
        in_svg = any(n.tag == "svg" for n in self.stack)
        if tag not in KNOWN_TAGS and not in_svg:
            # Things like "<name>" or "<unistd.h>" written unescaped in the
            # prose: keep them as the literal text they were meant to be.
            self._text(self.get_starttag_text())
            return
        if not in_svg:
            self._implicit_close(tag)
        node = Node(tag, {k: (v if v is not None else "") for k, v in attrs})
        self._append(node)
        if not self_closing and tag not in VOID_TAGS:
            self.stack.append(node)

    def handle_endtag(self, tag):
        in_svg = any(n.tag == "svg" for n in self.stack)
        if tag not in KNOWN_TAGS and not in_svg:
            self._text("</%s>" % tag)
            return
        if tag == "br":
            self._append(Node("br"))
            return
        if tag in HEADINGS:
            i = self._find_open(HEADINGS, {"table", "td", "th"})
        elif tag in ("td", "th", "tr", "tbody", "thead", "tfoot", "caption"):
            i = self._find_open({tag}, {"table"})
        elif tag == "table":
            i = self._find_open({tag}, set())
        else:
            i = self._find_open({tag}, {"table", "td", "th", "caption"})
        if i is not None:
            self._close_to(i)

    def handle_data(self, data):
        self._text(data)


def text_content(node):
    """Raw text below node (for <pre>, code and titles); <br> gives '\n'."""
    if isinstance(node, str):
        return node
    if node.tag == "br":
        return "\n"
    if node.tag in DROP_TAGS and node.tag != "title":
        return ""
    return "".join(text_content(c) for c in node.children)


def collapse(text):
    return WS_RE.sub(" ", text).strip()


def iter_nodes(node):
    yield node
    for child in node.children:
        if isinstance(child, Node):
            yield from iter_nodes(child)


def wrap(inner, marker):
    """Put emphasis/code markers around inner, keeping edge spaces outside."""
    stripped = inner.strip(" ")
    if not stripped.strip(" " + BR):
        return inner
    lead = inner[: len(inner) - len(inner.lstrip(" "))]
    trail = inner[len(inner.rstrip(" ")):]
    return lead + marker + stripped + marker + trail


def code_span(text):
    text = collapse(text)
    if not text:
        return ""
    ticks = "`"
    while ticks in text:
        ticks += "`"
    if text.startswith("`") or text.endswith("`"):
        return ticks + " " + text + " " + ticks
    return ticks + text + ticks


def indent(text, prefix):
    return "\n".join(prefix + line if line else line for line in text.split("\n"))


class PageConverter:
    def __init__(self, root, fallback_title):
        self.root = root
        self.block_cache = {}
        self.first_heading_seen = False
        self.fancy_title_node = None
        self.demote = 0

        title = ""
        for node in iter_nodes(root):
            if node.tag == "title" and not self._inside(node, "svg"):
                title = collapse(text_content(node))
                break
        for node in iter_nodes(root):
            if node.tag == "div" and "fancy_title" in node.classes():
                self.fancy_title_node = node
                break
        if self.fancy_title_node is not None:
            self.h1 = collapse(text_content(self.fancy_title_node)) or title
            self.demote = 1
        elif any(n.tag == "h1" and not self._hidden(n) for n in iter_nodes(root)):
            self.h1 = None
        else:
            self.h1 = title or fallback_title

    # -- tree queries --------------------------------------------------------
    @staticmethod
    def _inside(node, tag):
        p = node.parent
        while p is not None:
            if p.tag == tag:
                return True
            p = p.parent
        return False

    def _dropped(self, node):
        if node.tag in DROP_TAGS:
            return True
        if node is self.fancy_title_node:
            return True
        return bool(node.classes() & DROP_CLASSES)

    def _hidden(self, node):
        while node is not None:
            if self._dropped(node):
                return True
            node = node.parent
        return False

    def _has_block(self, node):
        key = id(node)
        if key not in self.block_cache:
            self.block_cache[key] = any(
                isinstance(c, Node) and not self._dropped(c)
                and (c.tag in BLOCK_TAGS or self._has_block(c))
                for c in node.children
            )
        return self.block_cache[key]

    # -- output ----------------------------------------------------------------
    def convert(self):
        blocks = []
        if self.h1:
            blocks.append("# " + self.h1)
        blocks.extend(self.blocks(self.root))
        text = "\n\n".join(b for b in blocks if b.strip())
        lines = [line.rstrip() for line in text.split("\n")]
        text = "\n".join(lines)
        text = re.sub(r"\n{3,}", "\n\n", text).strip("\n")
        return text + "\n"

    def blocks(self, node):
        out = []
        pending = []

        def flush():
            if pending:
                out.extend(self.paragraphs(pending))
                pending.clear()

        for child in node.children:
            if isinstance(child, str):
                pending.append(child)
                continue
            if self._dropped(child):
                continue
            if child.tag in BLOCK_TAGS or self._has_block(child):
                flush()
                out.extend(self.block(child))
            else:
                pending.append(child)
        flush()
        return out

    def block(self, node):
        tag = node.tag
        if tag in HEADINGS:
            return self.heading(node)
        if tag == "pre":
            return self.code_block(node)
        if tag in ("ul", "ol", "menu"):
            return self.list_block(node)
        if tag == "table":
            return self.table_block(node)
        if tag == "svg":
            return self.svg_block(node)
        if tag == "hr":
            return []
        if tag == "p":
            if collapse(text_content(node)).startswith("This page last modified on"):
                return []  # page footer with the edit date: site chrome
            return self.blocks(node)
        return self.blocks(node)

    # paragraphs ----------------------------------------------------------------
    def paragraphs(self, items, plain=False):
        parts = []
        for item in items:
            self.inline(item, parts, plain, set())
        text = "".join(parts)
        text = re.sub(r" {2,}", " ", text)
        lines = [line.strip() for line in text.split(BR)]
        paras = []
        current = []
        for line in lines:
            if line:
                current.append(line)
            elif current:
                paras.append("\n".join(current))
                current = []
        if current:
            paras.append("\n".join(current))
        return paras

    def inline(self, node, parts, plain, active):
        if isinstance(node, str):
            parts.append(WS_RE.sub(" ", node))
            return
        if self._dropped(node):
            return
        tag = node.tag
        if tag == "br":
            parts.append(BR)
            return
        if tag in CODE_TAGS:
            raw = WS_RE.sub(" ", text_content(node))
            if plain:
                parts.append(raw)
            else:
                span = code_span(raw)
                lead = " " if raw.startswith(" ") else ""
                trail = " " if raw.endswith(" ") and raw.strip() else ""
                parts.append(lead + span + trail)
            return
        if tag == "svg":
            return
        if tag == "sup":
            sub = []
            for child in node.children:
                self.inline(child, sub, plain, active)
            inner = "".join(sub).strip()
            if inner:
                parts.append("^" + inner)
            return
        marker = None
        if not plain:
            if tag in BOLD_TAGS and "bold" not in active:
                marker, kind = "**", "bold"
            elif tag in ITALIC_TAGS and "italic" not in active:
                marker, kind = "*", "italic"
        if marker is None:
            for child in node.children:
                self.inline(child, parts, plain, active)
            return
        sub = []
        for child in node.children:
            self.inline(child, sub, plain, active | {kind})
        parts.append(wrap("".join(sub), marker))

    # headings ------------------------------------------------------------------
    def heading(self, node):
        text = " ".join(p.replace("\n", " ") for p in self.paragraphs(node.children, plain=True))
        text = collapse(text)
        if not text:
            return []
        parent = node.parent
        while parent is not None and parent.tag not in BLOCK_TAGS and parent.tag != "a":
            parent = parent.parent
        if parent is not None and parent.tag == "a" and parent.attrs.get("href"):
            # A heading wrapped in a link is a breadcrumb ("SQLite C Interface").
            return [text]
        if not self.first_heading_seen:
            self.first_heading_seen = True
            if self.h1 and text.lower() == self.h1.lower():
                return []
        level = int(node.tag[1]) if len(node.tag) == 2 else 3
        level = min(6, level + self.demote)
        return ["#" * level + " " + text]

    # code ------------------------------------------------------------------------
    def code_block(self, node):
        raw = text_content(node).replace("\u00a0", " ").replace("\r\n", "\n").replace("\r", "\n")
        lines = [line.expandtabs(8).rstrip() for line in raw.split("\n")]
        while lines and not lines[0]:
            lines.pop(0)
        while lines and not lines[-1]:
            lines.pop()
        if not lines:
            return []
        body = "\n".join(lines)
        fence = "```"
        while fence in body:
            fence += "`"
        return [fence + "\n" + body + "\n" + fence]

    # lists -------------------------------------------------------------------------
    def list_block(self, node):
        ordered = node.tag == "ol"
        number = 1
        if ordered:
            try:
                number = int(node.attrs.get("start", "1"))
            except ValueError:
                number = 1
        items = []  # list of (marker width, text)
        loose = False
        stray = []

        def flush_stray():
            if stray:
                for para in self.paragraphs(stray):
                    items.append((0, para))
                stray.clear()

        for child in node.children:
            if isinstance(child, str):
                if child.strip():
                    stray.append(child)
                continue
            if self._dropped(child):
                continue
            if child.tag != "li":
                if child.tag in BLOCK_TAGS or self._has_block(child):
                    flush_stray()
                    sub = self.blocks(child) if child.tag not in ("ul", "ol") else self.list_block(child)
                    if items and sub:
                        width, text = items[-1]
                        extra = "\n".join(indent(s, " " * max(width, 2)) for s in sub)
                        items[-1] = (width, text + "\n" + extra)
                    else:
                        items.extend((0, s) for s in sub)
                else:
                    stray.append(child)
                continue
            flush_stray()
            if ordered and child.attrs.get("value", "").strip().isdigit():
                number = int(child.attrs["value"])
            marker = "%d. " % number if ordered else "- "
            if ordered:
                number += 1
            sub = self.blocks(child)
            if not sub:
                continue
            text = sub[0]
            for s in sub[1:]:
                sep = "\n" if LIST_START_RE.match(s) else "\n\n"
                if sep == "\n\n":
                    loose = True
                text += sep + s
            items.append((len(marker), marker + indent(text, " " * len(marker))[len(marker):]))
        flush_stray()
        if not items:
            return []
        joiner = "\n\n" if loose else "\n"
        return [joiner.join(text for _, text in items)]

    # tables ------------------------------------------------------------------------
    def table_rows(self, table):
        rows = []
        captions = []

        def walk(node):
            for child in node.children:
                if not isinstance(child, Node) or self._dropped(child):
                    continue
                if child.tag == "tr":
                    rows.append([c for c in child.children
                                 if isinstance(c, Node) and c.tag in ("td", "th")
                                 and not self._dropped(c)])
                elif child.tag in ("tbody", "thead", "tfoot"):
                    walk(child)
                elif child.tag == "caption":
                    captions.append(child)
        walk(table)
        return rows, captions

    def table_block(self, node):
        rows, captions = self.table_rows(node)
        out = []
        for cap in captions:
            out.extend(self.blocks(cap))
        if not rows:
            return out + self.blocks(node)
        complex_cell = any(
            any(n.tag in ("table", "pre", "ul", "ol", "dl", "svg") or n.tag in HEADINGS
                for n in iter_nodes(cell) if not self._hidden(n))
            for row in rows for cell in row
        )
        width = max(len(r) for r in rows)
        if complex_cell or width < 2:
            for row in rows:
                for cell in row:
                    out.extend(self.blocks(cell))
            return out
        grid = []
        for row in rows:
            cells = []
            for cell in row:
                text = " ".join(self.blocks(cell)).replace("\n", " ")
                text = collapse(text).replace("|", "\\|")
                cells.append(text)
            if any(cells):
                grid.append(cells + [""] * (width - len(cells)))
        if not grid:
            return out
        width = max(len(r) for r in grid)
        # drop columns that are empty in every row (layout spacers)
        keep = [i for i in range(width) if any(r[i] for r in grid)]
        grid = [[r[i] for i in keep] for r in grid]
        if len(keep) < 2:
            out.extend(r[0] for r in grid if r and r[0])
            return out

        def line(cells):
            return "|" + "|".join(" %s " % c if c else " " for c in cells) + "|"

        lines = [line(grid[0]), line(["---"] * len(keep))]
        lines.extend(line(r) for r in grid[1:])
        out.append("\n".join(lines))
        return out

    # diagrams ------------------------------------------------------------------
    def svg_block(self, node):
        words = []
        for n in iter_nodes(node):
            if n.tag == "text":
                word = collapse(text_content(n))
                if word:
                    words.append(word)
        if not words:
            return []
        return ["Diagram: " + " ".join(words)]


def convert_file(path, fallback_title):
    with open(path, "rb") as f:
        data = f.read()
    text = data.decode("utf-8", errors="replace")
    builder = TreeBuilder()
    builder.feed(text)
    builder.close()
    return PageConverter(builder.root, fallback_title).convert()


def main(argv):
    if len(argv) != 3:
        sys.stderr.write(__doc__)
        return 2
    src, out = argv[1], argv[2]
    pages = []
    for dirpath, dirnames, filenames in os.walk(src):
        dirnames.sort()
        for name in filenames:
            if name.endswith(".html"):
                pages.append(os.path.relpath(os.path.join(dirpath, name), src))
    pages.sort()
    if not pages:
        sys.stderr.write("no .html files found below %s\n" % src)
        return 1
    total = 0
    for rel in pages:
        md = convert_file(os.path.join(src, rel), os.path.splitext(os.path.basename(rel))[0])
        target = os.path.join(out, os.path.splitext(rel)[0] + ".md")
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "w", encoding="utf-8", newline="\n") as f:
            f.write(md)
        total += len(md.encode("utf-8"))
    print("converted %d pages, %d bytes of Markdown" % (len(pages), total))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
