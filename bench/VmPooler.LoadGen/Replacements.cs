namespace VmPooler.LoadGen;

/// <summary>
/// Checkout → replacement delays in milliseconds, sorted: <see cref="CloneStarted"/> from the replacement's <c>clone</c>
/// time (written by the manager when it registers the VM), <see cref="Ready"/> from its <c>ready</c> time (written when
/// it moves the VM to ready), <see cref="ReadySeen"/> when the load generator saw it in the ready set (an upper bound that
/// includes the polling).
/// </summary>
internal sealed record Replacements(double[] CloneStarted, double[] Ready, double[] ReadySeen, int Missed)
{
    public int Count => Ready.Length;
}
