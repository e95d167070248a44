using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace ContextCompiler.Engine.Sessions;

/// <summary>The one JSON shape of working sets and session resources, shared by storage, the server and the CLI.</summary>
public static class SessionJson
{
    /// <summary>camelCase, enums as camelCase strings, nulls omitted, HTML left unescaped (spans hold code).</summary>
    public static readonly JsonSerializerOptions Options = Configure(new JsonSerializerOptions(JsonSerializerDefaults.Web));

    /// <summary>Applies <see cref="Options"/>' settings to <paramref name="options"/> (for example ASP.NET Core's).</summary>
    public static JsonSerializerOptions Configure(JsonSerializerOptions options)
    {
        options.PropertyNamingPolicy = JsonNamingPolicy.CamelCase;
        options.Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping;
        options.DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull;
        options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.CamelCase));
        options.Converters.Add(new RawJsonConverter());
        return options;
    }
}

/// <summary>A JSON value kept as text and written back verbatim, so stored bytes reach the client unchanged.</summary>
[JsonConverter(typeof(RawJsonConverter))]
public sealed record RawJson(string Json);

/// <summary>Writes <see cref="RawJson"/> as its own text; reads any value as its raw text.</summary>
public sealed class RawJsonConverter : JsonConverter<RawJson>
{
    /// <inheritdoc />
    public override RawJson Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        using var document = JsonDocument.ParseValue(ref reader);
        return new RawJson(document.RootElement.GetRawText());
    }

    /// <inheritdoc />
    public override void Write(Utf8JsonWriter writer, RawJson value, JsonSerializerOptions options) =>
        // The text was produced by our own serializer, so validating it again would only cost time.
        writer.WriteRawValue(value.Json, skipInputValidation: true);
}

/// <summary>
/// Writes a caller's JSON value (session and message metadata) as the exact text it arrived as. Re-serializing a parsed
/// element would normalise it, and would fail on escapes such as a lone <c>"\ud800"</c> that JSON allows but .NET strings
/// cannot decode.
/// </summary>
public sealed class VerbatimJsonConverter : JsonConverter<JsonElement?>
{
    /// <inheritdoc />
    public override JsonElement? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        using var document = JsonDocument.ParseValue(ref reader);
        try
        {
            // The reader does not check the UTF-8 inside strings; reading the text does, so bad bytes are refused here, at binding.
            _ = document.RootElement.GetRawText();
        }
        catch (InvalidOperationException e)
        {
            throw new JsonException("The JSON value is not valid UTF-8.", e);
        }

        return document.RootElement.Clone();
    }

    /// <inheritdoc />
    public override void Write(Utf8JsonWriter writer, JsonElement? value, JsonSerializerOptions options)
    {
        if (value is { ValueKind: not JsonValueKind.Undefined } element)
        {
            writer.WriteRawValue(element.GetRawText(), skipInputValidation: true);
        }
        else
        {
            writer.WriteNullValue();
        }
    }
}
