using System.Globalization;
using System.Text.Json;
using ContextCompiler.Core.Evaluate;

namespace ContextCompiler.Engine.Evaluate;

/// <summary>
/// Reads an evaluation set, detecting its format: a BEIR folder (corpus.jsonl, queries.jsonl, qrels/test.tsv), a SQuAD
/// v1.1 file, dialog JSON lines, or CoQA- and QuAC-style files. A folder holding a single .json or .jsonl file stands for it.
/// </summary>
public static class DatasetReader
{
    /// <summary>Reads the set at <paramref name="path"/>; for BEIR, the judgements of <paramref name="split"/> (qrels/SPLIT.tsv).</summary>
    /// <exception cref="DirectoryNotFoundException">Nothing exists at <paramref name="path"/>.</exception>
    /// <exception cref="InvalidDataException">The contents match no supported format or are malformed.</exception>
    public static EvalDataset Read(string path, string split = "test")
    {
        var full = Path.GetFullPath(path);
        if (Directory.Exists(full))
        {
            if (File.Exists(Path.Combine(full, "corpus.jsonl")))
            {
                return BeirReader.Read(full, split);
            }

            var candidates = Directory.GetFiles(full).Where(f => f.EndsWith(".json", StringComparison.OrdinalIgnoreCase) || f.EndsWith(".jsonl", StringComparison.OrdinalIgnoreCase)).ToList();
            // The folder names the set (squad-v1.1-dev rather than dev-v1.1) where the name is not part of its paths.
            return candidates.Count == 1
                ? ReadFile(candidates[0], split) switch
                {
                    RetrievalDataset retrieval => retrieval with { Name = Path.GetFileName(full.TrimEnd(Path.DirectorySeparatorChar)) },
                    var other => other,
                }
                : throw new InvalidDataException($"'{path}' is not a BEIR folder (no corpus.jsonl) and does not hold exactly one .json or .jsonl file.");
        }

        if (File.Exists(full))
        {
            return Path.GetFileName(full) is "corpus.jsonl" or "queries.jsonl" ? BeirReader.Read(Path.GetDirectoryName(full)!, split) : ReadFile(full, split);
        }

        throw new DirectoryNotFoundException($"No data set at '{path}': neither a folder nor a file exists there.");
    }

    /// <summary>
    /// One sentence per line. Abstracts and paragraphs arrive as a single long line, and spans are whole lines, so
    /// without this a long one is an oversize span that can neither be split by the chunker nor cut to fit a small budget.
    /// </summary>
    public static string SentenceLines(string text) =>
        System.Text.RegularExpressions.Regex.Replace(text.Trim(), @"(?<=[.!?])\s+(?=[A-Z(\[])", "\n");

    private static EvalDataset ReadFile(string file, string split)
    {
        if (file.EndsWith(".jsonl", StringComparison.OrdinalIgnoreCase))
        {
            return DialogReader.ReadJsonLines(file, split);
        }

        using var document = ParseFile(file);
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("data", out var data) || data.ValueKind != JsonValueKind.Array)
        {
            throw new InvalidDataException($"'{file}' has no \"data\" array; SQuAD, CoQA and QuAC files have one.");
        }

        var first = data.EnumerateArray().FirstOrDefault();
        if (first.ValueKind == JsonValueKind.Object && first.TryGetProperty("story", out _))
        {
            return DialogReader.ReadCoqa(file, data);
        }

