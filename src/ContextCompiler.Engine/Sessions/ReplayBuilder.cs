namespace ContextCompiler.Engine.Sessions;

/// <summary>Groups a session's messages into user → working set → assistant turns without dropping any message.</summary>
public static class ReplayBuilder
{
    /// <summary>
    /// Each user message opens a turn; the first assistant message after it answers it; every other message (a second answer,
    /// system or tool messages) joins the turn's extra messages. Messages before the first user message form a leading
    /// turn whose user message is null. Each compaction joins the turn holding the message it was made after.
    /// </summary>
    public static IReadOnlyList<ReplayTurn> Build(
        IReadOnlyList<Message> messages, IReadOnlyDictionary<string, RawJson> workingSets, IReadOnlyList<Compacting.Compaction>? compactions = null)
    {
        var turns = new List<ReplayTurn>();
        Message? user = null, assistant = null;
        List<Message>? extras = null;
        foreach (var message in messages)
        {
            if (message.Role == MessageRoles.User)
            {
                Flush();
                (user, assistant, extras) = (message, null, []);
                continue;
            }

            extras ??= [];
            if (message.Role == MessageRoles.Assistant && assistant is null)
            {
                assistant = message;
            }
            else
            {
                extras.Add(message);
            }
        }

        Flush();
        if (compactions is { Count: > 0 })
        {
            for (int i = 0; i < turns.Count; i++)
            {
                var turn = turns[i];
                var sequences = new[] { turn.UserMessage, turn.AssistantMessage }.OfType<Message>().Concat(turn.ExtraMessages).Select(m => m.Sequence).ToHashSet();
                var made = compactions.Where(c => sequences.Contains(c.AtSequence)).ToList();
                if (made.Count > 0)
                {
                    turns[i] = turn with { Compactions = made };
                }
            }
        }

        return turns;

        void Flush()
        {
            if (user is not null || assistant is not null || extras is { Count: > 0 })
            {
                turns.Add(new ReplayTurn(user, user is null ? null : workingSets.GetValueOrDefault(user.Id), assistant, extras ?? []));
            }
        }
    }
}
