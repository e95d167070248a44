using ContextCompiler.Server.Tests;

namespace ContextCompiler.AgentFramework.Tests;

/// <summary>Test data shared by the provider and chat tests; the typed client comes from <see cref="TestClients"/>.</summary>
internal static class TestServices
{
    public static string NewUser() => "user-" + Guid.NewGuid().ToString("N");
}
