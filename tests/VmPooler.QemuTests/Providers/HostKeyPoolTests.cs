using VmPooler.Providers.Qemu;

namespace VmPooler.QemuTests.Providers;

/// <summary>The host keys made ahead of the clones: each handed out once, made on the spot when none is ready (no VMs needed).</summary>
public class HostKeyPoolTests
{
    private static int _made;

    /// <summary>A distinct key each call: only its bytes matter here (a real one is made by dropbearkey).</summary>
    private static Task<DropbearHostKey> MakeAsync(CancellationToken cancellationToken)
    {
        var n = Interlocked.Increment(ref _made);
        return Task.FromResult(new DropbearHostKey(BitConverter.GetBytes(n), $"key-{n}"));
    }

    [Fact]
    public async Task ConcurrentTakes_NeverGetTheSameKeyTwice()
    {
        var pool = new HostKeyPool(MakeAsync, size: 4);
        pool.Refill();
        await pool.Filling;

        var keys = await Task.WhenAll(Enumerable.Range(0, 200).Select(_ => Task.Run(() => pool.TakeAsync(CancellationToken.None))));
        await pool.Filling;

        keys.Select(k => k.Fingerprint).Distinct().Count().ShouldBe(200);
        pool.Count.ShouldBeLessThanOrEqualTo(4);
    }

    [Fact]
    public async Task TakeAsync_HandsOutAReadyKey_AndRefillsBehindIt()
    {
        var made = new List<string>();
        var pool = new HostKeyPool(
            async ct =>
            {
                var key = await MakeAsync(ct);
                lock (made)
                {
                    made.Add(key.Fingerprint);
                }

                return key;
            },
            size: 2);
        pool.Refill();
        await pool.Filling;
        pool.Count.ShouldBe(2);

        var key = await pool.TakeAsync(CancellationToken.None);
        await pool.Filling;

        key.Fingerprint.ShouldBe(made[0], "the oldest ready key, not one made for the call");
        pool.Count.ShouldBe(2);
        made.Count.ShouldBe(3);
    }

    [Fact]
    public async Task WhenKeysCannotBeMade_TakeAsyncReportsWhy()
    {
        var pool = new HostKeyPool(_ => throw new InvalidOperationException("dropbearkey -t ed25519 failed: exit 1"), size: 2);
        pool.Refill();
        await pool.Filling;

        pool.Count.ShouldBe(0);
        (await Should.ThrowAsync<InvalidOperationException>(() => pool.TakeAsync(CancellationToken.None))).Message.ShouldContain("dropbearkey");
    }

    [Fact]
    public void RemoveLeftovers_RemovesOnlyOldKeyFiles()
    {
        var directory = Directory.CreateTempSubdirectory("vmpooler-hostkeys-").FullName;
        try
        {
            var now = new DateTimeOffset(2026, 12, 7, 4, 0, 0, TimeSpan.Zero);
            var old = Path.Combine(directory, "hostkey-0a1b2c3d.tmp");
            var fresh = Path.Combine(directory, "hostkey-4e5f6a7b.tmp");
            var other = Path.Combine(directory, "vm.json");
            foreach (var path in new[] { old, fresh, other })
            {
                File.WriteAllText(path, "x");
                File.SetLastWriteTimeUtc(path, now.UtcDateTime.AddHours(-1));
            }

            File.SetLastWriteTimeUtc(fresh, now.UtcDateTime.AddMinutes(-1));

            DropbearHostKey.RemoveLeftovers(directory, TimeSpan.FromMinutes(10), now).ShouldBe(1);

            File.Exists(old).ShouldBeFalse();
            File.Exists(fresh).ShouldBeTrue("a key another process is making right now is left alone");
            File.Exists(other).ShouldBeTrue();
            DropbearHostKey.RemoveLeftovers(Path.Combine(directory, "missing"), TimeSpan.FromMinutes(10), now).ShouldBe(0);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
