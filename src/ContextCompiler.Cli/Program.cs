using System.CommandLine;
using ContextCompiler.Cli.Commands;

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
};

return await root.Parse(args).InvokeAsync();
