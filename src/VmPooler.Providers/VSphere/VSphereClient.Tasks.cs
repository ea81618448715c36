using System.Xml.Linq;
using static VmPooler.Providers.VSphere.VimXml;

namespace VmPooler.Providers.VSphere;

/// <summary>Calls that change the inventory (most start a task) and task polling.</summary>
internal sealed partial class VSphereClient
{
    private static readonly TimeSpan FirstPoll = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan MaxPoll = TimeSpan.FromSeconds(1);

    /// <summary>CloneVM_Task: clones <paramref name="source"/> into <paramref name="folder"/> as <paramref name="name"/>; returns the task.</summary>
    public async Task<MoRef> CloneVmAsync(MoRef source, MoRef folder, string name, VmCloneSpec spec, CancellationToken cancellationToken)
    {
        // Element order follows the WSDL (real vCenters validate it).
        var location = El(
            "location",
            spec.Datastore is { } ds ? Ref("datastore", ds) : null,
            El("diskMoveType", spec.LinkedFromSnapshot is null ? "moveAllDiskBackingsAndDisallowSharing" : "createNewChildDiskBacking"),
            spec.ResourcePool is { } pool ? Ref("pool", pool) : null,
            spec.Host is { } host ? Ref("host", host) : null);
        var config = El(
            "config",
            Opt("annotation", spec.Annotation),
            spec.ExtraConfig.Select(kv => OptionValue("extraConfig", kv.Key, kv.Value)));
        var cloneSpec = El(
            "spec",
            location,
            El("template", "false"),
            config,
            El("powerOn", Bool(spec.PowerOn)),
            spec.LinkedFromSnapshot is { } snapshot ? Ref("snapshot", snapshot) : null);
        return await StartTaskAsync(
            El("CloneVM_Task", Ref("_this", source), Ref("folder", folder), El("name", name), cloneSpec),
            cancellationToken);
    }

    public Task<MoRef> PowerOnVmAsync(MoRef vm, CancellationToken cancellationToken)
        => StartTaskAsync(El("PowerOnVM_Task", Ref("_this", vm)), cancellationToken);

    public Task<MoRef> PowerOffVmAsync(MoRef vm, CancellationToken cancellationToken)
        => StartTaskAsync(El("PowerOffVM_Task", Ref("_this", vm)), cancellationToken);

    /// <summary>Destroy_Task of a VM or a folder.</summary>
    public Task<MoRef> DestroyAsync(MoRef entity, CancellationToken cancellationToken)
        => StartTaskAsync(El("Destroy_Task", Ref("_this", entity)), cancellationToken);

    public Task<MoRef> CreateSnapshotAsync(MoRef vm, string name, string description, bool memory, bool quiesce, CancellationToken cancellationToken)
        => StartTaskAsync(
            El("CreateSnapshot_Task", Ref("_this", vm), El("name", name), El("description", description), El("memory", Bool(memory)), El("quiesce", Bool(quiesce))),
            cancellationToken);

    public Task<MoRef> RevertToSnapshotAsync(MoRef snapshot, CancellationToken cancellationToken)
        => StartTaskAsync(El("RevertToSnapshot_Task", Ref("_this", snapshot)), cancellationToken);

    /// <summary>ReconfigVM_Task adding one new (created) thin disk.</summary>
    public Task<MoRef> AddDiskAsync(MoRef vm, VirtualDiskSpec disk, CancellationToken cancellationToken)
    {
        var backing = Typed(
            "backing",
            "VirtualDiskFlatVer2BackingInfo",
            El("fileName", $"[{disk.DatastoreName}]"),
            disk.Datastore is { } ds ? Ref("datastore", ds) : null,
            El("diskMode", "persistent"),
            El("thinProvisioned", "true"));
        var device = Typed(
            "device",
            "VirtualDisk",
            El("key", Int(-100)),
            backing,
            El("controllerKey", Int(disk.ControllerKey)),
            El("unitNumber", Int(disk.UnitNumber)),
            El("capacityInKB", Int(disk.CapacityKb)));
        var change = Typed("deviceChange", "VirtualDeviceConfigSpec", El("operation", "add"), El("fileOperation", "create"), device);
        return StartTaskAsync(El("ReconfigVM_Task", Ref("_this", vm), El("spec", change)), cancellationToken);
    }

    /// <summary>CreateFolder: a child folder of <paramref name="parent"/>.</summary>
    public async Task<MoRef> CreateFolderAsync(MoRef parent, string name, CancellationToken cancellationToken)
    {
        var response = await InvokeAsync(_ => El("CreateFolder", Ref("_this", parent), El("name", name)), cancellationToken);
        return ToRef(response.Child("returnval") ?? throw new VSphereException($"CreateFolder {name} returned nothing"));
    }

    /// <summary>Asks vCenter to cancel a task; best effort (a finished task cannot be cancelled).</summary>
    public async Task CancelTaskAsync(MoRef task, CancellationToken cancellationToken)
    {
        try
        {
            await InvokeAsync(_ => El("CancelTask", Ref("_this", task)), cancellationToken);
        }
        catch (VSphereException)
        {
        }
    }

    /// <summary>
    /// Polls a task until it succeeds (returning its result, if any), fails (throwing its error), runs past
    /// <paramref name="timeout"/> (cancelling it and throwing <see cref="TimeoutException"/>) or the caller cancels
    /// (cancelling it too, so an abandoned clone does not finish unseen).
    /// </summary>
    public async Task<XElement?> WaitForTaskAsync(MoRef task, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var started = _time.GetTimestamp();
        var delay = FirstPoll;
        try
        {
            while (true)
            {
                var info = (await RetrieveAsync(task, ["info"], cancellationToken))?.Element("info")
                    ?? throw new VSphereException($"task {task.Value} vanished");
                switch (info.ChildValue("state"))
                {
                    case "success":
                        return info.Child("result");
                    case "error":
                        var error = info.Child("error");
                        var fault = error?.Child("fault");
                        var type = fault is null ? null : TypeOf(fault);
                        var message = error?.ChildValue("localizedMessage");
                        throw new VSphereException(
                            $"task {info.ChildValue("descriptionId") ?? task.Value} failed: {(string.IsNullOrWhiteSpace(message) ? type ?? "unknown error" : message)}",
                            type);
                    default:
                        break;
                }

                var elapsed = _time.GetElapsedTime(started);
                if (elapsed >= timeout)
                {
                    await CancelTaskAsync(task, CancellationToken.None);
                    throw new TimeoutException($"task {info.ChildValue("descriptionId") ?? task.Value} did not finish within {timeout.TotalSeconds:0.#} s");
                }

                await Task.Delay(delay < timeout - elapsed ? delay : timeout - elapsed, _time, cancellationToken);
                delay = delay * 2 < MaxPoll ? delay * 2 : MaxPoll;
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(5), _time);
            await CancelTaskAsync(task, limit.Token);
            throw;
        }
    }

    private async Task<MoRef> StartTaskAsync(XElement request, CancellationToken cancellationToken)
    {
        var response = await InvokeAsync(_ => request, cancellationToken);
        return ToRef(response.Child("returnval") ?? throw new VSphereException($"{request.Name.LocalName} returned no task"));
    }
}
