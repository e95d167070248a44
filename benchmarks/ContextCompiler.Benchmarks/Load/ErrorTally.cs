using System.Collections.Concurrent;

namespace ContextCompiler.Benchmarks.Load;

/// <summary>
/// Failed requests of a load run, counted by kind ("turn 500", "reply HttpRequestException", …). The first failure of each
/// kind is written to stderr with what the server said, so a run that fails shows why without a second run.
/// </summary>
internal sealed class ErrorTally
{
    private readonly ConcurrentDictionary<string, int> _kinds = new(StringComparer.Ordinal);
    private int _total;

    /// <summary>Failures so far, of every kind.</summary>
    public int Total => Volatile.Read(ref _total);

    /// <summary>Whether <paramref name="response"/> succeeded; a non-2xx answer is counted as "<paramref name="what"/> status".</summary>
    public async Task<bool> CheckAsync(string what, HttpResponseMessage response)
    {
        if (response.IsSuccessStatusCode)
        {
            return true;
        }

        string body = await response.Content.ReadAsStringAsync();
        Add($"{what} {(int)response.StatusCode}", body);
        return false;
    }

    /// <summary>
    /// Sends with <paramref name="send"/> and returns the response when it succeeded (the caller disposes it), or counts the
    /// failure (a non-2xx status or an exception) and returns null. Cancellation by <paramref name="cancellationToken"/> is
    /// thrown, not counted; a client timeout is a <see cref="TaskCanceledException"/> too, but not the caller's, so it counts.
    /// </summary>
    public async Task<HttpResponseMessage?> SendAsync(string what, Func<Task<HttpResponseMessage>> send, CancellationToken cancellationToken)
    {
        HttpResponseMessage? response = null;
        try
        {
            response = await send();
            if (await CheckAsync(what, response))
            {
                return response;
            }
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            Failed(what, e);
        }

        response?.Dispose();
        return null;
    }

    /// <summary>Counts <paramref name="exception"/> as "<paramref name="what"/> its type".</summary>
    public void Failed(string what, Exception exception) => Add($"{what} {exception.GetType().Name}", exception.Message);

    /// <summary>Counts <paramref name="count"/> failures of <paramref name="kind"/>.</summary>
    public void Add(string kind, string detail, int count = 1)
    {
        Interlocked.Add(ref _total, count);
        if (_kinds.AddOrUpdate(kind, count, (_, n) => n + count) == count)
        {
            Console.Error.WriteLine($"first error '{kind}': {(detail.Length > 300 ? detail[..300] + "…" : detail)}");
        }
    }

    /// <summary>Every kind with its count, most frequent first, for stderr.</summary>
    public string Summary() =>
        _kinds.IsEmpty ? "no errors" : string.Join(", ", _kinds.OrderByDescending(k => k.Value).ThenBy(k => k.Key, StringComparer.Ordinal).Select(k => $"{k.Key}: {k.Value}"));
}
