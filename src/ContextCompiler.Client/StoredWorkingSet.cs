using System.Text.Json;
using System.Text.Json.Serialization;

namespace ContextCompiler.Client;

/// <summary>
/// A session turn's working set, both typed and as the exact JSON text the server sent. The server stores the serialized
/// working set and replays it byte for byte; <see cref="Json"/> keeps those bytes, since re-serializing <see cref="Value"/>
/// could differ in number formatting, escaping or members this client does not know.
/// </summary>
[JsonConverter(typeof(StoredWorkingSetConverter))]
public sealed class StoredWorkingSet
{
    /// <summary>The working set from its JSON text.</summary>
    public StoredWorkingSet(string json)
    {
        Json = json;
        Value = JsonSerializer.Deserialize<WorkingSet>(json, ContextCompilerJson.Options)
            ?? throw new JsonException("A working set cannot be null.");
    }

    /// <summary>The working set's JSON exactly as received.</summary>
    public string Json { get; }

    /// <summary>The working set, typed.</summary>
    public WorkingSet Value { get; }

    /// <inheritdoc />
    public override string ToString() => Json;
}

/// <summary>Reads a <see cref="StoredWorkingSet"/> from any JSON value's raw text and writes that text back unchanged.</summary>
public sealed class StoredWorkingSetConverter : JsonConverter<StoredWorkingSet>
{
    /// <inheritdoc />
    public override StoredWorkingSet Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        using var document = JsonDocument.ParseValue(ref reader);
        return new StoredWorkingSet(document.RootElement.GetRawText());
    }

    /// <inheritdoc />
    public override void Write(Utf8JsonWriter writer, StoredWorkingSet value, JsonSerializerOptions options) => writer.WriteRawValue(value.Json);
}

/// <summary>The JSON shape of the API: web defaults (camelCase, case-insensitive reads) and nulls left out of requests.</summary>
public static class ContextCompilerJson
{
    /// <summary>The serializer options the client reads and writes with.</summary>
    public static JsonSerializerOptions Options { get; } = new(JsonSerializerDefaults.Web)
    {
        // An absent member and a null mean the same to the server; leaving nulls out keeps request bodies minimal.
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };
}
