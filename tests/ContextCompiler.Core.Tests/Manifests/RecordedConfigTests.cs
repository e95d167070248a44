using System.Text.Json;
using System.Text.Json.Nodes;
using ContextCompiler.Core.Compile;

namespace ContextCompiler.Core.Tests.Manifests;

/// <summary>A stored manifest reads back as it was compiled, even when it predates a setting.</summary>
public sealed class RecordedConfigTests
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    [Fact]
    public void A_manifest_written_today_reads_back_equal()
    {
        var manifest = new Manifest("cl100k_base", "all-MiniLM-L6-v2", "v1", new CompilerOptions { DocumentWeight = 0.7, MaxSpansPerDocument = 3 }, "abc");
        var read = JsonSerializer.Deserialize<Manifest>(JsonSerializer.Serialize(manifest, Json), Json)!;
        Assert.Equal(manifest.Config, read.Config);
    }

    [Fact]
    public void A_manifest_from_before_a_setting_existed_reads_it_as_off_not_as_todays_default()
    {
        var today = JsonNode.Parse(JsonSerializer.Serialize(new Manifest("cl100k_base", "m", "v1", new CompilerOptions { Candidates = 40 }, "abc"), Json))!;
        var config = today["config"]!.AsObject();
        config.Remove("maxSpansPerDocument");
        config.Remove("documentWeight");
        config.Remove("contextVectors");

        var old = today.Deserialize<Manifest>(Json)!;

        Assert.Equal(0, old.Config.MaxSpansPerDocument);
        Assert.Equal(0, old.Config.DocumentWeight);
        Assert.Equal("joined", old.Config.ContextVectors);
        Assert.Equal("messages", new CompilerOptions().ContextVectors);
        // What was recorded is kept as recorded.
        Assert.Equal(40, old.Config.Candidates);
        Assert.NotEqual(new CompilerOptions().MaxSpansPerDocument, old.Config.MaxSpansPerDocument);
    }

    [Fact]
    public void Options_sent_without_a_setting_still_get_todays_default()
    {
        var options = JsonSerializer.Deserialize<CompilerOptions>("""{"candidates": 40}""", Json)!;
        Assert.Equal(new CompilerOptions().MaxSpansPerDocument, options.MaxSpansPerDocument);
        Assert.Equal(new CompilerOptions().DocumentWeight, options.DocumentWeight);
    }
}
