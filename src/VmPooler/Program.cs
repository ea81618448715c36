using System.Collections;
using System.CommandLine;
using VmPooler;
using VmPooler.Core.Configuration;
using VmPooler.Providers;

var configOption = new Option<string?>("--config", "-c")
{
    Description = "Path of the vmpooler YAML configuration (default: VMPOOLER_CONFIG, VMPOOLER_CONFIG_FILE, ./vmpooler.yaml, then the demo config).",
};
var roleOption = new Option<VmPoolerRole>("--role")
{
    Description = "What this process runs: all (API and manager, the default), api, or manager.",
    DefaultValueFactory = _ => VmPoolerRole.All,
};
var urlsOption = new Option<string[]>("--urls")
{
    Description = $"Addresses to listen on, e.g. http://127.0.0.1:8080 (default {VmPoolerApplication.DefaultUrl}).",
    AllowMultipleArgumentsPerToken = true,
};
var checkOption = new Option<bool>("--check-config")
{
    Description = "Load and validate the configuration, print a summary and exit.",
};

var root = new RootCommand("vmpooler: keeps pools of ready virtual machines and hands them out over a REST API.")
{
    configOption,
    roleOption,
    urlsOption,
    checkOption,
};

root.SetAction(async (parse, cancellationToken) =>
{
    var environment = Environment.GetEnvironmentVariables()
        .Cast<DictionaryEntry>()
        .ToDictionary(e => (string)e.Key, e => (string?)e.Value, StringComparer.Ordinal);
    var demoConfig = Path.Combine(AppContext.BaseDirectory, "examples", "vmpooler.yaml");

    VmPoolerOptions options;
    try
    {
        options = ConfigLoader.Load(
            parse.GetValue(configOption),
            environment,
            Directory.GetCurrentDirectory(),
            demoConfig,
            new ProviderFactory(TimeProvider.System));
    }
    catch (ConfigException ex)
    {
        await Console.Error.WriteLineAsync($"vmpooler: the configuration has {ex.Errors.Count} problem(s):");
        foreach (var error in ex.Errors)
        {
            await Console.Error.WriteLineAsync("  - " + error);
        }

        return 1;
    }

    var role = parse.GetValue(roleOption);
    var problems = RoleProblems(options, role);
    if (problems.Count > 0)
    {
        foreach (var problem in problems)
        {
            await Console.Error.WriteLineAsync("vmpooler: " + problem);
        }

        return 1;
    }

    if (parse.GetValue(checkOption))
    {
        Console.WriteLine($"vmpooler: configuration from {options.Source} is valid: {options.Pools.Count} pools ({string.Join(", ", options.Pools.Select(p => $"{p.Name}×{p.Size}"))}).");
        foreach (var warning in options.Warnings)
        {
            Console.WriteLine("vmpooler: warning: " + warning);
        }

        return 0;
    }

    await using var app = VmPoolerApplication.Build(options, role, parse.GetValue(urlsOption));
    var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("VmPooler");
#pragma warning disable CA1848 // start-up lines, once per process
    logger.LogInformation("vmpooler starting (role {Role}) with {PoolCount} pools from {Source}", role.ToString().ToLowerInvariant(), options.Pools.Count, options.Source);
    await app.StartAsync(cancellationToken);
    logger.LogInformation("listening on {Addresses}", string.Join(", ", app.ListeningAddresses()));
#pragma warning restore CA1848
    await app.WaitForShutdownAsync(cancellationToken);
    return 0;
});

return await root.Parse(args).InvokeAsync();

static List<string> RoleProblems(VmPoolerOptions options, VmPoolerRole role)
{
    var problems = new List<string>();
    if (options.Redis is null && role != VmPoolerRole.All)
    {
        problems.Add($"--role {role.ToString().ToLowerInvariant()} needs an inventory shared between processes (a :redis: section); the embedded inventory only works with --role all.");
    }

    return problems;
}
