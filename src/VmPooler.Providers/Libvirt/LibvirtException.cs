using System.Runtime.InteropServices;
using VmPooler.Providers.Libvirt.Native;

namespace VmPooler.Providers.Libvirt;

/// <summary>
/// A libvirt call failed: <see cref="Code"/> is libvirt's <c>virErrorNumber</c>, the message is libvirt's own (read with
/// <c>virGetLastError</c> on the thread that made the call), prefixed with what was being done.
/// </summary>
public class LibvirtException : Exception
{
    public LibvirtException(string message, LibvirtErrorCode code = LibvirtErrorCode.InternalError, Exception? inner = null)
        : base(message, inner) => Code = code;

    public LibvirtException()
        : this("libvirt call failed")
    {
    }

    public LibvirtException(string message)
        : this(message, LibvirtErrorCode.InternalError)
    {
    }

    public LibvirtException(string message, Exception inner)
        : this(message, LibvirtErrorCode.InternalError, inner)
    {
    }

    /// <summary>libvirt's error number (<c>virErrorNumber</c>).</summary>
    public LibvirtErrorCode Code { get; }

    /// <summary>The calling thread's last libvirt error as a typed exception, then clears it.</summary>
    internal static unsafe LibvirtException FromLastError(string what)
    {
        var error = LibvirtNative.virGetLastError();
        var code = error is null ? LibvirtErrorCode.InternalError : (LibvirtErrorCode)error->Code;
        var text = error is null ? "unknown error" : Marshal.PtrToStringUTF8(error->Message) ?? "unknown error";
        LibvirtNative.virResetLastError();
        var message = $"{what}: {text}";
        return code switch
        {
            LibvirtErrorCode.NoDomain or LibvirtErrorCode.NoStoragePool or LibvirtErrorCode.NoStorageVolume
                or LibvirtErrorCode.NoDomainSnapshot or LibvirtErrorCode.NoDomainMetadata => new LibvirtNotFoundException(message, code),
            LibvirtErrorCode.NoConnect or LibvirtErrorCode.InvalidConnection or LibvirtErrorCode.SystemError or LibvirtErrorCode.Rpc
                or LibvirtErrorCode.AuthFailed or LibvirtErrorCode.Ssh or LibvirtErrorCode.LibSsh => new LibvirtConnectionException(message, code),
            _ => new LibvirtException(message, code),
        };
    }
}
