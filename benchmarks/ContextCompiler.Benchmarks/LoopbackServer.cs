using System.Diagnostics;
using ContextCompiler.Server;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace ContextCompiler.Benchmarks;

/// <summary>
/// The real server on a loopback port (Kestrel, so requests cross real sockets) over a fresh SQLite file in a temporary
/// folder, which is deleted on dispose. Benchmarks that measure whole requests start one of these.
/// </summary>
internal sealed class LoopbackServer : IAsyncDisposable
{
    private LoopbackServer(string folder, WebApplication app, Uri address)
    {
        Folder = folder;
        App = app;
        Address = address;
    }

    /// <summary>The temporary folder holding the database.</summary>
    public string Folder { get; }

    /// <summary>The running application, for its services.</summary>
    public WebApplication App { get; }

    /// <summary>The address the server listens on.</summary>
    public Uri Address { get; }

    /// <summary>
    /// Starts a server whose database lives in a new temporary folder; <paramref name="configure"/> sets the rest (corpus,
    /// keys, cache). <paramref name="prepare"/>, if given, sees the built application before it starts (for example to add
    /// a timing middleware). Returns once start-up (including the text ingest of an empty index) is done.
    /// </summary>
    public static async Task<LoopbackServer> StartAsync(string name, Action<ServerOptions, string> configure, Action<WebApplication>? prepare = null)
    {
        var folder = Directory.CreateTempSubdirectory($"contextc-{name}-").FullName;
        var app = ServerApp.Build(["--urls", "http://127.0.0.1:0"], o =>
        {
            o.DatabasePath = Path.Combine(folder, name + ".db");
            configure(o, folder);
        });
        prepare?.Invoke(app);
        var clock = Stopwatch.StartNew();
        await app.StartAsync();
        Console.Error.WriteLine($"server ready (ingest included) in {clock.Elapsed.TotalSeconds:F1} s");
        var address = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        return new LoopbackServer(folder, app, address);
    }

    /// <summary>Waits until every span has its vector, so that working sets no longer change while vectors fill in.</summary>
    public async Task WaitForVectorsAsync()
    {
        var clock = Stopwatch.StartNew();
        var filler = App.Services.GetRequiredService<VectorFiller>();
        while (!filler.Status.Complete)
        {
            await Task.Delay(200);
        }

        Console.Error.WriteLine($"vectors complete ({filler.Status}) after {clock.Elapsed.TotalSeconds:F1} s more");
    }

    public async ValueTask DisposeAsync()
    {
        await App.StopAsync();
        await App.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(Folder, recursive: true);
    }
}
