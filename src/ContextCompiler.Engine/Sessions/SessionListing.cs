namespace ContextCompiler.Engine.Sessions;

/// <summary>
/// A session list query checked once for every store: the column to order by (one of a fixed set, so only these names
/// ever reach a store's SQL text), the direction, and the page.
/// </summary>
/// <param name="Column">The column's name in the stores' schemas: <c>created_at</c>, <c>updated_at</c> or <c>message_count</c>.</param>
/// <param name="Direction"><c>ASC</c> or <c>DESC</c>.</param>
public sealed record SessionListing(string Column, string Direction, int Limit, int Offset)
{
    /// <summary>The listing <paramref name="query"/> asks for.</summary>
    /// <exception cref="ArgumentException">An unknown order, direction or status, or a bad page.</exception>
    public static SessionListing Of(SessionQuery query)
    {
        string column = (query.OrderBy ?? "createdAt") switch
        {
            "createdAt" => "created_at",
            "updatedAt" => "updated_at",
            "messageCount" => "message_count",
            var other => throw new ArgumentException($"orderBy must be createdAt, updatedAt or messageCount, not '{other}'."),
        };
        string direction = (query.Direction ?? "desc").ToLowerInvariant() switch
        {
            "asc" => "ASC",
            "desc" => "DESC",
            _ => throw new ArgumentException($"direction must be asc or desc, not '{query.Direction}'."),
        };
        if (query.Status is not (null or SessionStatus.Open or SessionStatus.Closed))
        {
            throw new ArgumentException($"status must be open or closed, not '{query.Status}'.");
        }

        int limit = query.Limit ?? 50;
        int offset = query.Offset ?? 0;
        if (limit is < 1 or > 500 || offset < 0)
        {
            throw new ArgumentException("limit must be between 1 and 500 and offset at least 0.");
        }

        return new SessionListing(column, direction, limit, offset);
    }
}
