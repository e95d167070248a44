using ContextCompiler.Engine.Index;
using ContextCompiler.Storage.Sqlite;

namespace ContextCompiler.Engine.Tests.Index;

public sealed class IndexStoreTests
{
    [Fact]
    public void Opening_turns_on_wal_and_foreign_keys_and_loads_vec0()
    {
        using var index = new TempIndex();
        using var connection = index.Store.OpenConnection();
        Assert.Equal("wal", IndexStore.Scalar(connection, "PRAGMA journal_mode"));
        Assert.Equal(1L, IndexStore.Scalar(connection, "PRAGMA foreign_keys"));
        Assert.StartsWith("v0.1.9", (string)IndexStore.Scalar(connection, "SELECT vec_version()")!);
    }

    [Fact]
    public void Migrations_are_recorded_and_not_applied_twice()
    {
        using var index = new TempIndex();
        int version = index.Store.SchemaVersion();
        Assert.Equal(Migrations.All.Max(m => m.Version), version);

        using var reopened = IndexStore.Open(index.DatabasePath, TempIndex.Assets.Vec0Path, TempIndex.Model);
        using var connection = reopened.OpenConnection();
        Assert.Equal((long)Migrations.All.Count, IndexStore.Scalar(connection, "SELECT COUNT(*) FROM schema_version"));
    }

    [Fact]
    public void Opening_with_another_embedding_model_is_a_clear_error()
    {
        using var index = new TempIndex();
        var other = new EmbeddingModel("some-other-model", 384);
        var error = Assert.Throws<EmbeddingModelMismatchException>(() => IndexStore.Open(index.DatabasePath, TempIndex.Assets.Vec0Path, other));
        Assert.Contains(TempIndex.Model.Id, error.Message);
        Assert.Contains("some-other-model", error.Message);
    }

    [Fact]
    public void The_model_is_recorded_in_the_index()
    {
        using var index = new TempIndex();
        using var connection = index.Store.OpenConnection();
        Assert.Equal(TempIndex.Model.Id, IndexStore.MetaValue(connection, null, "embedding_model"));
        Assert.Equal("100", IndexStore.MetaValue(connection, null, "embedding_dimensions"));
    }
}
