using Microsoft.Extensions.Logging.Abstractions;
using StackExchange.Redis;
using VmPooler.Core.Configuration;
using VmPooler.Core.Import;
using VmPooler.Core.Inventory;
using VmPooler.Redis;

namespace VmPooler.Import;

/// <summary>
/// <c>vmpooler import-ruby --from redis://HOST:PORT</c>: reads a Ruby vmpooler's Redis and writes its state into the
/// inventory the configuration names (its <c>:redis:</c> section: the same server under our prefix, or another one).
/// </summary>
public static class RubyImportCommand
{
    /// <summary>Exit code when the target already holds data and <c>--merge</c> was not given.</summary>
    public const int RefusedExitCode = 3;

    /// <summary>The least <c>operation_timeout</c> the import writes with: its bulk writes take longer than one API call's.</summary>
    private static readonly TimeSpan ImportOperationTimeout = TimeSpan.FromSeconds(10);

    public static Task<int> RunAsync(VmPoolerOptions options, string from, bool dryRun, bool merge, TextWriter output, TextWriter error, CancellationToken cancellationToken)
        // On the thread pool: under a SynchronizationContext (xUnit's, in the tests) StackExchange.Redis 1.2.6 was seen to
        // hang while releasing a connection; an in-process caller may have one.
        => Task.Run(() => RunCoreAsync(options, from, dryRun, merge, output, error, cancellationToken), cancellationToken);

    private static async Task<int> RunCoreAsync(VmPoolerOptions options, string from, bool dryRun, bool merge, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        if (options.Redis is not { } redis)
        {
            await error.WriteLineAsync("import-ruby: the configuration has no :redis: section; the embedded inventory lives only as long as one process, so there is nothing to import into.");
            return 2;
        }

        var (source, database, problem) = RubyRedisAddress.Parse(from);
        if (source is null)
        {
            await error.WriteLineAsync("import-ruby: " + problem);
            return 2;
        }

        RubyData data;
        try
        {
            var ruby = ConnectionMultiplexer.Connect(source);
            try
            {
                data = await RubyRedisReader.ReadAsync(ruby.GetDatabase(database));
            }
            finally
            {
                // Closed before disposing, as RedisConnection does: disposing a 1.2.6 multiplexer alone was seen to hang.
                await ruby.CloseAsync();
                ruby.Dispose();
            }
        }
        catch (RedisException ex)
        {
            await error.WriteLineAsync($"import-ruby: could not read the Ruby vmpooler's Redis at {from}: {ex.Message}");
            return 1;
        }

        await output.WriteLineAsync($"import-ruby: read {data.Tokens.Count} tokens, {data.Vms.Count} VMs, {data.Overrides.Count} pool settings, {data.OnDemand.Count} on-demand requests and {data.Durations.Count + data.Tags.Count} per-day history hashes from {from}; writing into {string.Join(",", redis.Endpoints)} under prefix '{redis.KeyPrefix}'.");
        await using var connection = RedisConnection.Connect(redis with { OperationTimeout = redis.OperationTimeout > ImportOperationTimeout ? redis.OperationTimeout : ImportOperationTimeout }, NullLogger<RedisConnection>.Instance);
        var time = TimeProvider.System;
        var targets = new ImportTargets(
            new RedisInventory(connection, time, NullLogger<RedisInventory>.Instance, options.Operations.MaxDestroyedRecordsPerPool),
            new RedisTokenStore(connection, time),
            new RedisPoolOverrideStore(connection, time),
            new RedisOnDemandStore(connection, time));
        try
        {
            var report = await new RubyImporter(options, targets).ImportAsync(data, dryRun, merge, cancellationToken);
            report.Print(output);
            return report.Refused ? RefusedExitCode : 0;
        }
        catch (InventoryUnavailableException ex)
        {
            await error.WriteLineAsync("import-ruby: " + ex.Message + " (what was written so far stays; running the import again with --merge completes it)");
            return 1;
        }
    }
}
