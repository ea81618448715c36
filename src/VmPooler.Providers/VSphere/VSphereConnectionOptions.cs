namespace VmPooler.Providers.VSphere;

/// <summary>How <see cref="VSphereClient"/> reaches one vCenter.</summary>
internal sealed record VSphereConnectionOptions
{
    /// <summary>The SDK endpoint, e.g. <c>https://vcenter.example.com/sdk</c>.</summary>
    public required Uri SdkUrl { get; init; }

    public required string Username { get; init; }

    public required string Password { get; init; }

    /// <summary>Accept any TLS certificate (self-signed vCenters). Default false.</summary>
    public bool Insecure { get; init; }

    /// <summary>The time limit of one SOAP request (<c>vsphere_timeout</c>). Default 60 s.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Requests in flight at once (<c>connection_pool_size</c>).</summary>
    public int MaxConcurrentRequests { get; init; } = 10;

    /// <summary>How long a request waits for a free slot (<c>connection_pool_timeout</c>). Default 60 s.</summary>
    public TimeSpan ConnectionWaitTimeout { get; init; } = TimeSpan.FromSeconds(60);
}
