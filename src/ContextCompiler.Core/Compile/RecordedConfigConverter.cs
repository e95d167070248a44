using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace ContextCompiler.Core.Compile;

/// <summary>
/// Reads a manifest's recorded configuration as it was compiled: a setting missing from it (the working set was stored
/// before the setting existed) takes its value from before (<see cref="CompilerOptions.BeforeRecorded"/>), not today's
/// default, so that recompiling an old turn retrieves as the turn did. Writes the configuration whole.
/// </summary>
public sealed class RecordedConfigConverter : JsonConverter<CompilerOptions>
{
    /// <inheritdoc />
    public override CompilerOptions? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (JsonNode.Parse(ref reader) is not JsonObject recorded)
        {
            throw new JsonException("A manifest's config must be a JSON object.");
        }

        var names = recorded.Select(p => p.Key).ToHashSet(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, before) in CompilerOptions.BeforeRecorded)
        {
            if (!names.Contains(name))
            {
                recorded[name] = JsonSerializer.SerializeToNode(before, before.GetType(), options);
            }
        }

        // The property's converter is not the type's, so this reads the object with the serializer's own rules.
        return recorded.Deserialize<CompilerOptions>(options);
    }

    /// <inheritdoc />
    public override void Write(Utf8JsonWriter writer, CompilerOptions value, JsonSerializerOptions options) =>
        JsonSerializer.Serialize(writer, value, options);
}
