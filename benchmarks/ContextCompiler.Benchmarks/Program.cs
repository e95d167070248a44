using BenchmarkDotNet.Running;
using ContextCompiler.Benchmarks;

// Quick Stopwatch measurements (ingest, tokenizer, embedder, query floors, compile latency), printed as Markdown:
//   dotnet run -c Release --project benchmarks/ContextCompiler.Benchmarks -- quick [--spans 100000]
// BenchmarkDotNet for everything else, for example:
//   dotnet run -c Release --project benchmarks/ContextCompiler.Benchmarks -- --filter '*'
if (args.Length > 0 && string.Equals(args[0], "turns", StringComparison.OrdinalIgnoreCase))
{
    // Sustained turns/s and latency over loopback HTTP: -- turns [--sessions 1,4,16,32] [--seconds 15]
    return await ContextCompiler.Benchmarks.Load.TurnLoad.RunAsync(args[1..]);
}

if (args.Length > 0 && string.Equals(args[0], "load", StringComparison.OrdinalIgnoreCase))
{
    // Open-loop turn latency per offered rate against `contextc serve` (its own process), then closed-loop saturation:
    // -- load [--db FILE] [--rates 25,50,100,150] [--seconds 15] [--sessions 32] [--replies] [--puts N] [--closed N] [--budget 1500] [--turns-per-session 20]
    return await ContextCompiler.Benchmarks.Load.LoadBenchmark.RunAsync(args[1..]);
}

if (args.Length > 0 && string.Equals(args[0], "soak", StringComparison.OrdinalIgnoreCase))
{
    // One rate held for minutes with replies and document PUTs, a row of the server's memory, threads and handles a minute,
    // and a verdict on memory growth and errors: -- soak [--db FILE] [--rate 50] [--minutes 30] [--no-replies] [--puts 6] (or load --soak-minutes M)
    return await ContextCompiler.Benchmarks.Load.Soak.RunAsync(args[1..]);
}

if (args.Length > 0 && string.Equals(args[0], "mcp", StringComparison.OrdinalIgnoreCase))
{
    // One compile over MCP (compile_context) against plain POST /v1/compile: -- mcp [--requests 500] [--budget 1000] [--files a.md,b.md|all]
    return await ContextCompiler.Benchmarks.Mcp.McpOverhead.RunAsync(args[1..]);
}

if (args.Length > 0 && string.Equals(args[0], "uploads", StringComparison.OrdinalIgnoreCase))
{
    // Documents over HTTP (issue 11): -- uploads [--phases throughput,freshness,compile,snapshot] [--files all|N] [--clients 1,4] [--vectors] [--probes 20] [--seconds 20]
    return await ContextCompiler.Benchmarks.Corpora.UploadLoad.RunAsync(args[1..]);
}

if (args.Length > 0 && string.Equals(args[0], "telemetry", StringComparison.OrdinalIgnoreCase))
{
    // Turn latency of `contextc serve` (its own process) with the OTLP exporter off and on: -- telemetry [--sessions 1,8] [--seconds 15] [--rounds 2]
    return await ContextCompiler.Benchmarks.Telemetry.TelemetryCost.RunAsync(args[1..]);
}

if (args.Length > 0 && string.Equals(args[0], "ui", StringComparison.OrdinalIgnoreCase))
{
    // Server render time of a 50-turn session's replay page (issue 12): -- ui [--turns 50] [--requests 200]
    return await ContextCompiler.Benchmarks.Ui.UiRender.RunAsync(args[1..]);
}

if (args.Length > 0 && string.Equals(args[0], "neural", StringComparison.OrdinalIgnoreCase))
{
    // Compile latency with a neural query embedder: -- neural --db INDEX [--spans 10000,100000] [--seconds 10]
    return await ContextCompiler.Benchmarks.Neural.NeuralLatency.RunAsync(args[1..]);
}

if (args.Length > 0 && string.Equals(args[0], "vectorscan", StringComparison.OrdinalIgnoreCase))
{
    // The vector search alone, exact float scan against int8 first pass + rescoring: -- vectorscan --db INDEX [--spans 10000,100000] [--limit 100] [--seconds 3]
    return await ContextCompiler.Benchmarks.Neural.VectorScan.RunAsync(args[1..]);
}

if (args.Length > 0 && string.Equals(args[0], "scaleout", StringComparison.OrdinalIgnoreCase))
{
    // Issue 17 on PGlite: -- scaleout --db INDEX [--phases compile,hnsw,fill,turns] [--spans 10000,100000] [--replicas 1,3] …
    return await ContextCompiler.Benchmarks.ScaleOut.ScaleOutBenchmark.RunAsync(args[1..]);
}

if (args.Length > 0 && string.Equals(args[0], "tokenizers", StringComparison.OrdinalIgnoreCase))
{
    // The project's BPE against Microsoft.ML.Tokenizers on the default corpus: -- tokenizers [--passes 7]
    return ContextCompiler.Benchmarks.TokenizerComparison.Run(args[1..]);
}

if (args.Length > 0 && string.Equals(args[0], "quick", StringComparison.OrdinalIgnoreCase))
{
    return QuickMeasurements.Run(args[1..]);
}

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
return 0;
