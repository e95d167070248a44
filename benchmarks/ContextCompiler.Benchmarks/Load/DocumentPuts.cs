using System.Net.Http.Json;
using System.Text;

namespace ContextCompiler.Benchmarks.Load;

/// <summary>
/// Document writes mixed into a load run: a short Markdown note PUT into a corpus of the run's own at a fixed rate (open
/// loop, like the turns), over a few paths in turn so that most writes replace a document. The text is new at every write,
/// so each one is chunked, indexed and embedded again, as an edited document would be.
/// </summary>
internal sealed class DocumentPuts
{
    private const string Corpus = "load-bench";
    private const int Paths = 4;

    private readonly HttpClient _http;
    private readonly ChatText _text;
    private readonly ErrorTally _errors;
    private readonly double _perMinute;
    private long _version;

    private DocumentPuts(HttpClient http, ChatText text, ErrorTally errors, double perMinute)
    {
        _http = http;
        _text = text;
        _errors = errors;
        _perMinute = perMinute;
    }

    /// <summary>Latencies of the PUTs that succeeded.</summary>
    public LatencyLog Log { get; } = new();

    /// <summary>Writes so far.</summary>
    public long Writes => Interlocked.Read(ref _version);

    /// <summary>
    /// <paramref name="perMinute"/> PUTs a minute (none when 0); creates the corpus when there are any and it does not
    /// exist yet (a database copied from an earlier run may have it).
    /// </summary>
    public static async Task<DocumentPuts> CreateAsync(HttpClient http, ChatText text, ErrorTally errors, double perMinute)
    {
        if (perMinute > 0)
        {
            using var found = await http.GetAsync($"/v1/corpora/{Corpus}");
            if (found.StatusCode == System.Net.HttpStatusCode.NotFound)
            {
                using var created = await http.PostAsJsonAsync("/v1/corpora", new { name = Corpus });
                created.EnsureSuccessStatusCode();
            }
            else
            {
                found.EnsureSuccessStatusCode();
            }
        }

        return new DocumentPuts(http, text, errors, perMinute);
    }

    /// <summary>The PUTs due during <paramref name="length"/>; a run with nothing scheduled when the rate is 0.</summary>
    public Task<OpenLoopRun> RunAsync(TimeSpan length, TimeSpan drain, CancellationToken stop) =>
        _perMinute > 0
            ? OpenLoop.RunAsync(_perMinute / 60, length, 1, PutAsync, null, Log, drain, stop)
            : Task.FromResult(new OpenLoopRun(0, 0, 0, 0, 0, 0));

    private async Task<bool> PutAsync(int lane, long k, CancellationToken cancellationToken)
    {
        long version = Interlocked.Increment(ref _version);
        string url = $"/v1/corpora/{Corpus}/documents/notes/note-{version % Paths}.md";
        using var response = await _errors.SendAsync("put",
            () => _http.PutAsync(url, new StringContent(_text.Document(version), Encoding.UTF8, "text/markdown"), cancellationToken), cancellationToken);
        return response is not null;
    }
}
