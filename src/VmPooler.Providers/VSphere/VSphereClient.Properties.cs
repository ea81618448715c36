using System.Xml.Linq;
using static VmPooler.Providers.VSphere.VimXml;

namespace VmPooler.Providers.VSphere;

/// <summary>PropertyCollector reads and SearchIndex look-ups.</summary>
internal sealed partial class VSphereClient
{
    private const int PageSize = 500;

    /// <summary>The object at an inventory path such as <c>DC0/vm/pools/debian</c>, or null when there is none.</summary>
    public async Task<MoRef?> FindByInventoryPathAsync(string inventoryPath, CancellationToken cancellationToken)
    {
        var response = await InvokeAsync(
            c => El("FindByInventoryPath", Ref("_this", c.SearchIndex), El("inventoryPath", inventoryPath)),
            cancellationToken);
        return response.Child("returnval") is { } found ? ToRef(found) : null;
    }

    /// <summary>Properties of one object; null when the object no longer exists.</summary>
    public async Task<ObjectContent?> RetrieveAsync(MoRef obj, IReadOnlyList<string> paths, CancellationToken cancellationToken)
    {
        try
        {
            var objects = await RetrieveAsync(
                PropSet(obj.Type, paths),
                El("objectSet", Ref("obj", obj), El("skip", "false")),
                cancellationToken);
            return objects.FirstOrDefault(o => o.Obj == obj);
        }
        catch (VSphereException ex) when (ex.IsManagedObjectNotFound)
        {
            return null;
        }
    }

    /// <summary>
    /// Properties of every object of <paramref name="type"/> directly inside <paramref name="folder"/>, in one
    /// PropertyCollector round trip (paged only past 500 objects).
    /// </summary>
    public Task<IReadOnlyList<ObjectContent>> RetrieveChildrenAsync(
        MoRef folder, string type, IReadOnlyList<string> paths, CancellationToken cancellationToken)
        => RetrieveRelatedAsync(folder, "childEntity", type, paths, cancellationToken);

    /// <summary>
    /// Properties of every object of <paramref name="type"/> that <paramref name="container"/>'s
    /// <paramref name="property"/> refers to (e.g. a cluster's <c>host</c>), in one round trip.
    /// </summary>
    public async Task<IReadOnlyList<ObjectContent>> RetrieveRelatedAsync(
        MoRef container, string property, string type, IReadOnlyList<string> paths, CancellationToken cancellationToken)
    {
        try
        {
            var objects = await RetrieveAsync(
                PropSet(type, paths),
                El(
                    "objectSet",
                    Ref("obj", container),
                    El("skip", "true"),
                    Typed("selectSet", "TraversalSpec", El("name", "related"), El("type", container.Type), El("path", property), El("skip", "false"))),
                cancellationToken);
            return [.. objects.Where(o => o.Obj.Type == type)];
        }
        catch (VSphereException ex) when (ex.IsManagedObjectNotFound)
        {
            return [];
        }
    }

    private static XElement PropSet(string type, IReadOnlyList<string> paths)
        => El("propSet", El("type", type), paths.Count == 0 ? El("all", "true") : null, paths.Select(p => El("pathSet", p)));

    private async Task<List<ObjectContent>> RetrieveAsync(XElement propSet, XElement objectSet, CancellationToken cancellationToken)
    {
        var results = new List<ObjectContent>();
        var response = await InvokeAsync(
            c => El(
                "RetrievePropertiesEx",
                Ref("_this", c.PropertyCollector),
                El("specSet", new XElement(propSet), new XElement(objectSet)),
                El("options", El("maxObjects", Int(PageSize)))),
            cancellationToken);
        var page = response.Child("returnval");
        while (page is not null)
        {
            results.AddRange(page.ChildrenNamed("objects").Select(ParseObject));
            if (page.ChildValue("token") is not { Length: > 0 } token)
            {
                break;
            }

            var next = await InvokeAsync(
                c => El("ContinueRetrievePropertiesEx", Ref("_this", c.PropertyCollector), El("token", token)),
                cancellationToken);
            page = next.Child("returnval");
        }

        return results;
    }

    private static ObjectContent ParseObject(XElement objects)
    {
        var properties = new Dictionary<string, XElement>(StringComparer.Ordinal);
        foreach (var prop in objects.ChildrenNamed("propSet"))
        {
            if (prop.ChildValue("name") is { } name && prop.Child("val") is { } value)
            {
                properties[name] = value;
            }
        }

        return new ObjectContent(ToRef(objects.Child("obj") ?? throw new VSphereException("a PropertyCollector answer lacks obj")), properties);
    }
}
