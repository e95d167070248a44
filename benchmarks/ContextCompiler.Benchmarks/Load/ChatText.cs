using System.Text;

namespace ContextCompiler.Benchmarks.Load;

/// <summary>
/// The text a load run sends: the dev questions, each message made new with a nonce of the run and a counter, so the
/// server's query-embedding cache never answers (every turn embeds its query cold); assistant replies of one to three
/// sentences; and small Markdown notes for document PUTs, new at every write so each one really changes the document.
/// </summary>
internal sealed class ChatText
{
    private static readonly string[] ReplySentences =
    [
        "The documentation covers this in the passage cited as [1].",
        "It depends on how the database was opened and which journal mode is in use.",
        "Try it on a small example first and compare the query plan before and after.",
        "The same rule holds inside a transaction, as [2] explains.",
        "Older versions behave differently, so check the version you run.",
    ];

    private ChatText(string[] questions, string nonce)
    {
        Questions = questions;
        Nonce = nonce;
    }

    /// <summary>The questions, in file order.</summary>
    public string[] Questions { get; }

    /// <summary>Eight hex digits, new for every run.</summary>
    public string Nonce { get; }

    /// <summary>The <c>query</c> of every line of the repository's <c>benchmarks/questions/sqlite-docs.dev.jsonl</c>.</summary>
    public static ChatText Load(string root) => new(QuestionSets.Read(root), Guid.NewGuid().ToString("N")[..8]);

    /// <summary>
    /// <paramref name="question"/> made new: the run's nonce, then <paramref name="phase"/>, <paramref name="chat"/> and
    /// <paramref name="k"/>, which together never repeat within a run.
    /// </summary>
    public string Message(string question, string phase, int chat, long k) => $"{question} ({Nonce} {phase} {chat}/{k})";

    /// <summary>An assistant's reply to turn <paramref name="k"/>: one to three sentences, the first naming the turn.</summary>
    public string Reply(long k)
    {
        var text = new StringBuilder($"About your question {k} ({Nonce}): ");
        for (long i = 0; i <= k % 3; i++)
        {
            text.Append(ReplySentences[(k + i) % ReplySentences.Length]).Append(' ');
        }

        return text.ToString().TrimEnd();
    }

    /// <summary>Version <paramref name="version"/> of a short Markdown note, about 0.5 KB, on three of the questions.</summary>
    public string Document(long version)
    {
        var text = new StringBuilder($"# Load note, version {version}\n\nWritten by load run {Nonce}.\n");
        for (long i = 0; i < 3; i++)
        {
            text.Append($"\n## Question {i + 1}\n\n{Questions[(version * 3 + i) % Questions.Length]} ")
                .Append($"A first answer, revision {version}: {ReplySentences[(version + i) % ReplySentences.Length]}\n");
        }

        return text.ToString();
    }
}
