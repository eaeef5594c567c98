using System.Diagnostics;
using EcomDr.Engine.Config;

namespace EcomDr.Engine.Operations.Drills;

/// <summary>
/// A drill's clock: when it started, its reference point (the simulated disaster), the time of each
/// phase, and the total that is the RTO.
/// </summary>
internal sealed class DrillClock
{
    private readonly Stopwatch _total = Stopwatch.StartNew();
    private readonly Stopwatch _lap = Stopwatch.StartNew();

    public DrillClock(DrillOptions options, DrillConfig drill)
    {
        Started = DateTimeOffset.UtcNow;
        Reference = options.ReferencePoint ?? (options.Kind == DrillKind.Pitr ? Started.AddMinutes(-drill.PitrOffsetMinutes) : Started);
    }

    public DateTimeOffset Started { get; }

    public DateTimeOffset Reference { get; }

    public List<DrillPhase> Phases { get; } = new();

    public double TotalSeconds => _total.Elapsed.TotalSeconds;

    /// <summary>Ends the current phase under this name.</summary>
    public void Phase(string name)
    {
        Phases.Add(new DrillPhase(name, Math.Round(_lap.Elapsed.TotalSeconds, 2)));
        _lap.Restart();
    }

    /// <summary>Starts the next phase now (a step that recorded its own phases).</summary>
    public void Lap() => _lap.Restart();
}
