using System.Collections.Concurrent;
using System.Management.Automation;
using EcomDr.Common;
using EcomDr.Engine.Operations.Telemetry;
using EcomDr.Engine.Sources.MySql.Binlog;

namespace EcomDr.Commands;

/// <summary>Ships the MySQL/MariaDB binlog into the repository as a replica would, continuing exactly where the last run stopped.</summary>
[Cmdlet(VerbsCommunications.Send, "Binlog", SupportsShouldProcess = true)]
[OutputType(typeof(BinlogSegment))]
public sealed class SendBinlogCommand : MySqlSourceCmdlet, IJobCmdlet
{
    /// <summary>Push this job's metrics to this Pushgateway (before ECOMDR_PUSHGATEWAY_URL and the configuration's telemetry.pushgatewayUrl).</summary>
    [Parameter]
    [ValidatePattern("^https?://")]
    public string? PushgatewayUrl { get; set; }

    /// <summary>Stay connected and ship continuously until Ctrl+C.</summary>
    [Parameter]
    public SwitchParameter Follow { get; set; }

    /// <summary>With -Follow: the longest a received event waits before its segment is stored (seconds).</summary>
    [Parameter]
    [ValidateRange(1, 3600)]
    public int MaxLag { get; set; } = 30;

    /// <summary>A segment is cut at this size (MiB) even inside a file.</summary>
    [Parameter]
    [ValidateRange(1, 4096)]
    public int MaxSegmentMB { get; set; } = 64;

    /// <summary>FLUSH BINARY LOGS first, so the file being written is closed and shipped whole.</summary>
    [Parameter]
    public SwitchParameter Rotate { get; set; }

    /// <summary>Start a new chain (after a gap or a server change): at -From, else at the oldest binlog the server has.</summary>
    [Parameter]
    public SwitchParameter StartNewChain { get; set; }

    /// <summary>Where a new chain starts, as "file:position" (binlog.000042:4).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? From { get; set; }

    /// <summary>The server id to register with as a replica (default: the configuration's, else derived from the host name).</summary>
    [Parameter]
    [ValidateRange(1, int.MaxValue)]
    public int ReplicaServerId { get; set; }

    protected override void EndProcessing()
    {
        var config = LoadConfig();
        var environment = Run(() => config.GetEnvironment(Environment));
        var endpoint = ResolveSource(config, environment);
        if (From is not null && !StartNewChain)
        {
            Fail(Engine.Errors.ErrorIds.InvalidArgument, Engine.Errors.FailureKind.InvalidArgument,
                "-From starts a new chain: use it with -StartNewChain (an existing chain always continues from its last segment).", From);
        }

        var replicaId = ReplicaServerId > 0 ? ReplicaServerId : environment.MySql?.ReplicaServerId > 0 ? environment.MySql.ReplicaServerId : (int)ShipOptions.DerivedReplicaServerId();
        BinlogCoordinate? start = From is null ? null : Run(() => BinlogCoordinate.Parse(From, "-From"));
        using var repository = OpenRepository(forWriting: true);
        var chain = Run(ct => BinlogChain.LoadAsync(repository.Context, ct));
        var plan = chain.Newest is { } last && !StartNewChain
            ? $"continue chain {last.ChainId} at {last.Next}"
            : $"start a new chain at {(start is null ? "the oldest binlog on the server" : From)}";
        if (!ShouldProcess($"{endpoint.Display} -> {repository.Context.Store.Location}", $"Ship binlog ({plan})"))
        {
            return;
        }

        WriteVerbose($"Shipping from {endpoint.Display} as replica server id {replicaId}: {plan}{(Follow ? $", following, segments at least every {MaxLag} s" : ", up to the current end")}.");
        var options = new ShipOptions((uint)replicaId, Follow, TimeSpan.FromSeconds(MaxLag), MaxSegmentMB * (1L << 20), Rotate, StartNewChain, start);
        var segments = new ConcurrentQueue<BinlogSegment>();
        var progress = new LatestProgress<ShipProgress>();
        var activity = $"Shipping binlog from {endpoint.Display}";
        void Drain()
        {
            while (segments.TryDequeue(out var segment))
            {
                WriteObject(segment);
            }

            if (progress.TryGet(out var p))
            {
                WriteProgress(new ProgressRecord(7, activity, $"{p.Segments} segment(s), {FormatBytes(p.BytesShipped)}") { CurrentOperation = $"{p.File}:{p.Position} — {p.State}" });
            }
        }

        // Segments are written out as they are stored. Ctrl+C stores the segment in flight and stops
        // (within a heartbeat); if that takes too long, the shipper is aborted and the segment stays
        // incomplete, to be shipped again by the next run.
        using var abort = new CancellationTokenSource();
        using var onStop = CancelToken.Register(() => abort.CancelAfter(TimeSpan.FromSeconds(Math.Min(MaxLag, 20) + 10)));
        long stored = 0;
        DateTimeOffset? newest = chain.Newest?.LastEventTime;
        var count = RunJob(repository, "binlog-shipping", BinlogSegment.Kind, _ => BinlogShipper.ShipAsync(repository.Context, endpoint, options, s =>
        {
            Interlocked.Add(ref stored, s.StoredBytes);
            newest = s.LastEventTime ?? newest;
            segments.Enqueue(s);
            return Task.CompletedTask;
        }, progress, abort.Token, stop: CancelToken), n => new JobResult(true, stored, n, newest is { } t
            // A completed pass reached the server's end: nothing committed before it is exposed.
            ? new Dictionary<string, double> { [MetricNames.ShippedEvent] = t.ToUnixTimeSeconds(), [MetricNames.RpoExposure] = 0 }
            : null), Drain);
        Drain();
        CompleteProgress(7, activity);
        WriteVerbose($"{count} segment(s) shipped.");
    }
}
