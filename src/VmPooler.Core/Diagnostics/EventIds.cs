namespace VmPooler.Core.Diagnostics;

/// <summary>
/// Every log event id, in ranges: 1xxx API, 2xxx manager, 3xxx inventory, 4xxx providers, 5xxx host.
/// </summary>
public static class EventIds
{
    // API
    public const int Checkout = 1001;
    public const int CheckoutEmpty = 1002;
    public const int VmReturned = 1003;
    public const int VmModified = 1004;
    public const int RequestLogged = 1005;
    public const int TokenCreated = 1006;
    public const int TokenDeleted = 1007;
    public const int VmTaskQueued = 1008;
    public const int OnDemandCreated = 1009;
    public const int OnDemandDeleted = 1010;
    public const int PoolConfigChanged = 1011;
    public const int UnhandledApiError = 1099;

    // API: authentication providers
    public const int AuthUserNameRefused = 1101;
    public const int AuthDenied = 1102;
    public const int AuthDirectoryUnavailable = 1103;
    public const int AuthServiceAccountFailed = 1104;
    public const int AuthAmbiguousUser = 1105;
    public const int AuthUnknownProvider = 1106;
    public const int AuthAccepted = 1107;

    // Dashboard history (API side 12xx, manager side 29xx)
    public const int HistoryCheckoutsNotRecorded = 1201;
    public const int HistorySampleFailed = 2901;

    // Manager
    public const int ManagerStarting = 2000;
    public const int VmCloned = 2001;
    public const int CloneFailed = 2002;
    public const int VmReady = 2003;
    public const int PendingSlow = 2004;
    public const int PendingTimedOut = 2005;
    public const int PendingVanished = 2006;
    public const int ReadyExpired = 2007;
    public const int ReadyCheckFailed = 2008;
    public const int RunningExpired = 2009;
    public const int VmMissing = 2010;
    public const int VmDestroyed = 2011;
    public const int DestroyFailed = 2012;
    public const int VmDiscovered = 2013;
    public const int ExcessReady = 2014;
    public const int InventoryFailed = 2015;
    public const int PoolPassFailed = 2016;
    public const int PoolEmpty = 2017;
    public const int ProviderBackoff = 2018;
    public const int CloneNameExhausted = 2019;
    public const int LeaseAcquired = 2020;
    public const int LeaseLost = 2021;
    public const int StandingBy = 2022;
    public const int LeaseUnavailable = 2023;
    public const int InventoryUnavailable = 2024;
    public const int VmTaskDone = 2025;
    public const int VmTaskFailed = 2026;
    public const int OnDemandDelivered = 2027;
    public const int OnDemandFinished = 2028;
    public const int PoolReset = 2029;
    public const int TemplateChanged = 2030;
    public const int OnDemandVmFailed = 2031;
    public const int OnDemandFailed = 2032;
    public const int OnDemandFailureNotCounted = 2033;

    // Manager, second generation (21xx)
    public const int PendingAbandoned = 2101;
    public const int PoolsOwned = 2102;
    public const int OwnershipUnavailable = 2103;
    public const int PoolsUnmanaged = 2104;
    public const int TopUpFailed = 2105;
    public const int AddressUnknown = 2106;
    public const int OwnershipLapsed = 2107;
    public const int TasksRecovered = 2108;

    // Inventory: per-pool manager leases (32xx)
    public const int ManagerRegistrationUnreadable = 3201;

    // Inventory: Redis connection, TLS, ACL, Sentinel, durability (31xx)
    public const int RedisConnectFailed = 3101;
    public const int RedisCertificateRejected = 3102;
    public const int RedisReplicaNotConfirmed = 3103;
    public const int RedisCommandDenied = 3104;
    public const int RedisTopologyChanged = 3105;
    public const int RedisUnavailable = 3106;

    // Providers
    public const int ProviderCall = 4001;

    // Host
    public const int ConfigLoaded = 5001;
    public const int ConfigInvalid = 5002;
    public const int Listening = 5003;

    // Telemetry (metrics exporters, health)
    public const int MetricsExporterStarted = 6001;
    public const int MetricsSendFailed = 6002;
    public const int MetricsDropped = 6003;
    public const int PoolGaugeRefreshFailed = 6004;
    public const int TracingJaegerIgnored = 6005;

    // Operations (issue 14): 13xx API side, 25xx-26xx manager side, 7xxx configuration and shared pieces.
    public const int ConfigKeyNotImplemented = 7001;
    public const int DeadLetterNotRecorded = 2501;
    public const int CircuitOpened = 2502;
    public const int CircuitChanged = 2503;
    public const int OperationsStatePublishFailed = 2504;
    public const int HealthEvaluated = 2505;
    public const int HealthCheckFailed = 2506;
    public const int PurgeDryRun = 2507;
    public const int Purged = 2508;
    public const int PurgeFailed = 2509;
}
