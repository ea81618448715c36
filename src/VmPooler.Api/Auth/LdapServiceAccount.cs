namespace VmPooler.Api.Auth;

/// <summary><c>service_account_hash</c>: the account that may search for users.</summary>
internal sealed record LdapServiceAccount(string UserDn, string Password)
{
    // Keep the password out of ToString (records print every property).
    public override string ToString() => $"LdapServiceAccount {{ UserDn = {UserDn} }}";
}
