using System.Collections;
using System.CommandLine;
using VmPooler;
using VmPooler.Core.Configuration;
using VmPooler.Core.Leases;
using VmPooler.Import;
using VmPooler.Providers;

var configOption = new Option<string?>("--config", "-c")
{
    Recursive = true,
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
var roleWords = new Argument<string[]>("roles")
{
    Description = "Upstream's form of --role: 'api', 'manager', or both (none: the --role option decides).",
    Arity = ArgumentArity.ZeroOrMore,
};

var managerIdOption = new Option<string?>("--manager-id")
{
    HelpName = "id",
    Description = "This pool manager's stable id (default: the host name, the configuration path and the listening port, e.g. myhost:/etc/vmpooler/vmpooler.yaml:4567); a restart with the same id resumes its pools at once.",
};
managerIdOption.Validators.Add(result =>
{
    if (ManagerIdentityArguments.IdProblem(result.GetValueOrDefault<string?>()) is { } problem)
    {
        result.AddError("--manager-id " + problem);
    }
});
var poolsLabelOption = new Option<string[]>("--pools-label")
{
    HelpName = "key=value",
    Description = "Manage only pools whose labels: carry key=value (repeatable; all must match; default: every pool).",
};
poolsLabelOption.Validators.Add(result =>
{
    foreach (var problem in ManagerIdentityArguments.LabelProblems(result.GetValueOrDefault<string[]>() ?? []))
    {
        result.AddError("--pools-label " + problem);
    }
});

var fromOption = new Option<string>("--from")
{
    Description = "The Ruby vmpooler's Redis: redis://[:PASSWORD@]HOST[:PORT][/DB].",
    Required = true,
};
var dryRunOption = new Option<bool>("--dry-run")
{
    Description = "Read both sides and print what would be imported and skipped; write nothing.",
};
var mergeOption = new Option<bool>("--merge")
{
    Description = "Import even though the target inventory already holds data (records already present are left as they are).",
};
var importCommand = new Command(
    "import-ruby",
    "Import a Ruby vmpooler's state (tokens, VMs, pool overrides, on-demand requests, history) from its Redis into the inventory of --config; see docs/migrating.md.")
{
    fromOption,
    dryRunOption,
    mergeOption,
};
importCommand.SetAction(async (parse, cancellationToken) =>
    await LoadOptionsAsync(parse.GetValue(configOption)) is { } options
        ? await RubyImportCommand.RunAsync(options, parse.GetValue(fromOption)!, parse.GetValue(dryRunOption), parse.GetValue(mergeOption), Console.Out, Console.Error, cancellationToken)
        : 1);

var root = new RootCommand("vmpooler: keeps pools of ready virtual machines and hands them out over a REST API.")
{
    configOption,
    roleOption,
    urlsOption,
    checkOption,
    managerIdOption,
    poolsLabelOption,
    roleWords,
    importCommand,
};

root.SetAction(async (parse, cancellationToken) =>
{
    if (await LoadOptionsAsync(parse.GetValue(configOption)) is not { } options)
    {
        return 1;
    }

    var (role, roleError) = ResolveRole(parse.GetValue(roleWords) ?? [], parse.GetValue(roleOption), parse.GetResult(roleOption) is { Implicit: false });
    var (urls, urlsError) = ResolveUrls(parse.GetValue(urlsOption));
    if ((roleError ?? urlsError) is { } startError)
    {
        await Console.Error.WriteLineAsync("vmpooler: " + startError);
        return roleError is null ? 1 : 2;
    }

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

    // The default id adds the port the process listens on: two managers on one host with one configuration (a
    // stand-by, a test) must not share an id, since managers with one id share their leases.
    var listen = urls?.FirstOrDefault() ?? Environment.GetEnvironmentVariable("ASPNETCORE_URLS")?.Split(';')[0] ?? VmPoolerApplication.DefaultUrl;
    var port = Uri.TryCreate(listen.Replace("://*", "://localhost", StringComparison.Ordinal).Replace("://+", "://localhost", StringComparison.Ordinal), UriKind.Absolute, out var uri) ? uri.Port : 0;
    var identity = ManagerIdentityArguments.Create(
        parse.GetValue(managerIdOption),
        parse.GetValue(poolsLabelOption) ?? [],
        System.Net.Dns.GetHostName(),
        options.Source + ":" + port.ToString(System.Globalization.CultureInfo.InvariantCulture));
    await using var app = VmPoolerApplication.Build(options, role, urls, managerIdentity: identity);
    var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("VmPooler");
#pragma warning disable CA1848 // start-up lines, once per process
    logger.LogInformation("vmpooler starting (role {Role}) with {PoolCount} pools from {Source}", role.ToString().ToLowerInvariant(), options.Pools.Count, options.Source);
    await app.StartAsync(cancellationToken);
    logger.LogInformation("listening on {Addresses}", string.Join(", ", app.ListeningAddresses()));
#pragma warning restore CA1848
    await app.WaitForShutdownAsync(cancellationToken);
    return 0;
});

// Option errors (an unknown option, a bad --role, --manager-id or --pools-label) exit with 2, the usual code for bad usage.
var parsed = root.Parse(args);
if (parsed.Errors.Count == 0
    && ResolveRole(parsed.GetValue(roleWords) ?? [], parsed.GetValue(roleOption), parsed.GetResult(roleOption) is { Implicit: false }) is (VmPoolerRole.Manager, null)
    && Environment.GetEnvironmentVariable("DOTNET_ThreadPool_UnfairSemaphoreSpinLimit") is null)
{
    // A manager-only process works in short bursts (a pool's pass, a lease renewal) separated by idle time, and serves
    // no latency-bound requests: its idle thread-pool workers should sleep at once instead of spinning for more work
    // (the spinning was about a third of an idle manager's CPU). Read when the thread pool starts its first worker, so
    // it is set before anything runs on the pool; the environment variable still wins.
    AppContext.SetData("System.Threading.ThreadPool.UnfairSemaphoreSpinLimit", 0);
}

var exitCode = await parsed.InvokeAsync();
return parsed.Errors.Count > 0 ? 2 : exitCode;

// Upstream's role words (spec §1: anything else exits 2); they and --role must agree when both are given.
static (VmPoolerRole Role, string? Error) ResolveRole(string[] words, VmPoolerRole option, bool optionGiven)
{
    if (!UpstreamArguments.TryParseRoleWords(words, out var wordRole))
    {
        return (option, $"unknown role word(s) '{string.Join(" ", words)}': give 'api', 'manager', both, or none.");
    }

    return wordRole is { } role && optionGiven && role != option
        ? (option, "the role words and --role disagree; give one of them.")
        : (wordRole ?? option, null);
}

// --urls, else ASPNETCORE_URLS (read by the host), else upstream's PORT, else the default.
static (string[]? Urls, string? Error) ResolveUrls(string[]? urls)
{
    if (urls is { Length: > 0 } || !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("ASPNETCORE_URLS")))
    {
        return (urls, null);
    }

    return UpstreamArguments.TryListenUrlFromPort(Environment.GetEnvironmentVariable(UpstreamArguments.PortVariable), out var url)
        ? (url is null ? urls : [url], null)
        : (urls, $"{UpstreamArguments.PortVariable} must be a port number 1-65535.");
}

static async Task<VmPoolerOptions?> LoadOptionsAsync(string? configPath)
{
    var environment = Environment.GetEnvironmentVariables()
        .Cast<DictionaryEntry>()
        .ToDictionary(e => (string)e.Key, e => (string?)e.Value, StringComparer.Ordinal);
    var demoConfig = Path.Combine(AppContext.BaseDirectory, "examples", "vmpooler.yaml");
    try
    {
        return ConfigLoader.Load(configPath, environment, Directory.GetCurrentDirectory(), demoConfig, new ProviderFactory(TimeProvider.System));
    }
    catch (ConfigException ex)
    {
        await Console.Error.WriteLineAsync($"vmpooler: the configuration has {ex.Errors.Count} problem(s):");
        foreach (var error in ex.Errors)
        {
            await Console.Error.WriteLineAsync("  - " + error);
        }

        return null;
    }
}

static List<string> RoleProblems(VmPoolerOptions options, VmPoolerRole role)
{
    var problems = new List<string>();
    if (options.Redis is null && role != VmPoolerRole.All)
    {
        problems.Add($"--role {role.ToString().ToLowerInvariant()} needs an inventory shared between processes (a :redis: section); the embedded inventory only works with --role all.");
    }

    return problems;
}
