namespace VmPooler.ChaosTests;

/// <summary>
/// How big the chaos runs are. <c>dotnet test</c> (and so CI) runs the bounded form, a few minutes in all on a loaded
/// 2-core machine; <c>VMPOOLER_CHAOS_SCALE=full</c> runs the figures (≥ 100 000 checkouts, ≥ 200 manager kills,
/// a 30 s Redis outage, ≥ 10 000 fuzz requests). <c>VMPOOLER_CHAOS_SEED</c> repeats a run's random choices.
/// </summary>
internal static class ChaosScale
{
    public static bool Full { get; } = string.Equals(Environment.GetEnvironmentVariable("VMPOOLER_CHAOS_SCALE"), "full", StringComparison.OrdinalIgnoreCase);

    public static string Name => Full ? "full" : "bounded";

    /// <summary>The seed of this run: <c>VMPOOLER_CHAOS_SEED</c> when set, else a new one (printed by every scenario).</summary>
    public static int Seed { get; } = int.TryParse(Environment.GetEnvironmentVariable("VMPOOLER_CHAOS_SEED"), out var seed) ? seed : Random.Shared.Next(1, int.MaxValue);

    /// <summary>Churn: checkouts to reach (the bounded form also stops after <see cref="ChurnTimeCap"/>).</summary>
    public static int ChurnCheckouts => Full ? 100_000 : 1_500;

    /// <summary>The bounded churn stops after this even if it has not reached its checkouts (a slow machine); full runs have no cap.</summary>
    public static TimeSpan ChurnTimeCap => Full ? TimeSpan.FromHours(3) : TimeSpan.FromSeconds(35);

    public static int ManagerKills => Full ? 200 : 10;

    public static TimeSpan RedisOutage => Full ? TimeSpan.FromSeconds(30) : TimeSpan.FromSeconds(5);

    public static TimeSpan ProviderOutage => Full ? TimeSpan.FromSeconds(30) : TimeSpan.FromSeconds(6);

    public static int FuzzRequests => Full ? 10_000 : 2_000;
}
