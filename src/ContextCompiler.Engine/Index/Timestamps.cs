using System.Globalization;

namespace ContextCompiler.Engine.Index;

/// <summary>
/// The one text form of every time stored in the database: UTC, fixed width, seven fractional digits and a 'Z'
/// (<c>2026-12-03T13:13:09.1234567Z</c>). Fixed width and a single offset make comparing the strings in SQL the same as
/// comparing the times, so every writer and reader goes through here; migration 7 rewrote rows stored in other forms.
/// </summary>
internal static class Timestamps
{
    /// <summary>The format string of <see cref="Format"/>.</summary>
    public const string Pattern = "yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'";

    /// <summary>The stored text of <paramref name="time"/>, converted to UTC.</summary>
    public static string Format(DateTimeOffset time) => time.ToUniversalTime().ToString(Pattern, CultureInfo.InvariantCulture);

    /// <summary>The time stored as <paramref name="text"/>.</summary>
    /// <exception cref="FormatException">Text not in the stored form: damage in the database, or a row a migration missed.</exception>
    public static DateTimeOffset Parse(string text) =>
        DateTimeOffset.ParseExact(text, Pattern, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);
}
