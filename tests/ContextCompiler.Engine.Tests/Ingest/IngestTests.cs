using System.Runtime.InteropServices;
using ContextCompiler.Engine.Index;
using ContextCompiler.Engine.Ingest;
using ContextCompiler.Storage.Sqlite;

namespace ContextCompiler.Engine.Tests.Ingest;

public sealed class IngestTests
{
    private const string Wal = """
        # Write-Ahead Logging

        The default method by which SQLite implements atomic commit and rollback is a rollback journal.
        Beginning with version 3.7.0, a new "Write-Ahead Log" option (hereafter referred to as "WAL") is available.

        ## Activating WAL mode

        An SQLite database connection defaults to journal_mode=DELETE. To convert to WAL mode, use the
        following pragma:

        ```sql
        PRAGMA journal_mode=WAL;
        ```

        ## Checkpointing

        A checkpoint moves the content of the WAL file back into the database file.
        """;

    private const string Code = """
        using System;

        public static class Greeter
        {
            public static string Greet(string name) => $"Hello, {name}!";
        }
        """;

    [Fact]
    public async Task Supported_files_are_ingested_and_others_skipped_with_a_reason()
    {
        using var index = new TempIndex();
        index.Write("wal.md", Wal);
        index.Write("src/Greeter.cs", Code);
        index.Write("page.html", "<html><head><title>T</title></head><body><h1>Busy timeout</h1><p>Sets a busy handler.</p></body></html>");
        index.Write("image.png", "not really a png");
        index.WriteBytes("binary.txt", [0x68, 0x00, 0x69]);
        index.WriteBytes("latin1.txt", [0x63, 0x61, 0x66, 0xE9]);
        index.Write("big.md", new string('x', 2000));

        var report = await index.IngestAsync(new IngestOptions { MaxFileBytes = 1000 });

        Assert.Equal(3, report.Artifacts);
        Assert.Equal(3, report.Added);
        Assert.Equal(4, report.Skipped);
        var reasons = report.SkippedFiles.ToDictionary(s => s.Path, s => s.Reason);
        Assert.Contains("unsupported", reasons["docs/image.png"]);
        Assert.Contains("binary", reasons["docs/binary.txt"]);
        Assert.Contains("UTF-8", reasons["docs/latin1.txt"]);
        Assert.Contains("too large", reasons["docs/big.md"]);
        Assert.True(report.Spans >= 3);
    }

    [Fact]
    public async Task Every_span_is_exactly_its_line_range_with_an_exact_token_count()
    {
        using var index = new TempIndex();
        index.Write("wal.md", Wal.Replace("\n", "\r\n"));
        index.Write("src/Greeter.cs", Code);
        await index.IngestAsync(new IngestOptions { Chunking = new() { MaxTokens = 32 } });

        var tokenizer = TempIndex.Assets.Tokenizer();
        var spans = new IndexReader(index.Store).ExportSpans().ToList();
        Assert.True(spans.Count > 4);
        foreach (var span in spans)
        {
            var fileLines = File.ReadAllLines(Path.Combine(index.Sources, span.Path));
            var expected = string.Join("\n", fileLines[(span.StartLine - 1)..span.EndLine]);
            Assert.Equal(expected, span.Text);
            Assert.Equal(tokenizer.CountTokens(span.Text), span.Tokens);
        }
    }

    [Fact]
    public async Task Reingesting_unchanged_files_changes_nothing()
    {
        using var index = new TempIndex();
        index.Write("wal.md", Wal);
        index.Write("src/Greeter.cs", Code);
        var first = await index.IngestAsync();
        var before = new IndexReader(index.Store).ExportSpans().ToList();

        var second = await index.IngestAsync();

        Assert.Equal(2, second.Unchanged);
        Assert.Equal(0, second.Added + second.Updated + second.Removed);
        Assert.Equal(first.Spans, second.Spans);
        Assert.Equal(first.Tokens, second.Tokens);
        Assert.Equal(before, new IndexReader(index.Store).ExportSpans().ToList());
    }

    [Fact]
    public async Task A_changed_file_is_replaced_and_its_old_index_rows_are_gone()
    {
        using var index = new TempIndex();
        index.Write("wal.md", Wal);
        await index.IngestAsync();
        index.Write("wal.md", "# Rollback journal\n\nThe zebra giraffe journal.\n");

        var report = await index.IngestAsync();

        Assert.Equal(1, report.Updated);
        using var connection = index.Store.OpenConnection();
        Assert.Equal(report.Spans, IndexStore.Scalar(connection, "SELECT COUNT(*) FROM span_vectors"));
        Assert.Equal(0L, IndexStore.Scalar(connection, "SELECT COUNT(*) FROM span_fts WHERE span_fts MATCH 'checkpoint'"));
        Assert.Equal(1L, IndexStore.Scalar(connection, "SELECT COUNT(*) FROM span_fts WHERE span_fts MATCH 'zebra'"));
    }

