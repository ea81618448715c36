using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace VmPooler.Redis;

/// <summary>
/// Checks the server's TLS certificate: against <c>redis.ssl_ca_file</c> alone when it is set (a private CA need not be
/// in the system's trust store), else against the system's trust store; the name is checked by the TLS stack. A rejection
/// is described in words (untrusted CA, wrong name, expired …) for the log and the 503, which the client's own error
/// ("the remote certificate was rejected") does not say.
/// </summary>
internal sealed class RedisCertificateCheck(X509Certificate2? authority, Action<string> onRejected)
{
    public static RedisCertificateCheck Create(string? caFile, Action<string> onRejected)
        => new(caFile is null ? null : X509CertificateLoader.LoadCertificateFromFile(caFile), onRejected);

    public bool Validate(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (certificate is null)
        {
            return Reject("the server sent no certificate");
        }

        if (errors.HasFlag(SslPolicyErrors.RemoteCertificateNameMismatch))
        {
            return Reject($"the server's certificate ({certificate.Subject}) does not carry the expected name (set redis.ssl_host to the name it carries)");
        }

        if (authority is null)
        {
            return errors == SslPolicyErrors.None || Reject($"the server's certificate ({certificate.Subject}) was not trusted: {ChainErrors(chain)} (set redis.ssl_ca_file to its CA)");
        }

        using var custom = new X509Chain();
        custom.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        custom.ChainPolicy.CustomTrustStore.Add(authority);
        custom.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        using var presented = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        return custom.Build(presented)
            || Reject($"the server's certificate ({certificate.Subject}, issued by {certificate.Issuer}) was not trusted by redis.ssl_ca_file ({authority.Subject}): {ChainErrors(custom)}");
    }

    private bool Reject(string reason)
    {
        onRejected(reason);
        return false;
    }

    private static string ChainErrors(X509Chain? chain)
        => chain is null || chain.ChainStatus.Length == 0
            ? "no chain"
            : string.Join(", ", chain.ChainStatus.Select(s => s.Status.ToString()).Distinct(StringComparer.Ordinal));
}
