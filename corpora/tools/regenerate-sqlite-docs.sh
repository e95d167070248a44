#!/usr/bin/env bash
# Rebuild corpora/sqlite-docs/ from the Debian package sqlite3-doc.
#
#   bash corpora/tools/regenerate-sqlite-docs.sh
#
# Steps: fetch the pinned .deb with `apt-get download` (or use the file named
# by SQLITE_DOC_DEB), check its SHA-256, unpack it with `dpkg-deb -x` into a
# temporary folder (nothing is installed), convert every HTML page below
# usr/share/doc/sqlite3 with sqlite_docs_to_markdown.py, then replace
# corpora/sqlite-docs/ with the result plus a freshly written SOURCE.md.
# The same .deb always gives byte-identical output.
set -euo pipefail
export LC_ALL=C

PACKAGE=sqlite3-doc
VERSION=3.40.1-2+deb12u2
SHA256=466e30d7066e2641fa13e56bc662a2ad521b8cc9c17dde9c9dac3d4f105e32f2

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
corpora="$(dirname "$here")"
target="$corpora/sqlite-docs"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
chmod 755 "$work"

if [ -n "${SQLITE_DOC_DEB:-}" ]; then
    cp "$SQLITE_DOC_DEB" "$work/package.deb"
else
    (
        cd "$work"
        if ! apt-get download "$PACKAGE=$VERSION" >/dev/null 2>&1; then
            echo "apt-get download failed; running apt-get update once and retrying" >&2
            apt-get update >/dev/null
            apt-get download "$PACKAGE=$VERSION" >/dev/null
        fi
        mv ./*.deb package.deb
    )
fi

actual="$(sha256sum "$work/package.deb" | cut -d' ' -f1)"
if [ "$actual" != "$SHA256" ]; then
    echo "unexpected SHA-256 for $PACKAGE $VERSION: $actual" >&2
    exit 1
fi

dpkg-deb -x "$work/package.deb" "$work/root"
src="$work/root/usr/share/doc/sqlite3"

python3 "$here/sqlite_docs_to_markdown.py" "$src" "$work/out" >&2

pages="$(find "$work/out" -type f -name '*.md' | wc -l | tr -d ' ')"
bytes="$(find "$work/out" -type f -name '*.md' -print0 | sort -z | xargs -0 cat | wc -c | tr -d ' ')"
mb="$(awk -v b="$bytes" 'BEGIN { printf "%.1f", b / 1000000 }')"
c3ref="$(find "$work/out/c3ref" -type f -name '*.md' | wc -l | tr -d ' ')"

cat > "$work/out/SOURCE.md" <<EOF
# Source of this corpus

This folder is the SQLite documentation (SQLite 3.40.1), turned from HTML into
Markdown so that it can be read and searched as plain text. It is the default
corpus of this repository. Every file here except this one is one page of that
documentation.

## Where it comes from

- Debian package: \`$PACKAGE\`, version \`$VERSION\` (Debian 12 "bookworm"),
  file \`${PACKAGE}_${VERSION}_all.deb\`, SHA-256 \`$SHA256\`.
- Upstream: the documentation of the SQLite project, as published on the
  sqlite.org website, written by D. Richard Hipp and the other SQLite
  developers. The Debian package ships those HTML pages unchanged in
  \`/usr/share/doc/sqlite3/\`; this corpus is made from that folder.

## Licence

The SQLite authors have placed SQLite, including its documentation, in the
public domain: anyone may copy, change, publish or use it, for any purpose,
without asking and without paying. The Debian copyright file of the package
(\`/usr/share/doc/sqlite3-doc/copyright\`) says the same for all upstream files
(\`Files: *\`, copyright holder D. Richard Hipp): their licence is
\`public-domain\`, because the sqlite3 contributors put them in the public
domain. Only Debian's own packaging files are under the GPL-2+, and none of
them is part of this corpus.

## How it was converted

- Converter: \`corpora/tools/sqlite_docs_to_markdown.py\` (Python 3 standard
  library only, based on \`html.parser\`).
- Driver: \`corpora/tools/regenerate-sqlite-docs.sh\`, which downloads the
  package with \`apt-get download\`, checks its SHA-256, unpacks it with
  \`dpkg-deb -x\` in a temporary folder (nothing is installed), runs the
  converter and replaces this folder. The output is deterministic.
- Command, from the repository root:

  \`\`\`
  bash corpora/tools/regenerate-sqlite-docs.sh
  \`\`\`

- Each page \`<path>.html\` became \`<path>.md\`, keeping the subfolders
  (\`c3ref/\` for the C API, \`session/\` for the session extension,
  \`releaselog/\` for release notes, \`syntax/\` for the SQL grammar rules).
  Images, style sheets and the search database of the package are not used.
- Kept: headings (the page title becomes the \`#\` heading when the page has no
  \`<h1>\` of its own), paragraphs, lists, tables (as pipe tables, or as rows of
  text when cells hold larger blocks), \`<pre>\` blocks as fenced code, inline
  code, bold and italic. Links keep only their text.
- Dropped: the site header and menus, the search box, scripts and styles, the
  JavaScript table-of-contents toggle, images and the "last modified" footer.
  The SVG syntax diagrams are reduced to one line, "Diagram: ...", listing the
  words drawn in them.
- The four \`doc_*_crossref.md\` pages are machine-made cross-reference lists
  (keywords and pages pointing at other pages); they are kept as converted.

## Size

- $pages pages ($c3ref of them in \`c3ref/\`).
- $bytes bytes of Markdown in total (about $mb MB), not counting this file.
EOF

rm -rf "$target"
mv "$work/out" "$target"
echo "wrote $pages pages ($bytes bytes) to $target" >&2
