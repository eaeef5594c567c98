using System.Diagnostics;
using EcomDr.Engine.Errors;
using EcomDr.Engine.Sources.MySql.Dump;
using EcomDr.Engine.Sources.MySql.Shared;
using MySqlConnector;

namespace EcomDr.Engine.Sources.MySql.Snapshots;

/// <summary>
/// Holds commits still on one connection while a volume snapshot is taken, and records where the binlog
/// stands. An atomic snapshot (a volume's, at one instant) needs commits blocked only: MariaDB's
/// BACKUP STAGE BLOCK_COMMIT, MySQL's LOCK INSTANCE FOR BACKUP plus FLUSH TABLES WITH READ LOCK. A copy
/// made file by file (the directory provider) needs the files themselves still: every write blocked
/// (FLUSH TABLES WITH READ LOCK on both), then InnoDB's dirty pages flushed and its checkpoint caught up
/// (<see cref="InnoDbQuiesce"/>); flushing is turned up before the lock, while writes go on, so that
/// little is left to flush under it. Either way FLUSH ENGINE LOGS puts the redo on disk first; it is kept
/// out of the binlog (NO_WRITE_TO_BINLOG), or it would be a transaction of its own in the GTID state.
/// The lock is the connection's: if this process dies, the server releases it.
/// </summary>
internal sealed class SnapshotFreeze : IAsyncDisposable
{
    private readonly MySqlConnection _connection;
    private readonly ServerFlavor _flavor;
    private readonly bool _backupStage;
    private readonly bool _instanceLock;
    private readonly Stopwatch _held;
    private readonly InnoDbQuiesce? _quiesce;
    private bool _released;

    private SnapshotFreeze(MySqlConnection connection, ServerFlavor flavor, bool backupStage, bool instanceLock, string method, InnoDbQuiesce? quiesce)
    {
        _connection = connection;
        _flavor = flavor;
        _backupStage = backupStage;
        _instanceLock = instanceLock;
        _quiesce = quiesce;
        Method = method;
        _held = Stopwatch.StartNew();
    }

    public string Method { get; }

    public string BinlogFile { get; private set; } = "";

    public long BinlogPosition { get; private set; }

    public string GtidSet { get; private set; } = "";

    /// <summary>How long commits have been (or were) blocked.</summary>
    public TimeSpan Held => _held.Elapsed;

    /// <summary>InnoDB's log sequence number while the files are still (quiesced freezes only).</summary>
    public InnoDbQuiesce? Quiesce => _quiesce;

    /// <summary>When the freeze must end: its start plus MaxFreeze.</summary>
    public DateTimeOffset Deadline { get; private set; }

    public static async Task<SnapshotFreeze> BeginAsync(MySqlConnection connection, ServerFlavor flavor, bool quiesceFiles, TimeSpan maxFreeze, CancellationToken ct)
    {
        SnapshotFreeze freeze;
        try
        {
            if (flavor == ServerFlavor.MariaDb && !quiesceFiles)
            {
                await Sql.ExecAsync(connection, "BACKUP STAGE START", ct).ConfigureAwait(false);
                freeze = new SnapshotFreeze(connection, flavor, backupStage: true, instanceLock: false, "BACKUP STAGE BLOCK_COMMIT", null);
                await Sql.ExecAsync(connection, "BACKUP STAGE BLOCK_COMMIT", ct).ConfigureAwait(false);
            }
            else
            {
                var quiesce = quiesceFiles ? new InnoDbQuiesce(connection, flavor) : null;
                if (quiesce is not null)
                {
                    // Most of the flushing happens here, while writes go on, so that the freeze is short.
                    await quiesce.PreflushAsync(DateTimeOffset.UtcNow + maxFreeze, ct).ConfigureAwait(false);
                }

                var instanceLock = flavor == ServerFlavor.MySql;
                if (instanceLock)
                {
                    await Sql.ExecAsync(connection, "LOCK INSTANCE FOR BACKUP", ct).ConfigureAwait(false);
                }

                freeze = new SnapshotFreeze(connection, flavor, backupStage: false, instanceLock,
                    (instanceLock ? "LOCK INSTANCE FOR BACKUP, " : "") + "FLUSH TABLES WITH READ LOCK" + (quiesceFiles ? ", InnoDB quiesced" : ""),
                    quiesce);
                await Sql.ExecAsync(connection, "FLUSH TABLES WITH READ LOCK", ct).ConfigureAwait(false);
            }
        }
        catch (MySqlException ex) when (ex.ErrorCode is MySqlErrorCode.SpecifiedAccessDeniedError or MySqlErrorCode.AccessDenied or MySqlErrorCode.DatabaseAccessDenied)
        {
            await ReleaseQuietlyAsync(connection, flavor).ConfigureAwait(false);
            throw new EcomDrException(ErrorIds.PermissionDenied, FailureKind.PermissionDenied,
                $"A volume snapshot blocks commits and needs RELOAD{(flavor == ServerFlavor.MySql ? " and BACKUP_ADMIN" : "")} ({ex.Message}); grant it (see Test-DrPrerequisite). Nothing was taken.",
                "RELOAD", ex);
        }

        try
        {
            freeze._held.Restart();
            freeze.Deadline = DateTimeOffset.UtcNow + maxFreeze;
            await Sql.ExecAsync(connection, "FLUSH NO_WRITE_TO_BINLOG ENGINE LOGS", ct).ConfigureAwait(false);
            (freeze.BinlogFile, freeze.BinlogPosition, freeze.GtidSet) = await SnapshotCoordinator.CoordinatesAsync(connection, flavor, ct).ConfigureAwait(false);
            if (freeze._quiesce is { } quiesce)
            {
                await quiesce.WaitStillAsync(freeze.Deadline, ct).ConfigureAwait(false);
            }

            return freeze;
        }
        catch
        {
            await freeze.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Lets commits go on. Safe to call twice; the time held stops here.</summary>
    public async Task ReleaseAsync()
    {
        if (_released)
        {
            return;
        }

        _released = true;
        _held.Stop();
        if (_quiesce is not null)
        {
            await _quiesce.RestoreSettingsAsync().ConfigureAwait(false);
        }

        if (_backupStage)
        {
            await Sql.ExecAsync(_connection, "BACKUP STAGE END", CancellationToken.None).ConfigureAwait(false);
        }
        else
        {
            await Sql.ExecAsync(_connection, "UNLOCK TABLES", CancellationToken.None).ConfigureAwait(false);
            if (_instanceLock)
            {
                await Sql.ExecAsync(_connection, "UNLOCK INSTANCE", CancellationToken.None).ConfigureAwait(false);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await ReleaseAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is MySqlException or InvalidOperationException or System.IO.IOException)
        {
            // The connection is gone, and with it the lock: the server released it.
        }
    }

    private static async Task ReleaseQuietlyAsync(MySqlConnection connection, ServerFlavor flavor)
    {
        foreach (var sql in flavor == ServerFlavor.MariaDb ? new[] { "BACKUP STAGE END", "UNLOCK TABLES" } : new[] { "UNLOCK TABLES", "UNLOCK INSTANCE" })
        {
            try
            {
                await Sql.ExecAsync(connection, sql, CancellationToken.None).ConfigureAwait(false);
            }
            catch (MySqlException)
            {
                // Nothing of it was held.
            }
        }
    }
}
