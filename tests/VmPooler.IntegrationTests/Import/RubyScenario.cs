using VmPooler.IntegrationTests.Fixtures;

namespace VmPooler.IntegrationTests.Import;

/// <summary>
/// A Ruby vmpooler's Redis with every kind of record the import carries (tokens, VMs in every state, overrides, a pool
/// reset, an on-demand request in progress, clone/boot/tag history, last boots), plus malformed and unmappable ones and
/// the Ruby manager's bookkeeping, written relative to "now" (<see cref="Now"/>).
/// </summary>
public static class RubyScenario
{
    public static readonly DateTimeOffset Now = new(2026, 12, 6, 12, 0, 0, TimeSpan.Zero);

    public const string AliceToken = "abcdefghijklmnopqrstuvwxyz012345";
    public const string BobToken = "bcdefghijklmnopqrstuvwxyz0123456";
    public const string NoUserToken = "cdefghijklmnopqrstuvwxyz01234567";
    public const string BadCreatedToken = "defghijklmnopqrstuvwxyz012345678";
    public const string ShortToken = "tooshort-token";

    /// <summary>The VMs that are imported, by name → Ruby state set.</summary>
    public static readonly IReadOnlyDictionary<string, string> ImportedVms = new Dictionary<string, string>
    {
        ["vm-run1"] = "running",
        ["vm-run2"] = "running",
        ["vm-od1"] = "running",
        ["vm-ready-old"] = "ready",
        ["vm-ready-new"] = "ready",
        ["vm-pend1"] = "pending",
        ["vm-done1"] = "completed",
    };

    /// <summary>Records that must be skipped, each with a word its reason must contain.</summary>
    public static readonly IReadOnlyList<(string Record, string Reason)> Skipped =
    [
        ("vm vm-gone1", "not in the configuration"),
        ("vm vm-badlife", "lifetime"),
        ("vm vm-nocheckout", "checkout time"),
        ("vm vm-nohash", "no metadata hash"),
        ("vm vm-twice", "several state sets"),
        ("vm vm-badtime", "not a time"),
        ("vm vmpooler__vm__vm_str", "expected a hash"),
        ("vm vm-otherpool", "says pool"),
        ("vm vm-underscore", "bookkeeping"),
        ("token toos...oken", "32 characters"),
        ("token vmpooler__token__cdef...4567", "no user"),
        ("token vmpooler__token__defg...5678", "'created' is not a time"),
        ("pool override size of centos", "not a pool size"),
        ("pool override size of gone", "not in the configuration"),
        ("on-demand request req-bad", "requested"),
        ("on-demand request req-gone", "not in the configuration"),
        ("on-demand request req-orphan", "no vmpooler__odrequest__ hash"),
        ("clone duration vmpooler__clone__2026-12-03 debian:vmD", "not a number"),
        ("clone duration vmpooler__clone__someday", "date"),
        ("tag record 2026-12-05 nocolon", "<vm>:<tag>"),
        ("last boot retired", "no boot duration"),
        ("queued task snapshot vm-run1:snapA", "ask for it again"),
        ("key vmpooler__mystery", "not a key"),
    ];

    public static async Task WriteAsync(RubyVmpoolerRedis ruby)
    {
        await WriteTokensAsync(ruby);
        await WriteVmsAsync(ruby);
        await WriteMalformedVmsAsync(ruby);
        await WriteSettingsAndRequestsAsync(ruby);
        await WriteHistoryAsync(ruby);
        await WriteBookkeepingAsync(ruby);
    }

    private static string T(TimeSpan ago) => RubyVmpoolerRedis.Time(Now - ago);

    private static async Task WriteTokensAsync(RubyVmpoolerRedis ruby)
    {
        await ruby.TokenAsync(AliceToken, "alice", Now.AddDays(-10), Now.AddDays(-1));
        await ruby.TokenAsync(BobToken, "bob", Now.AddDays(-5));
        await ruby.TokenAsync(ShortToken, "carol", Now.AddDays(-5));
        await ruby.HashAsync("vmpooler__token__" + NoUserToken, ("created", T(TimeSpan.FromDays(3))));
        await ruby.HashAsync("vmpooler__token__" + BadCreatedToken, ("user", "dave"), ("created", "last tuesday"));
    }

