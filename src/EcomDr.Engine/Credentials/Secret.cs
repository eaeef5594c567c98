namespace EcomDr.Engine.Credentials;

/// <summary>
/// A secret value that never prints itself: ToString, debugger display and serializers see a
/// placeholder. Only <see cref="Reveal"/> returns the value, at the one place that must hand it to
/// a driver.
/// </summary>
[System.Diagnostics.DebuggerDisplay("***")]
public sealed class Secret
{
    private readonly string _value;

    public Secret(string value) => _value = value ?? throw new ArgumentNullException(nameof(value));

    public static Secret Empty { get; } = new(string.Empty);

    public bool IsEmpty => _value.Length == 0;

    public string Reveal() => _value;

    /// <summary>The value as UTF-8 in a fresh array the caller zeroes after use (wire authentication).</summary>
    public byte[] RevealBytes() => System.Text.Encoding.UTF8.GetBytes(_value);

    public override string ToString() => "***";
}
