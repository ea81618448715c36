using System.Diagnostics;

namespace VmPooler.LoadGen;

/// <summary>What the vmpooler build under test offers, read from its <c>--help</c> (so one load generator measures before and after a change).</summary>
internal static class VmpoolerFeatures
{
    private static readonly Dictionary<string, string> HelpTexts = new(StringComparer.Ordinal);

    /// <summary>Whether the build takes <c>--manager-id ID</c> (per-pool leases: several managers share the pools).</summary>
    public static bool HasManagerId(string vmpoolerDll) => Help(vmpoolerDll).Contains("--manager-id", StringComparison.Ordinal);

    private static string Help(string vmpoolerDll)
    {
        lock (HelpTexts)
        {
            if (!HelpTexts.TryGetValue(vmpoolerDll, out var text))
            {
                var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
                info.ArgumentList.Add(vmpoolerDll);
                info.ArgumentList.Add("--help");
                using var process = Process.Start(info) ?? throw new InvalidOperationException("could not start dotnet " + vmpoolerDll);
                var error = process.StandardError.ReadToEndAsync();
                text = process.StandardOutput.ReadToEnd() + error.GetAwaiter().GetResult();
                process.WaitForExit();
                HelpTexts[vmpoolerDll] = text;
            }

            return text;
        }
    }
}
