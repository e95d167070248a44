using System.Collections.Concurrent;

namespace ContextCompiler.Engine.Sessions;

/// <summary>
/// One writer per session in this process, so that concurrent turns and replies to the same session queue instead of
/// racing for the same sequence number. The UNIQUE (session_id, sequence) constraint still guards against other processes.
/// </summary>
public sealed class SessionLocks(ISessionRepository repository)
{
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _locks = new(StringComparer.Ordinal);

    /// <summary>Waits for the session's lock; dispose the result to release it.</summary>
    /// <exception cref="SessionNotFoundException">No such session for this tenant.</exception>
    public async Task<IDisposable> EnterAsync(string tenant, string id, CancellationToken cancellationToken)
    {
        // The session must exist before it gets a lock, so requests for made-up ids cannot grow the lock table.
        _ = repository.Get(tenant, id);
        var gate = _locks.GetOrAdd(id, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken);
        return new Release(gate);
    }

    /// <summary>Forgets a deleted session's lock. A writer still waiting on it will find the session gone inside its transaction.</summary>
    public void Forget(string id) => _locks.TryRemove(id, out _);

    private sealed class Release(SemaphoreSlim gate) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                gate.Release();
            }
        }
    }
}
