#!/usr/bin/env python3
"""Checks a question set (JSON Lines) against the corpus and against other sets. Standard library only.

For the set being checked: every line parses as a JSON object with id, query and relevant; ids are unique
(also across the other sets given); every relevant path has the corpus prefix and exists under corpora/;
1 or 2 relevant pages; no index or cross-reference page is listed; no page is listed by more than
--max-per-page questions. Against every question of the other sets (--against), it reports the largest
number of content words (lower-cased, stop words and words under 3 letters dropped) that a question shares
with any other question, and fails when it exceeds --max-shared.

    python3 benchmarks/tools/check_questions.py benchmarks/questions/sqlite-docs.naive.dev.jsonl \\
        --against benchmarks/questions/sqlite-docs.test.jsonl benchmarks/questions/sqlite-docs.naive.test.jsonl \\
                  benchmarks/questions/sqlite-docs.dev.jsonl
"""
import argparse
import json
import os
import re
import sys
from collections import Counter

STOP = set("""
a about above after again against all also am an and any are as at be because been before being below
between both but by can could did do does doing done down during each even ever every few for from further
get gets got had has have having he her here hers him his how i if in into is it its itself just like me
more most my no nor not now of off on once one only or other our ours out over own same she should so some
such than that the their them then there these they this those through to too under until up upon very
was way we were what when where whether which while who whom why will with within would you your yours
instead without still let lets want need make makes made use used using way thing things there's it's i'm
i'd i've don't doesn't isn't can't won't what's that's
""".split())

EXCLUDED = re.compile(r"^(doc_\w+_crossref|requirements|capi3ref|changes|releaselog/.*)\.md$")


def words(text):
    return {w for w in re.findall(r"[a-z0-9']+", text.lower()) if len(w) >= 3 and w not in STOP}


def load(path, errors):
    items = []
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                errors.append(f"{path}:{number}: empty line")
                continue
            try:
                item = json.loads(line)
            except json.JSONDecodeError as e:
                errors.append(f"{path}:{number}: not JSON ({e})")
                continue
            if not isinstance(item, dict) or set(item) != {"id", "query", "relevant"}:
                errors.append(f"{path}:{number}: expected exactly the keys id, query, relevant")
                continue
            items.append(item)
    return items


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("set")
    parser.add_argument("--against", nargs="*", default=[])
    parser.add_argument("--corpora", default=os.path.join(os.path.dirname(__file__), "..", "..", "corpora"))
    parser.add_argument("--max-per-page", type=int, default=2)
    parser.add_argument("--max-shared", type=int, default=4)
    args = parser.parse_args()

    errors = []
    items = load(args.set, errors)
    others = [(path, item) for path in args.against for item in load(path, errors)]

    ids = Counter(item["id"] for item in items)
    ids.update(item["id"] for _, item in others)
    for qid, n in ids.items():
        if n > 1:
            errors.append(f"id {qid} occurs {n} times")

    pages = Counter()
    for item in items:
        rel = item["relevant"]
        if not isinstance(rel, list) or not 1 <= len(rel) <= 2 or len(set(rel)) != len(rel):
            errors.append(f"{item['id']}: relevant must list 1 or 2 distinct pages")
            continue
        for path in rel:
            corpus, _, page = path.partition("/")
            if not page or not os.path.isfile(os.path.join(args.corpora, corpus, page)):
                errors.append(f"{item['id']}: {path} does not exist under {args.corpora}")
            if EXCLUDED.match(page):
                errors.append(f"{item['id']}: {path} is an index or cross-reference page")
            pages[path] += 1
    for path, n in pages.items():
        if n > args.max_per_page:
            errors.append(f"{path} is listed by {n} questions (at most {args.max_per_page})")

    worst = (0, None, None, set())
    for item in items:
        mine = words(item["query"])
        best = (0, None, set())
        for _, other in others:
            shared = mine & words(other["query"])
            if len(shared) > best[0]:
                best = (len(shared), other["id"], shared)
        if best[0] > args.max_shared:
            errors.append(f"{item['id']} shares {best[0]} words with {best[1]}: {sorted(best[2])}")
        if best[0] > worst[0]:
            worst = (best[0], item["id"], best[1], best[2])

    print(f"{args.set}: {len(items)} questions, {len(pages)} distinct pages, "
          f"{sum(1 for n in pages.values() if n == 2)} pages listed twice")
    if others:
        print(f"most words shared with another set: {worst[0]} ({worst[1]} vs {worst[2]}: {sorted(worst[3])})")
    for e in errors:
        print("ERROR", e, file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
