namespace VmPooler.Providers.Libvirt;

/// <summary>The <c>virErrorNumber</c> values the provider tells apart (libvirt's <c>virterror.h</c>); others keep their number.</summary>
public enum LibvirtErrorCode
{
    Ok = 0,
    InternalError = 1,
    NoSupport = 3,
    NoConnect = 5,
    InvalidConnection = 6,
    InvalidArgument = 8,
    OperationFailed = 9,
    XmlError = 27,
    DomainExists = 28,
    SystemError = 38,
    Rpc = 39,
    NoDomain = 42,
    AuthFailed = 45,
    NoStoragePool = 49,
    NoStorageVolume = 50,
    OperationInvalid = 55,
    ConfigUnsupported = 67,
    OperationTimeout = 68,
    NoDomainSnapshot = 72,
    NoDomainMetadata = 80,
    OperationUnsupported = 84,
    Ssh = 85,
    StorageVolumeExists = 90,
    LibSsh = 98,
}