    private static async Task WriteVmsAsync(RubyVmpoolerRedis ruby)
    {
        await ruby.VmAsync(
            "running", "debian", "vm-run1",
            ("clone", T(TimeSpan.FromHours(3))), ("template", "debian"), ("pool", "debian"), ("domain", "example.com"),
            ("clone_time", "42.5"), ("ip", "10.0.0.5"), ("ready", T(TimeSpan.FromMinutes(170))), ("check", T(TimeSpan.FromMinutes(170))),
            ("checkout", T(TimeSpan.FromHours(2))), ("token:token", AliceToken), ("token:user", "alice"), ("lifetime", "12"),
            ("tag:jenkins", "build-7"), ("tag:project", "import"), ("snapshot:snap1", T(TimeSpan.FromHours(1))), ("disk", "+8gb:+16gb"),
            ("user_tagged", "true"));
        // Its checkout time only in the Ruby manager's active hash; no token, no lifetime (the default applies).
        await ruby.VmAsync("running", "debian", "vm-run2", ("clone", T(TimeSpan.FromHours(1))), ("template", "debian"), ("pool", "debian"));
        await ruby.HashAsync("vmpooler__active__debian", ("vm-run2", T(TimeSpan.FromMinutes(30))));
        await ruby.VmAsync(
            "running", "debian", "vm-od1",
            ("clone", T(TimeSpan.FromMinutes(20))), ("template", "debian"), ("pool", "debian"), ("request_id", "req-1"), ("pool_alias", "debian"),
            ("checkout", T(TimeSpan.FromMinutes(10))), ("token:token", AliceToken), ("token:user", "alice"));
        await ruby.VmAsync("ready", "debian", "vm-ready-new", ("clone", T(TimeSpan.FromMinutes(15))), ("ready", T(TimeSpan.FromMinutes(10))), ("check", T(TimeSpan.FromMinutes(5))), ("template", "debian"), ("pool", "debian"));
        await ruby.VmAsync("ready", "debian", "vm-ready-old", ("clone", T(TimeSpan.FromMinutes(55))), ("ready", T(TimeSpan.FromMinutes(50))), ("check", T(TimeSpan.FromMinutes(5))), ("template", "debian"), ("pool", "debian"));
        await ruby.VmAsync("pending", "centos", "vm-pend1", ("clone", T(TimeSpan.FromMinutes(2))), ("template", "centos"), ("pool", "centos"));
        await ruby.VmAsync(
            "completed", "centos", "vm-done1",
            ("clone", T(TimeSpan.FromHours(6))), ("template", "centos"), ("pool", "centos"), ("checkout", T(TimeSpan.FromHours(5))),
            ("token:token", BobToken), ("token:user", "bob"));
    }

    private static async Task WriteMalformedVmsAsync(RubyVmpoolerRedis ruby)
    {
        await ruby.VmAsync("ready", "gone", "vm-gone1", ("clone", T(TimeSpan.FromHours(1))), ("template", "gone"), ("pool", "gone"));
        await ruby.VmAsync("running", "debian", "vm-badlife", ("checkout", T(TimeSpan.FromHours(1))), ("lifetime", "forever"));
        await ruby.VmAsync("running", "debian", "vm-nocheckout", ("clone", T(TimeSpan.FromHours(1))), ("pool", "debian"));
        await ruby.VmAsync("ready", "debian", "vm-nohash");
        await ruby.VmAsync("ready", "debian", "vm-twice", ("clone", T(TimeSpan.FromHours(1))));
        await ruby.VmAsync("running", "debian", "vm-twice", ("checkout", T(TimeSpan.FromHours(1))));
        await ruby.VmAsync("pending", "centos", "vm-badtime", ("clone", "yesterday"));
        await ruby.VmAsync("ready", "debian", "vm-otherpool", ("clone", T(TimeSpan.FromHours(1))), ("pool", "centos"));
        await ruby.VmAsync("ready", "debian", "vm-underscore", ("clone", T(TimeSpan.FromHours(1))), ("_state", "running"));
        await ruby.VmAsync("ready", "debian", "vm_str");
        await ruby.Db.StringSetAsync("vmpooler__vm__vm_str", "not a hash");
        // Metadata of a destroyed VM the Ruby manager keeps for data_ttl: in no state set.
        await ruby.HashAsync("vmpooler__vm__vm-destroyed", ("clone", T(TimeSpan.FromDays(2))), ("destroy", T(TimeSpan.FromDays(1))));
    }

