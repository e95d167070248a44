namespace ContextCompiler.Engine.Stores;

/// <summary>
/// Where the service keeps the key ring that protects the web pages' sign-in cookie and antiforgery tokens (ASP.NET Core
/// Data Protection's XML key elements), so that every replica on one store reads every other's cookies and a restart
/// does not sign everyone out. Keys are only ever added; Data Protection itself retires them.
/// </summary>
public interface IKeyRingStore
{
    /// <summary>Every stored key element, oldest first.</summary>
    IReadOnlyList<string> All();

    /// <summary>Stores a key element under its unique <paramref name="friendlyName"/>; a name stored already is left as it is.</summary>
    void Add(string friendlyName, string xml);
}