        bool quac = data.EnumerateArray()
            .SelectMany(a => a.TryGetProperty("paragraphs", out var ps) ? ps.EnumerateArray() : Enumerable.Empty<JsonElement>())
            .SelectMany(p => p.TryGetProperty("qas", out var qs) ? qs.EnumerateArray() : Enumerable.Empty<JsonElement>())
            .Take(1).Any(q => q.TryGetProperty("orig_answer", out _));
        return quac ? DialogReader.ReadQuac(file, data) : SquadReader.Read(file, data);
    }

    internal static JsonDocument ParseFile(string file)
    {
        try
        {
            using var stream = File.OpenRead(file);
            return JsonDocument.Parse(stream);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"'{file}' is not valid JSON: {e.Message}", e);
        }
    }

    internal static IEnumerable<(int Line, JsonElement Value)> JsonLines(string file)
    {
        int number = 0;
        foreach (var line in File.ReadLines(file))
        {
            number++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            JsonElement value;
            try
            {
                using var document = JsonDocument.Parse(line);
                value = document.RootElement.Clone();
            }
            catch (JsonException e)
            {
                throw new InvalidDataException($"{Path.GetFileName(file)} line {number} is not valid JSON: {e.Message}", e);
            }

            yield return (number, value);
        }
    }

    internal static string Text(JsonElement element, string property, string where) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(property, out var value)
            ? value.ValueKind switch
            {
                JsonValueKind.String => value.GetString()!,
                JsonValueKind.Number => value.GetRawText(),
                _ => throw new InvalidDataException($"{where}: \"{property}\" is not a string."),
            }
            : throw new InvalidDataException($"{where}: \"{property}\" is missing.");

    internal static string? OptionalText(JsonElement element, string property) =>
        element.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    internal static IEnumerable<JsonElement> Array(JsonElement element, string property, string where) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.Array
            ? value.EnumerateArray()
            : throw new InvalidDataException($"{where}: \"{property}\" is not an array.");

    /// <summary>A path segment made from a title: no slashes, no whitespace.</summary>
    internal static string Segment(string title)
    {
        var cleaned = new string(title.Trim().Select(c => c == '/' || c == '\\' || char.IsWhiteSpace(c) ? '_' : c).ToArray());
        return cleaned.Length == 0 ? "untitled" : cleaned;
    }

    internal static string Index(int i) => i.ToString("000", CultureInfo.InvariantCulture);
}

/// <summary>
/// BEIR: <c>corpus.jsonl</c> (<c>_id</c>, <c>title</c>, <c>text</c>), <c>queries.jsonl</c> (<c>_id</c>, <c>text</c>) and
/// <c>qrels/test.tsv</c> (<c>query-id corpus-id score</c>). Each document becomes an artifact at its id with the title, a
/// blank line and the text; only the queries in the qrels are evaluated, as trec_eval evaluates only judged queries.
/// </summary>
public static class BeirReader
{
    /// <summary>Reads the BEIR folder <paramref name="folder"/> with the qrels split <paramref name="split"/>.</summary>
    public static RetrievalDataset Read(string folder, string split = "test")
    {
        var name = Path.GetFileName(Path.GetFullPath(folder).TrimEnd(Path.DirectorySeparatorChar));
        var documents = new List<EvalDocument>();
        foreach (var (line, record) in DatasetReader.JsonLines(Required(folder, "corpus.jsonl")))
        {
            var where = $"corpus.jsonl line {line}";
            var title = DatasetReader.OptionalText(record, "title") ?? string.Empty;
            var text = DatasetReader.SentenceLines(DatasetReader.Text(record, "text", where));
            documents.Add(new EvalDocument(DatasetReader.Text(record, "_id", where), title.Trim().Length == 0 ? text : title + "\n\n" + text));
        }

        var queryText = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (line, record) in DatasetReader.JsonLines(Required(folder, "queries.jsonl")))
        {
            var where = $"queries.jsonl line {line}";
            queryText[DatasetReader.Text(record, "_id", where)] = DatasetReader.Text(record, "text", where);
        }

        var qrels = ReadQrels(Required(folder, Path.Combine("qrels", split + ".tsv")));
        var queries = new List<EvalQuery>();
        int skipped = 0;
        foreach (var (queryId, judgements) in qrels)
        {
            if (!judgements.Values.Any(g => g > 0))
            {
                skipped++;
                continue;
            }

            var text = queryText.TryGetValue(queryId, out var t)
                ? t
                : throw new InvalidDataException($"qrels/{split}.tsv judges query '{queryId}', which queries.jsonl does not have.");
            queries.Add(new EvalQuery(queryId, text, judgements, []));
        }

