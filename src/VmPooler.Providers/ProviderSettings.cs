using VmPooler.Core.Configuration;

namespace VmPooler.Providers;

/// <summary>Glue between Core's <see cref="ConfigReader"/> and the providers' <c>Parse(settings, path, errors)</c> forms.</summary>
internal static class ProviderSettings
{
    /// <summary>Adds every problem <paramref name="reader"/> recorded to <paramref name="errors"/>, in order.</summary>
    public static void CopyErrors(ConfigReader reader, ICollection<string> errors)
    {
        foreach (var error in reader.Errors)
        {
            errors.Add(error);
        }
    }
}
