// Checks working sets printed by `contextc compile --queries FILE --budget N --jsonl` against an independent
// tokenizer (js-tiktoken@1.0.21, o200k_base) and a labelled question set:
//   node benchmarks/tools/check-working-sets.mjs QUESTIONS.jsonl WORKING_SETS.jsonl BUDGET
// Prints one JSON line: how many sets exceed the budget, token-count mismatches, and page hit rate.
import fs from "node:fs";
import { loadEncoder } from "./js-tiktoken.mjs";

const [questionsFile, setsFile, budgetText] = process.argv.slice(2);
if (!questionsFile || !setsFile || !budgetText) {
  console.error("usage: check-working-sets.mjs QUESTIONS.jsonl WORKING_SETS.jsonl BUDGET");
  process.exit(2);
}

const enc = await loadEncoder();

const questions = fs.readFileSync(questionsFile, "utf8").split("\n").filter(Boolean).map(JSON.parse);
const sets = fs.readFileSync(setsFile, "utf8").split("\n").filter(Boolean).map(JSON.parse);
if (questions.length !== sets.length) throw new Error(`${questions.length} questions but ${sets.length} working sets`);

const budget = Number(budgetText);
let over = 0, mismatched = 0, hits = 0, used = 0, reciprocal = 0;
questions.forEach((q, i) => {
  const set = sets[i];
  const count = enc.encode(set.text, [], []).length;
  if (count > budget) over++;
  if (count !== set.tokenCount) mismatched++;
  used += count / budget;
  const cited = new Set(set.citations.map((c) => `${c.corpus}/${c.path}`));
  if (q.relevant.some((r) => cited.has(r))) hits++;
  // Reciprocal rank of the first citation from a relevant page, citations taken in their rendered order.
  const first = set.citations.findIndex((c) => q.relevant.includes(`${c.corpus}/${c.path}`));
  if (first >= 0) reciprocal += 1 / (first + 1);
});
console.log(JSON.stringify({ budget, questions: questions.length, overBudget: over, countMismatches: mismatched, pageHits: hits, hitRate: +(hits / questions.length).toFixed(3), meanUtilization: +(used / questions.length).toFixed(3), citationMrr: +(reciprocal / questions.length).toFixed(3) }));
