using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace VmPooler.IntegrationTests.Fixtures;

/// <summary>Throw-away certificates for TLS tests: a CA and a server certificate for 127.0.0.1 it signed, as PEM files.</summary>
public static class TestCertificates
{
    /// <summary>
    /// Writes <c>server.pem</c> and <c>server.key</c> (unencrypted PKCS#8) into <paramref name="directory"/>, signed by a
    /// new CA written to <paramref name="caFile"/>; and a second, unrelated CA to <paramref name="otherCaFile"/>.
    /// </summary>
    public static async Task WriteServerCertificateAsync(string directory, string caFile, string otherCaFile)
    {
        var now = TimeProvider.System.GetUtcNow();
        using var caKey = RSA.Create(2048);
        using var ca = SelfSignedCa("CN=vmpooler test CA", caKey, now);
        using var otherKey = RSA.Create(2048);
        using var other = SelfSignedCa("CN=vmpooler unrelated CA", otherKey, now);

        using var serverKey = RSA.Create(2048);
        var request = new CertificateRequest("CN=127.0.0.1", serverKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        names.AddDnsName("localhost");
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        using var server = request.Create(ca, now.AddDays(-1), now.AddDays(30), RandomNumberGenerator.GetBytes(16));

        await File.WriteAllTextAsync(caFile, ca.ExportCertificatePem() + "\n");
        await File.WriteAllTextAsync(otherCaFile, other.ExportCertificatePem() + "\n");
        await File.WriteAllTextAsync(Path.Combine(directory, "server.pem"), server.ExportCertificatePem() + "\n");
        await File.WriteAllTextAsync(Path.Combine(directory, "server.key"), serverKey.ExportPkcs8PrivateKeyPem() + "\n");
    }

    private static X509Certificate2 SelfSignedCa(string subject, RSA key, DateTimeOffset now)
    {
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        return request.CreateSelfSigned(now.AddDays(-1), now.AddDays(365));
    }
}
