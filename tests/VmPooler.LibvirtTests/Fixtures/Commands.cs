using System.Diagnostics;

namespace VmPooler.LibvirtTests.Fixtures;

/// <summary>Runs the tools the fixtures set hosts up with (virsh, ssh-keygen, …); the provider itself never shells out.</summary>
public static class Commands
{
    public sealed record Result(int ExitCode, string Output, string Error);

    public static async Task<Result> RunAsync(string file, params string[] arguments)
    {
        var startInfo = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        using var process = Process.Start(startInfo)!;
        process.StandardInput.Close();
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(2));
        return new Result(process.ExitCode, (await output).Trim(), (await error).Trim());
    }

    /// <summary>Runs the command and fails the test with its output when it does not succeed.</summary>
    public static async Task<string> CheckAsync(string file, params string[] arguments)
    {
        var result = await RunAsync(file, arguments);
        result.ExitCode.ShouldBe(0, $"{file} {string.Join(' ', arguments)}: {result.Error} {result.Output}");
        return result.Output;
    }

    public static Task<Result> VirshAsync(string uri, params string[] arguments) => RunAsync("virsh", ["-c", uri, .. arguments]);
}
