namespace EcomDr.Common;

/// <summary>
/// An IProgress that keeps only the latest report: engine threads write it, the pipeline thread
/// reads it when it is time to draw progress (cmdlets may only write from their own thread).
/// </summary>
internal sealed class LatestProgress<T> : IProgress<T>
{
    private readonly object _gate = new();
    private T? _value;
    private bool _has;

    public void Report(T value)
    {
        lock (_gate)
        {
            _value = value;
            _has = true;
        }
    }

    public bool TryGet(out T value)
    {
        lock (_gate)
        {
            value = _value!;
            return _has;
        }
    }
}
