namespace VmPooler.Core.Import;

/// <summary>A token of the Ruby vmpooler (<c>vmpooler__token__&lt;token&gt;</c>): the token itself, its user and times.</summary>
public sealed record RubyToken(string Token, string User, DateTimeOffset Created, DateTimeOffset? Last);
