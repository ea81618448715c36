namespace VmPooler.Api.Auth;

/// <summary>How the LDAP connection is protected: <c>encryption.method</c> of the <c>:ldap:</c> section.</summary>
internal enum LdapEncryption
{
    /// <summary>No <c>method</c> (or an empty <c>encryption</c> hash, which the original loader inserts): plain LDAP.</summary>
    None,

    /// <summary><c>simple_tls</c>: LDAPS, TLS from the first byte (usually port 636).</summary>
    SimpleTls,

    /// <summary><c>start_tls</c>: plain connection upgraded with the StartTLS extended operation before any bind.</summary>
    StartTls,
}