    private static async Task WriteSettingsAndRequestsAsync(RubyVmpoolerRedis ruby)
    {
        await ruby.HashAsync("vmpooler__config__poolsize", ("debian", "4"), ("centos", "lots"), ("gone", "3"));
        await ruby.HashAsync("vmpooler__config__template", ("centos", "templates/centos-9-new"));
        await ruby.HashAsync("vmpooler__config__clone_target", ("debian", "cluster2"));
        await ruby.Db.SetAddAsync("vmpooler__poolreset", "centos");

        await ruby.Db.SortedSetAddAsync("vmpooler__provisioning__request", "req-1", (Now - TimeSpan.FromMinutes(25)).ToUnixTimeSeconds());
        await ruby.HashAsync("vmpooler__odrequest__req-1", ("requested", "debian:debian:2"), ("token:token", AliceToken), ("token:user", "alice"));
        await ruby.Db.SetAddAsync("vmpooler__req-1__debian__debian", "vm-od1");
        await ruby.HashAsync("vmpooler__odrequest__req-done", ("requested", "debian:debian:1"), ("status", "ready"));
        await ruby.Db.SetAddAsync("vmpooler__req-done__debian__debian", "vm-long-gone");
        await ruby.Db.SortedSetAddAsync("vmpooler__provisioning__processing", "req-bad", Now.ToUnixTimeSeconds());
        await ruby.HashAsync("vmpooler__odrequest__req-bad", ("requested", "debian"));
        await ruby.Db.SortedSetAddAsync("vmpooler__provisioning__processing", "req-gone", Now.ToUnixTimeSeconds());
        await ruby.HashAsync("vmpooler__odrequest__req-gone", ("requested", "gone:gone:1"));
        await ruby.Db.SortedSetAddAsync("vmpooler__provisioning__request", "req-orphan", Now.ToUnixTimeSeconds());
    }

    private static async Task WriteHistoryAsync(RubyVmpoolerRedis ruby)
    {
        await ruby.HashAsync("vmpooler__clone__2026-12-05", ("debian:vmA", "30.5"), ("centos:vmB", "40"));
        await ruby.HashAsync("vmpooler__boot__2026-12-05", ("debian:vmA", "60"), ("centos:vmB", "61.5"));
        await ruby.HashAsync("vmpooler__clone__2026-12-04", ("debian:vmC", "20"), ("nopool", "10"));
        await ruby.HashAsync("vmpooler__clone__2026-12-03", ("debian:vmD", "abc"));
        await ruby.HashAsync("vmpooler__clone__someday", ("debian:vmE", "1"));
        await ruby.HashAsync("vmpooler__tag__2026-12-05", ("vmA:jenkins", "build-1"), ("vmB:jenkins", "build-2"), ("nocolon", "x"));
        await ruby.HashAsync("vmpooler__lastboot", ("debian", "2026-12-05 11:00:00 +0000"), ("centos", "2026-12-05 09:00:00 +0000"), ("retired", "2026-12-01 10:00:00 +0000"));
    }

    private static async Task WriteBookkeepingAsync(RubyVmpoolerRedis ruby)
    {
        await ruby.Db.SetAddAsync("vmpooler__tasks__snapshot", "vm-run1:snapA");
        await ruby.Db.StringSetAsync("vmpooler__tasks__clone", "3");
        await ruby.Db.SetAddAsync("vmpooler__pools", ["debian", "centos"]);
        await ruby.HashAsync("vmpooler__pool__debian", ("name", "debian"), ("size", "2"));
        await ruby.Db.StringSetAsync("vmpooler__empty__centos", "true");
        await ruby.Db.SortedSetAddAsync("vmpooler__dlq__clone", "vm-x:1:{}", 1);
        await ruby.Db.SetAddAsync("vmpooler__migrating__debian", "vm-run1");
        await ruby.Db.StringSetAsync("vmpooler__mystery", "?");
    }
}