        return new RetrievalDataset(name, "beir", documents, queries, skipped);
    }

    /// <summary>
    /// Reads a qrels file: <c>query-id corpus-id score</c> separated by tabs or spaces (a TREC <c>qid 0 docid grade</c>
    /// line works too), an optional header, any line ends. Queries keep the order of their first judgement.
    /// </summary>
    public static List<(string QueryId, IReadOnlyDictionary<string, int> Judgements)> ReadQrels(string file)
    {
        var order = new List<string>();
        var byQuery = new Dictionary<string, Dictionary<string, int>>(StringComparer.Ordinal);
        int number = 0;
        foreach (var raw in File.ReadLines(file))
        {
            number++;
            var fields = raw.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length == 0 || (number == 1 && fields[0] == "query-id"))
            {
                continue;
            }

            if (fields.Length is not (3 or 4) || !int.TryParse(fields[^1], NumberStyles.Integer, CultureInfo.InvariantCulture, out int grade))
            {
                throw new InvalidDataException($"{Path.GetFileName(file)} line {number} is not 'query-id corpus-id score': '{raw.Trim()}'.");
            }

            string queryId = fields[0], docId = fields[^2];
            if (!byQuery.TryGetValue(queryId, out var judgements))
            {
                byQuery[queryId] = judgements = new Dictionary<string, int>(StringComparer.Ordinal);
                order.Add(queryId);
            }

            judgements[docId] = grade;
        }

        return order.Select(q => (q, (IReadOnlyDictionary<string, int>)byQuery[q])).ToList();
    }

    private static string Required(string folder, string name)
    {
        var path = Path.Combine(folder, name);
        return File.Exists(path) ? path : throw new InvalidDataException($"The BEIR folder '{folder}' has no {name}.");
    }
}

/// <summary>
/// SQuAD v1.1 (<c>data[].paragraphs[].qas[]</c>): each paragraph is an artifact at <c>title/NNN</c> (its index in the
/// article), and each question is a query whose only relevant document is its own paragraph, with its answer texts.
/// </summary>
public static class SquadReader
{
    /// <summary>Reads the SQuAD file <paramref name="file"/>.</summary>
    public static RetrievalDataset Read(string file)
    {
        using var document = DatasetReader.ParseFile(file);
        return Read(file, document.RootElement.GetProperty("data"));
    }

    internal static RetrievalDataset Read(string file, JsonElement data)
    {
        var documents = new List<EvalDocument>();
        var queries = new List<EvalQuery>();
        var titles = new HashSet<string>(StringComparer.Ordinal);
        int a = 0;
        foreach (var article in data.EnumerateArray())
        {
            var title = DatasetReader.Segment(DatasetReader.OptionalText(article, "title") ?? DatasetReader.Index(a));
            if (!titles.Add(title))
            {
                title = $"{title}-{DatasetReader.Index(a)}";
                titles.Add(title);
            }

            int p = 0;
            foreach (var paragraph in DatasetReader.Array(article, "paragraphs", $"article {a}"))
            {
                var where = $"article {a} paragraph {p}";
                var path = $"{title}/{DatasetReader.Index(p)}";
                documents.Add(new EvalDocument(path, DatasetReader.SentenceLines(DatasetReader.Text(paragraph, "context", where))));
                foreach (var qa in DatasetReader.Array(paragraph, "qas", where))
                {
                    var answers = DatasetReader.Array(qa, "answers", where).Select(x => DatasetReader.Text(x, "text", where)).Where(t => t.Length > 0).Distinct(StringComparer.Ordinal).ToList();
                    queries.Add(new EvalQuery(DatasetReader.Text(qa, "id", where), DatasetReader.Text(qa, "question", where),
                        new Dictionary<string, int>(StringComparer.Ordinal) { [path] = 1 }, answers));
                }

                p++;
            }

            a++;
        }

        var duplicate = queries.GroupBy(q => q.Id, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        return duplicate is null
            ? new RetrievalDataset(NameOf(file), "squad", documents, queries)
            : throw new InvalidDataException($"'{file}' has two questions with the id '{duplicate.Key}'.");
    }

    internal static string NameOf(string file) => Path.GetFileNameWithoutExtension(file);
}

/// <summary>
/// Multi-turn dialogs: JSON lines <c>{"id","turns":[{"message","relevant":["corpus/path"]}]}</c> over a corpus ingested
/// from a folder, or CoQA-style (<c>data[].story</c>, <c>questions[].input_text</c>) and QuAC-style
/// (<c>data[].paragraphs[].context</c>, <c>qas[].question</c>) files, where each story or context is an artifact and the
/// relevant page of every turn of its dialog.
/// </summary>
public static class DialogReader
{
    /// <summary>
    /// Reads dialog JSON lines; the corpus is named later, from the folder ingested with them. Dialogs with a
    /// <c>split</c> field are kept only for that <paramref name="split"/> ("all" keeps every dialog).
    /// </summary>
    public static DialogDataset ReadJsonLines(string file, string split = "all")
    {
        var dialogs = new List<EvalDialog>();
        foreach (var (line, record) in DatasetReader.JsonLines(file))
        {
            var where = $"{Path.GetFileName(file)} line {line}";
            if (split != "all" && record.TryGetProperty("split", out var part) && part.GetString() != split)
            {
                continue;
            }

            var turns = DatasetReader.Array(record, "turns", where).Select(t => new EvalTurn(
                DatasetReader.Text(t, "message", where),
                DatasetReader.Array(t, "relevant", where).Select(r => r.GetString() ?? throw new InvalidDataException($"{where}: a relevant page is not a string.")).ToList(),
                t.TryGetProperty("assistant", out var reply) && reply.ValueKind == JsonValueKind.String ? reply.GetString() : null,
                t.TryGetProperty("recalls", out var recalls) && recalls.ValueKind == JsonValueKind.Array ? recalls.EnumerateArray().Select(r => r.GetInt32()).ToList() : null)).ToList();
            dialogs.Add(new EvalDialog(DatasetReader.Text(record, "id", where), turns));
        }

        var name = Path.GetFileName(file);
        foreach (var suffix in new[] { ".dialogs.jsonl", ".jsonl" })
        {
            if (name.EndsWith(suffix, StringComparison.OrdinalIgnoreCase))
            {
                name = name[..^suffix.Length];
                break;
            }
        }

        return new DialogDataset(name, "dialogs", [], dialogs, string.Empty);
    }

