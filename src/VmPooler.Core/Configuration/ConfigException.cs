namespace VmPooler.Core.Configuration;

/// <summary>
/// The configuration could not be loaded. <see cref="Errors"/> lists every problem found, each starting with the
/// key path (or file) it concerns; <see cref="Exception.Message"/> is all of them, one per line.
/// </summary>
public sealed class ConfigException : Exception
{
    public ConfigException()
        : this([])
    {
    }

    public ConfigException(string message)
        : this([message])
    {
    }

    public ConfigException(string message, Exception innerException)
        : base(message, innerException)
    {
        Errors = [message];
    }

    public ConfigException(IEnumerable<string> errors)
        : this(errors.ToArray())
    {
    }

    private ConfigException(string[] errors)
        : base(errors.Length == 0 ? "The configuration is invalid." : string.Join('\n', errors))
    {
        Errors = errors;
    }

    /// <summary>Every problem found, in the order found.</summary>
    public IReadOnlyList<string> Errors { get; }
}
