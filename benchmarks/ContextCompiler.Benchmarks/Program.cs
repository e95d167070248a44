using BenchmarkDotNet.Running;

// Run with: dotnet run -c Release --project benchmarks/ContextCompiler.Benchmarks -- --filter '*'
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