    /// <summary>Reads a CoQA-style file: one dialog per story.</summary>
    public static DialogDataset ReadCoqa(string file)
    {
        using var document = DatasetReader.ParseFile(file);
        return ReadCoqa(file, document.RootElement.GetProperty("data"));
    }

    /// <summary>Reads a QuAC-style file: one dialog per paragraph.</summary>
    public static DialogDataset ReadQuac(string file)
    {
        using var document = DatasetReader.ParseFile(file);
        return ReadQuac(file, document.RootElement.GetProperty("data"));
    }

    internal static DialogDataset ReadCoqa(string file, JsonElement data)
    {
        var corpus = SquadReader.NameOf(file);
        var documents = new List<EvalDocument>();
        var dialogs = new List<EvalDialog>();
        int i = 0;
        foreach (var story in data.EnumerateArray())
        {
            var where = $"story {i}";
            var id = DatasetReader.OptionalText(story, "id") ?? DatasetReader.Index(i);
            var path = $"{DatasetReader.Index(i)}-{DatasetReader.Segment(id)}";
            documents.Add(new EvalDocument(path, DatasetReader.Text(story, "story", where)));
            var relevant = new[] { $"{corpus}/{path}" };
            dialogs.Add(new EvalDialog(id, DatasetReader.Array(story, "questions", where).Select(q => new EvalTurn(DatasetReader.Text(q, "input_text", where), relevant)).ToList()));
            i++;
        }

        return new DialogDataset(corpus, "coqa", documents, dialogs, corpus);
    }

    internal static DialogDataset ReadQuac(string file, JsonElement data)
    {
        var corpus = SquadReader.NameOf(file);
        var documents = new List<EvalDocument>();
        var dialogs = new List<EvalDialog>();
        int a = 0;
        foreach (var article in data.EnumerateArray())
        {
            var title = DatasetReader.Segment(DatasetReader.OptionalText(article, "title") ?? DatasetReader.Index(a));
            int p = 0;
            foreach (var paragraph in DatasetReader.Array(article, "paragraphs", $"article {a}"))
            {
                var where = $"article {a} paragraph {p}";
                var path = $"{DatasetReader.Index(a)}-{title}/{DatasetReader.Index(p)}";
                documents.Add(new EvalDocument(path, DatasetReader.SentenceLines(DatasetReader.Text(paragraph, "context", where))));
                var relevant = new[] { $"{corpus}/{path}" };
                var id = DatasetReader.OptionalText(paragraph, "id") ?? path;
                dialogs.Add(new EvalDialog(id, DatasetReader.Array(paragraph, "qas", where).Select(q => new EvalTurn(DatasetReader.Text(q, "question", where), relevant)).ToList()));
                p++;
            }

            a++;
        }

        return new DialogDataset(corpus, "quac", documents, dialogs, corpus);
    }
}
