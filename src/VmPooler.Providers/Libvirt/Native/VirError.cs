using System.Runtime.InteropServices;

namespace VmPooler.Providers.Libvirt.Native;

/// <summary><c>virError</c> as libvirt lays it out (only the leading fields are read).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct VirError
{
    public int Code;
    public int Domain;
    public IntPtr Message;
    public int Level;
}
