namespace VmPooler.Providers.VSphere;

/// <summary>A vSphere managed object reference: the object's type (e.g. <c>VirtualMachine</c>) and its id (e.g. <c>vm-42</c>).</summary>
internal readonly record struct MoRef(string Type, string Value)
{
    public override string ToString() => $"{Type}:{Value}";
}
