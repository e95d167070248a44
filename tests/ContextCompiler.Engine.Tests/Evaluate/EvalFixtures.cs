namespace ContextCompiler.Engine.Tests.Evaluate;

/// <summary>Small data sets of every supported format, written to a fresh temporary folder.</summary>
public sealed class EvalFixtures : IDisposable
{
    public EvalFixtures() => Root = Directory.CreateTempSubdirectory("contextc-eval-test-").FullName;

    public string Root { get; }

    public string Write(string relativePath, string content)
    {
        var path = Path.Combine(Root, relativePath);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
        return path;
    }

    /// <summary>
    /// A BEIR folder "toy". With BM25 alone: q1 finds its relevant d1 first; q2's relevant d3 mentions basalt once and
    /// ranks second behind d2, which is all basalt, and ahead of the longer d4 (linear fusion scores the last hit 0, which the
    /// threshold drops, so d4 is the one left out); q3 is not in the qrels; q4 is judged with grade 0 only.
    /// </summary>
    public string Beir()
    {
        Write("toy/corpus.jsonl", string.Join("\n",
            """{"_id": "d1", "title": "Photosynthesis", "text": "Chlorophyll absorbs sunlight so that leaves make sugar."}""",
            """{"_id": "d2", "title": "Basalt", "text": "Basalt basalt basalt: basalt is basalt."}""",
            """{"_id": "d3", "title": "Volcano trip", "text": "We walked over cooled lava fields, saw some basalt, ate lunch by the crater rim and took the long road home past the lakes."}""",
            """{"_id": "d4", "title": "Tides", "text": "The moon pulls the oceans into tides twice a day, and over many long years the sea wears smooth every pebble of basalt, granite, chalk and flint that lies along the whole length of the shore."}""") + "\n");
        Write("toy/queries.jsonl", string.Join("\n",
            """{"_id": "q1", "text": "chlorophyll sugar"}""",
            """{"_id": "q2", "text": "basalt"}""",
            """{"_id": "q3", "text": "tides"}""",
            """{"_id": "q4", "text": "moon"}""") + "\n");
        Write("toy/qrels/test.tsv", "query-id\tcorpus-id\tscore\r\nq1\td1\t1\r\nq2\td3\t1\r\nq4\td4\t0\r\n");
        return Path.Combine(Root, "toy");
    }

    /// <summary>
    /// A SQuAD file: two articles, three paragraphs. Questions 1 and 2 share words with their own paragraph only; question 3's
    /// words appear only in another paragraph, so BM25 never finds its own.
    /// </summary>
    public string Squad() => Write("squad/mini-squad.json", """
        {"version": "1.1", "data": [
          {"title": "Lighthouses", "paragraphs": [
            {"context": "The Eddystone lighthouse keeper trimmed the wicks every night. The tower was rebuilt in 1882.",
             "qas": [{"id": "s1", "question": "When was the Eddystone tower rebuilt?", "answers": [{"answer_start": 88, "text": "1882"}, {"answer_start": 85, "text": "in 1882"}]}]},
            {"context": "Fresnel lenses focus the lamp's light into a narrow beam visible for miles.",
             "qas": [{"id": "s2", "question": "What do Fresnel lenses focus?", "answers": [{"answer_start": 21, "text": "the lamp's light"}]}]}]},
          {"title": "Bees", "paragraphs": [
            {"context": "Honeybees communicate the direction of flowers with a waggle dance.",
             "qas": [{"id": "s3", "question": "Which keeper trimmed wicks nightly?", "answers": [{"answer_start": 54, "text": "waggle dance"}]}]}]}
        ]}
        """);

    /// <summary>Dialog JSON lines over a three-page corpus folder "gadgets".</summary>
    public (string Dialogs, string Corpus) Dialogs()
    {
        Write("gadgets/zebra-feeder.md", "# Zebra feeder\n\nConfigure the zebra feeder by setting the hay portion and the feeding hour on its dial.\n");
        Write("gadgets/camp-lamp.md", "# Camp lamp\n\nThe camp lamp needs four batteries. Batteries last about ten hours of light.\n");
        Write("gadgets/rain-gauge.md", "# Rain gauge\n\nEmpty the rain gauge every morning and write down the millimetres collected.\n");
        var dialogs = Write("dialogs/gadgets.dialogs.jsonl",
            """{"id": "g1", "turns": [{"message": "How do I configure the zebra feeder?", "relevant": ["gadgets/zebra-feeder.md"]}, {"message": "Does it need batteries?", "relevant": ["gadgets/zebra-feeder.md"]}]}""" + "\n" +
            """{"id": "g2", "turns": [{"message": "When should I empty the rain gauge?", "relevant": ["gadgets/rain-gauge.md"]}]}""" + "\n");
        return (dialogs, Path.Combine(Root, "gadgets"));
    }

    public string Coqa() => Write("coqa/mini-coqa.json", """
        {"version": "1.0", "data": [
          {"id": "3zotghdk5", "source": "wikipedia", "story": "Anna built a red kite.\nShe flew it on the beach.",
           "questions": [{"input_text": "What did Anna build?", "turn_id": 1}, {"input_text": "Where did she fly it?", "turn_id": 2}],
           "answers": [{"span_text": "a red kite", "input_text": "a kite"}, {"span_text": "on the beach", "input_text": "the beach"}]},
          {"id": "3dr23u6we", "source": "mctest", "story": "The baker sold bread at dawn.",
           "questions": [{"input_text": "Who sold bread?", "turn_id": 1}],
           "answers": [{"span_text": "The baker", "input_text": "the baker"}]}
        ]}
        """);

    public string Quac() => Write("quac/mini-quac.json", """
        {"data": [
          {"title": "Glaciers", "paragraphs": [
            {"id": "C_1", "context": "Glaciers carve valleys as they move. CANNOTANSWER",
             "qas": [{"id": "C_1_q#0", "question": "What do glaciers carve?", "orig_answer": {"text": "valleys", "answer_start": 15}},
                     {"id": "C_1_q#1", "question": "How?", "orig_answer": {"text": "as they move", "answer_start": 23}}]}]}
        ]}
        """);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp folder is harmless.
        }
    }
}
