using System.Xml.Linq;

namespace VmPooler.Providers.VSphere;

/// <summary>The well-known objects of a vCenter (the parts of <c>ServiceContent</c> the provider uses).</summary>
internal sealed record ServiceContent(MoRef RootFolder, MoRef PropertyCollector, MoRef SearchIndex, MoRef SessionManager)
{
    internal static ServiceContent Parse(XElement returnval)
    {
        MoRef Get(string name) => returnval.Child(name) is { } element
            ? VimXml.ToRef(element)
            : throw new VSphereException($"the service content lacks {name}");

        return new ServiceContent(Get("rootFolder"), Get("propertyCollector"), Get("searchIndex"), Get("sessionManager"));
    }
}