    [Fact]
    public async Task Prune_removes_artifacts_whose_files_are_gone_and_only_with_the_flag()
    {
        using var index = new TempIndex();
        var gone = index.Write("wal.md", Wal);
        index.Write("src/Greeter.cs", Code);
        await index.IngestAsync();
        File.Delete(gone);

        var kept = await index.IngestAsync();
        Assert.Equal(0, kept.Removed);
        Assert.Contains(new IndexReader(index.Store).ExportSpans(), s => s.Path == "wal.md");

        var pruned = await index.IngestAsync(new IngestOptions { Prune = true });
        Assert.Equal(1, pruned.Removed);
        Assert.DoesNotContain(new IndexReader(index.Store).ExportSpans(), s => s.Path == "wal.md");
        using var connection = index.Store.OpenConnection();
        Assert.Equal(pruned.Spans, IndexStore.Scalar(connection, "SELECT COUNT(*) FROM span_vectors"));
    }

    [Fact]
    public async Task A_file_that_turns_bad_is_skipped_without_losing_what_was_stored()
    {
        using var index = new TempIndex();
        index.Write("wal.md", Wal);
        await index.IngestAsync();
        var before = new IndexReader(index.Store).ExportSpans().ToList();
        index.WriteBytes("wal.md", [0xFF, 0xFE, 0x41]);

        var report = await index.IngestAsync(new IngestOptions { Prune = true });

        Assert.Equal(1, report.Skipped);
        Assert.Equal(0, report.Removed);
        Assert.Equal(before, new IndexReader(index.Store).ExportSpans().ToList());
    }

    [Fact]
    public async Task Changing_the_chunking_settings_rechunks_unchanged_files()
    {
        using var index = new TempIndex();
        index.Write("wal.md", Wal);
        var coarse = await index.IngestAsync();
        var fine = await index.IngestAsync(new IngestOptions { Chunking = new() { MaxTokens = 24 } });
        Assert.Equal(1, fine.Updated);
        Assert.True(fine.Spans > coarse.Spans);
    }

    [Fact]
    public async Task Knn_and_full_text_queries_over_ingested_spans_return_the_right_span()
    {
        using var index = new TempIndex();
        index.Write("wal.md", Wal);
        index.Write("src/Greeter.cs", Code);
        await index.IngestAsync(new IngestOptions { Chunking = new() { MaxTokens = 40 } });
        using var connection = index.Store.OpenConnection();

        using (var fts = connection.CreateCommand())
        {
            fts.CommandText = """
                SELECT s.text FROM span_fts JOIN spans s ON s.id = span_fts.rowid
                WHERE span_fts MATCH 'checkpointing' ORDER BY bm25(span_fts) LIMIT 1
                """;
            Assert.Contains("checkpoint", (string)fts.ExecuteScalar()!, StringComparison.OrdinalIgnoreCase);
        }

        var query = TempIndex.Assets.Embedder.Embed("How do I greet someone by name?");
        using var knn = connection.CreateCommand();
        knn.CommandText = """
            SELECT a.path FROM span_vectors v JOIN spans s ON s.id = v.rowid JOIN artifacts a ON a.id = s.artifact_id
            WHERE v.embedding MATCH $q AND k = 3 ORDER BY v.distance
            """;
        knn.Parameters.AddWithValue("$q", MemoryMarshal.AsBytes(query.AsSpan()).ToArray());
        using var reader = knn.ExecuteReader();
        Assert.True(reader.Read());
        Assert.Equal("src/Greeter.cs", reader.GetString(0));
    }

    [Fact]
    public async Task A_missing_root_is_an_error_and_writes_nothing()
    {
        using var index = new TempIndex();
        await Assert.ThrowsAsync<DirectoryNotFoundException>(() => index.Ingestor.IngestAsync([Path.Combine(index.Root, "nope")], new IngestOptions()));
        Assert.Empty(new IndexReader(index.Store).ExportSpans());
    }

    [Fact]
    public async Task The_corpus_name_defaults_to_the_folder_name_and_paths_are_relative()
    {
        using var index = new TempIndex();
        index.Write("sub/dir/notes.txt", "Some notes about vacuum.\n");
        await index.IngestAsync();
        var span = Assert.Single(new IndexReader(index.Store).ExportSpans());
        Assert.Equal("docs", span.Corpus);
        Assert.Equal("sub/dir/notes.txt", span.Path);
    }

    [Fact]
    public async Task Deleting_an_artifact_cascades_to_spans_fts_and_vectors()
    {
        using var index = new TempIndex();
        index.Write("wal.md", Wal);
        await index.IngestAsync();
        using var connection = index.Store.OpenConnection();
        using (var delete = connection.CreateCommand())
        {
            delete.CommandText = "DELETE FROM artifacts";
            delete.ExecuteNonQuery();
        }

        Assert.Equal(0L, IndexStore.Scalar(connection, "SELECT COUNT(*) FROM spans"));
        Assert.Equal(0L, IndexStore.Scalar(connection, "SELECT COUNT(*) FROM span_vectors"));
        Assert.Equal(0L, IndexStore.Scalar(connection, "SELECT COUNT(*) FROM span_fts WHERE span_fts MATCH 'wal'"));
    }
}
