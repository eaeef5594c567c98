using System.Globalization;
using EcomDr.Engine.Errors;
using EcomDr.Engine.Sources.MySql.Shared;
using MySqlConnector;

namespace EcomDr.Engine.Sources.MySql.Snapshots;

/// <summary>
/// Makes InnoDB's files still under FLUSH TABLES WITH READ LOCK, for a snapshot copied file by file:
/// every dirty page is flushed (innodb_max_dirty_pages_pct 0 for the freeze) and the checkpoint catches
/// up. Purge and the checkpoint itself can still write; they move the log sequence number, so a copy
/// made while it stayed the same is one the files had at one instant (<see cref="UnchangedAsync"/>).
/// </summary>
internal sealed class InnoDbQuiesce(MySqlConnection connection, ServerFlavor flavor)
{
    private const long CaughtUp = 4096; // what a checkpoint record itself adds to the log
    private const long FewDirtyPages = 256; // 4 MiB of 16 KiB pages: flushed under the freeze in well under a second
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(20);
    private readonly List<(string Name, string Value)> _saved = new();
    private bool _asked;
    private bool _raised;
    private bool _still;

    /// <summary>The log sequence number when the files were found still.</summary>
    public long Lsn { get; private set; }

    /// <summary>
    /// Before the freeze, while writes go on: flushing is turned up (innodb_max_dirty_pages_pct 0) and the
    /// page cleaner is given until <paramref name="until"/> to bring the dirty pages down to a few, so that
    /// what is left to flush under the freeze is small. Not reaching it is no error: the freeze then waits longer.
    /// </summary>
    public async Task PreflushAsync(DateTimeOffset until, CancellationToken ct)
    {
        await LowerFlushingAsync(ct).ConfigureAwait(false);
        while (DateTimeOffset.UtcNow < until)
        {
            var (dirty, _, _) = await ReadAsync(ct).ConfigureAwait(false);
            if (dirty <= FewDirtyPages)
            {
                return;
            }

            await Task.Delay(Poll, ct).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Waits until no page is dirty and the checkpoint is at the log's end, or the deadline passes.
    /// Called again after a copy that saw the files change.
    /// </summary>
    public async Task WaitStillAsync(DateTimeOffset deadline, CancellationToken ct)
    {
        var again = _still;
        await LowerFlushingAsync(ct).ConfigureAwait(false);
        await RaiseIoCapacityAsync(ct).ConfigureAwait(false);
        var previous = -1L;
        while (true)
        {
            var (dirty, lsn, checkpoint) = await ReadAsync(ct).ConfigureAwait(false);
            // Still means still for a poll, too: purge, which the freeze does not stop, moves the log
            // between flushes, and a copy begun then would be taken again.
            var settled = lsn == previous;
            previous = lsn;
            if (dirty == 0 && lsn - checkpoint <= CaughtUp && settled)
            {
                Lsn = lsn;
                _still = true;
                return;
            }

            if (DateTimeOffset.UtcNow >= deadline)
            {
                throw new EcomDrException(ErrorIds.SnapshotFreezeTimeout, FailureKind.OperationTimeout, again
                    ? "InnoDB kept writing (purge or checkpoints) while the data directory was copied, until the freeze reached its limit: no still copy could be made. Nothing was kept; writes go on."
                    : $"InnoDB still had {dirty} dirty page(s) and {lsn - checkpoint} bytes of log past its checkpoint when the freeze reached its limit: the files could not be made still for a copy. Nothing was taken; writes go on.",
                    "MaxFreeze");
            }

            await Task.Delay(Poll, ct).ConfigureAwait(false);
        }
    }

    /// <summary>innodb_max_dirty_pages_pct (and its low-water mark) to 0 until the snapshot ends, once; without SUPER the page cleaner's idle flushing is waited for.</summary>
    private async Task LowerFlushingAsync(CancellationToken ct)
    {
        if (_asked)
        {
            return;
        }

        _asked = true;
        await SetAsync("innodb_max_dirty_pages_pct_lwm", "0", ct).ConfigureAwait(false);
        await SetAsync("innodb_max_dirty_pages_pct", "0", ct).ConfigureAwait(false);
    }

    /// <summary>
    /// Under the freeze only: the page cleaner flushes at innodb_io_capacity (200 pages/s by default) when
    /// nothing presses it, so it is given innodb_io_capacity_max while commits wait anyway. Before the
    /// freeze that would take the disk from the writes that go on.
    /// </summary>
    private async Task RaiseIoCapacityAsync(CancellationToken ct)
    {
        if (_raised)
        {
            return;
        }

        _raised = true;
        await SetAsync("innodb_io_capacity", await Sql.ScalarAsync(connection, "SELECT @@GLOBAL.innodb_io_capacity_max", ct).ConfigureAwait(false), ct).ConfigureAwait(false);
    }

    private async Task SetAsync(string name, string target, CancellationToken ct)
    {
        var value = await Sql.ScalarAsync(connection, $"SELECT @@GLOBAL.{name}", ct).ConfigureAwait(false);
        try
        {
            await Sql.ExecAsync(connection, $"SET GLOBAL {name} = {long.Parse(target, CultureInfo.InvariantCulture).ToString(CultureInfo.InvariantCulture)}", ct).ConfigureAwait(false);
            _saved.Add((name, value));
        }
        catch (MySqlException ex) when (ex.ErrorCode is MySqlErrorCode.SpecifiedAccessDeniedError or MySqlErrorCode.AccessDenied)
        {
            // The deadline still holds.
        }
    }

    /// <summary>Whether InnoDB wrote nothing since the files were found still.</summary>
    public async Task<bool> UnchangedAsync(CancellationToken ct)
    {
        var (_, lsn, _) = await ReadAsync(ct).ConfigureAwait(false);
        return lsn == Lsn;
    }

    /// <summary>Puts the flushing settings back as they were.</summary>
    public async Task RestoreSettingsAsync()
    {
        foreach (var (name, value) in _saved)
        {
            await Sql.ExecAsync(connection, $"SET GLOBAL {name} = {double.Parse(value, CultureInfo.InvariantCulture).ToString(CultureInfo.InvariantCulture)}", CancellationToken.None)
                .ConfigureAwait(false);
        }

        _saved.Clear();
    }

    private async Task<(long Dirty, long Lsn, long Checkpoint)> ReadAsync(CancellationToken ct)
    {
        // MariaDB reports the log's state as status variables; MySQL 8 in INNODB_METRICS (enabled by default).
        var sql = flavor == ServerFlavor.MariaDb
            ? "SELECT VARIABLE_NAME, VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME IN ('INNODB_BUFFER_POOL_PAGES_DIRTY','INNODB_LSN_CURRENT','INNODB_LSN_LAST_CHECKPOINT')"
            : "SELECT NAME, COUNT FROM information_schema.INNODB_METRICS WHERE NAME IN ('buffer_pool_pages_dirty','log_lsn_current','log_lsn_last_checkpoint')";
        long dirty = -1, lsn = -1, checkpoint = -1;
        await using (var cmd = new MySqlCommand(sql, connection))
        await using (var r = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false))
        {
            while (await r.ReadAsync(ct).ConfigureAwait(false))
            {
                var value = long.Parse(Convert.ToString(r.GetValue(1), CultureInfo.InvariantCulture)!, CultureInfo.InvariantCulture);
                switch (r.GetString(0).ToUpperInvariant())
                {
                    case "INNODB_BUFFER_POOL_PAGES_DIRTY" or "BUFFER_POOL_PAGES_DIRTY":
                        dirty = value;
                        break;
                    case "INNODB_LSN_CURRENT" or "LOG_LSN_CURRENT":
                        lsn = value;
                        break;
                    case "INNODB_LSN_LAST_CHECKPOINT" or "LOG_LSN_LAST_CHECKPOINT":
                        checkpoint = value;
                        break;
                }
            }
        }

        if (dirty < 0 || lsn < 0 || checkpoint < 0)
        {
            throw new EcomDrException(ErrorIds.SnapshotFreezeTimeout, FailureKind.InvalidOperation,
                "The server does not report InnoDB's dirty pages and log sequence numbers (INNODB_METRICS disabled?), so a file-by-file copy cannot be proven still. Use a volume provider. Nothing was taken.",
                "innodb");
        }

        return (dirty, lsn, checkpoint);
    }
}
