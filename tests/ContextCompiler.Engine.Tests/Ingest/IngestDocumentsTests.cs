using ContextCompiler.Core.Ingest;
using ContextCompiler.Engine.Index;
using ContextCompiler.Engine.Ingest;
using ContextCompiler.Storage.Sqlite;

namespace ContextCompiler.Engine.Tests.Ingest;

public sealed class IngestDocumentsTests : IDisposable
{
    private readonly TempIndex _index = new();

    public void Dispose() => _index.Dispose();

    private static SourceDocument[] Documents(string secondText = "Second document.\r\nWith two lines.") =>
    [
        new("b", secondText, SourceKind.Text),
        new("a", "Title\n\nFirst document body.", SourceKind.Text),
    ];

    [Fact]
    public async Task Documents_given_as_text_become_artifacts_at_their_paths_with_normalised_content()
    {
        var report = await _index.Ingestor.IngestDocumentsAsync("set", Documents(), new IngestOptions());

        Assert.Equal((2, 2, 0), (report.Artifacts, report.Added, report.Unchanged));
        var spans = new IndexReader(_index.Store).ExportSpans().ToList();
        Assert.Equal(["a", "b"], spans.Select(s => s.Path).Distinct());
        Assert.Contains(spans, s => s.Path == "b" && s.Text == "Second document.\nWith two lines.");
        Assert.All(spans, s => Assert.Equal("set", s.Corpus));
    }

    [Fact]
    public async Task Ingesting_the_same_documents_again_changes_nothing_and_a_changed_one_is_updated()
    {
        await _index.Ingestor.IngestDocumentsAsync("set", Documents(), new IngestOptions());

        var again = await _index.Ingestor.IngestDocumentsAsync("set", Documents(), new IngestOptions());
        var changed = await _index.Ingestor.IngestDocumentsAsync("set", Documents("Different text."), new IngestOptions());

        Assert.Equal((0, 2), (again.Added, again.Unchanged));
        Assert.Equal((1, 1), (changed.Updated, changed.Unchanged));
    }

    [Fact]
    public async Task Two_documents_with_one_path_are_rejected()
    {
        var error = await Assert.ThrowsAsync<ArgumentException>(() =>
            _index.Ingestor.IngestDocumentsAsync("set", [new("a", "x", SourceKind.Text), new("a", "y", SourceKind.Text)], new IngestOptions()));
        Assert.Contains("'a'", error.Message);
    }

    [Fact]
    public async Task A_blank_document_is_skipped_with_a_reason()
    {
        var report = await _index.Ingestor.IngestDocumentsAsync("set", [new("empty", "  \n ", SourceKind.Text), new("full", "Text.", SourceKind.Text)], new IngestOptions());

        Assert.Equal(1, report.Artifacts);
        Assert.Equal("set/empty", Assert.Single(report.SkippedFiles).Path);
    }
}
