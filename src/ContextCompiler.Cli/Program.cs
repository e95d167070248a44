using System.CommandLine;
using ContextCompiler.Cli.Commands;

// First, before any thread: ingest, eval and serve run ONNX Runtime (see GlibcMalloc).
ContextCompiler.Embeddings.GlibcMalloc.Tune();

var root = new RootCommand("contextc: compiles token-budgeted, cited working sets from a SQLite span index.")
{
    IngestCommand.Create(),
    CompileCommand.Create(),
    ExportCommand.Create(),
    StatsCommand.Create(),
    ServeCommand.Create(),
    SessionsCommand.Create(),
    CorporaCommand.Create(),
    EvalCommand.Create(),
    ReplayCommand.Create(),
    ReembedCommand.Create(),
    ChatCommand.Create(),
    MigrateCommand.Create(),
    CopyCommand.Create(),
};
root.Options.Add(CliShared.ProviderOption);
root.Options.Add(CliShared.ConnectionStringOption);

var parsed = root.Parse(args);
CliShared.UseStorageFlags(parsed);
int exit = await parsed.InvokeAsync();
// System.CommandLine reports an unknown option or a missing argument with 1; it is an invalid request like a bad value.
return parsed.Errors.Count > 0 ? ExitCodes.InvalidRequest : exit;
