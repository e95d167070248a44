using System.Xml.Linq;
using ContextCompiler.Engine.Stores;
using Microsoft.AspNetCore.DataProtection.Repositories;

namespace ContextCompiler.Server.Ui;

/// <summary>
/// Data Protection's key ring kept in the store (<see cref="IKeyRingStore"/>) instead of a folder of this machine, so that
/// a sign-in cookie or an antiforgery token issued by one replica is read by every other and outlives a restart.
/// </summary>
internal sealed class StoreXmlRepository(IKeyRingStore keys) : IXmlRepository
{
    public IReadOnlyCollection<XElement> GetAllElements() => [.. keys.All().Select(XElement.Parse)];

    public void StoreElement(XElement element, string friendlyName) => keys.Add(friendlyName, element.ToString(SaveOptions.DisableFormatting));
}
