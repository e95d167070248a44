#!/usr/bin/env python3
"""Recomputes nDCG@10, Recall@100 and MRR@10 from a TREC run file and a qrels file, independently of contextc.

Follows trec_eval: each query's documents are ranked by score descending, ties broken by document id in
descending (byte-wise) order, whatever ranks the file states. Grades above 0 are relevant; the gain is the
grade and the ideal ranking holds every judged relevant document by grade. Only queries with a relevant
judgement are evaluated; such a query absent from the run scores 0 (trec_eval -c). Standard library only.

    python3 benchmarks/tools/trec_eval_check.py QRELS RUN [--expect-ndcg X] [--tolerance 0.002]
"""
import argparse
import math
import sys
from collections import defaultdict


def read_qrels(path):
    qrels = defaultdict(dict)
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            fields = line.split()
            if not fields or (number == 1 and fields[0] == "query-id"):
                continue
            if len(fields) == 3:
                qid, docid, grade = fields
            elif len(fields) == 4:
                qid, _, docid, grade = fields
            else:
                sys.exit(f"{path}:{number}: not a qrels line: {line!r}")
            qrels[qid][docid] = int(grade)
    return qrels


def read_run(path):
    run = defaultdict(dict)
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            fields = line.split()
            if not fields:
                continue
            if len(fields) != 6:
                sys.exit(f"{path}:{number}: not 'qid Q0 docid rank score tag': {line!r}")
            qid, _, docid, _, score, _ = fields
            if docid in run[qid]:
                sys.exit(f"{path}:{number}: document {docid} listed twice for query {qid}")
            run[qid][docid] = float(score)
    return run


def trec_order(scores):
    # Two stable sorts: by document id descending, then by score descending.
    ranked = sorted(scores.items(), key=lambda item: item[0].encode("utf-8"), reverse=True)
    ranked.sort(key=lambda item: item[1], reverse=True)
    return [docid for docid, _ in ranked]


def measures(ranked, judged):
    relevant = {d: g for d, g in judged.items() if g > 0}
    dcg = sum(relevant.get(d, 0) / math.log2(i + 2) for i, d in enumerate(ranked[:10]))
    ideal = sorted(relevant.values(), reverse=True)[:10]
    idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    recall = sum(1 for d in ranked[:100] if d in relevant) / len(relevant)
    rr = next((1.0 / (i + 1) for i, d in enumerate(ranked[:10]) if d in relevant), 0.0)
    return (dcg / idcg if idcg > 0 else 0.0), recall, rr


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("qrels")
    parser.add_argument("run")
    parser.add_argument("--expect-ndcg", type=float, help="fail unless nDCG@10 is within the tolerance of this")
    parser.add_argument("--tolerance", type=float, default=0.002)
    args = parser.parse_args()

    qrels, run = read_qrels(args.qrels), read_run(args.run)
    totals, count = [0.0, 0.0, 0.0], 0
    for qid, judged in qrels.items():
        if not any(g > 0 for g in judged.values()):
            continue
        values = measures(trec_order(run.get(qid, {})), judged)
        totals = [t + v for t, v in zip(totals, values)]
        count += 1
    if count == 0:
        sys.exit("no query has a relevant judgement")
    ndcg, recall, mrr = (t / count for t in totals)
    print(f"queries {count}  nDCG@10 {ndcg:.4f}  Recall@100 {recall:.4f}  MRR@10 {mrr:.4f}")
    if args.expect_ndcg is not None and abs(ndcg - args.expect_ndcg) > args.tolerance:
        sys.exit(f"nDCG@10 {ndcg:.4f} differs from the expected {args.expect_ndcg:.4f} by more than {args.tolerance}")


if __name__ == "__main__":
    main()
