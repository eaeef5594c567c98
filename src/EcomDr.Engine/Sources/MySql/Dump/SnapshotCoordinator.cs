using System.Diagnostics;
using EcomDr.Engine.Errors;
using EcomDr.Engine.Sources.MySql.Shared;
using EcomDr.Engine.Sources.MySql.Wire;
using MySqlConnector;

namespace EcomDr.Engine.Sources.MySql.Dump;

/// <summary>Where the binlog stood at the snapshot every worker reads from.</summary>
public sealed record SnapshotPoint(string BinlogFile, long BinlogPosition, string GtidSet, string Method, TimeSpan LockHeld, IReadOnlyList<string> Warnings);

/// <summary>
/// Starts one consistent snapshot on every worker connection and records its exact binlog
/// coordinates. Commits are blocked only while the workers open their snapshots (milliseconds):
/// MariaDB with BACKUP STAGE BLOCK_COMMIT, MySQL with FLUSH TABLES WITH READ LOCK; both need RELOAD.
/// Without RELOAD on MariaDB a single worker's snapshot carries its own coordinates
/// (binlog_snapshot_file/position), with a warning that the dump is then single-threaded.
/// </summary>
internal static class SnapshotCoordinator
{
    public static async Task<SnapshotPoint> StartAsync(MySqlConnection control, IReadOnlyList<WireConnection> workers, ServerFlavor flavor, CancellationToken ct)
    {
        var warnings = new List<string>();
        foreach (var worker in workers)
        {
            await worker.ExecuteAsync("SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ", ct).ConfigureAwait(false);
        }

        var clock = Stopwatch.StartNew();
        string method;
        try
        {
            if (flavor == ServerFlavor.MariaDb)
            {
                await Sql.ExecAsync(control, "BACKUP STAGE START", ct).ConfigureAwait(false);
                await Sql.ExecAsync(control, "BACKUP STAGE BLOCK_COMMIT", ct).ConfigureAwait(false);
                method = "BACKUP STAGE BLOCK_COMMIT";
            }
            else
            {
                await Sql.ExecAsync(control, "FLUSH TABLES WITH READ LOCK", ct).ConfigureAwait(false);
                method = "FLUSH TABLES WITH READ LOCK";
            }

            clock.Restart();
        }
        catch (MySqlException ex) when (ex.ErrorCode is MySqlErrorCode.SpecifiedAccessDeniedError or MySqlErrorCode.AccessDenied or MySqlErrorCode.DatabaseAccessDenied)
        {
            if (flavor != ServerFlavor.MariaDb)
            {
                throw new EcomDrException(ErrorIds.PermissionDenied, FailureKind.PermissionDenied,
                    "A consistent MySQL backup needs the RELOAD privilege (FLUSH TABLES WITH READ LOCK) for exact binlog coordinates; grant it (see Test-DrPrerequisite).", "RELOAD", ex);
            }

            warnings.Add("The backup user lacks RELOAD: without BACKUP STAGE the snapshot is taken by one connection, so the dump runs single-threaded. GRANT RELOAD ON *.* to dump in parallel.");
            return await SingleSnapshotAsync(workers[0], warnings, ct).ConfigureAwait(false);
        }

        try
        {
            foreach (var worker in workers)
            {
                await worker.ExecuteAsync("START TRANSACTION WITH CONSISTENT SNAPSHOT", ct).ConfigureAwait(false);
            }

            var (file, position, gtid) = await CoordinatesAsync(control, flavor, ct).ConfigureAwait(false);
            return new SnapshotPoint(file, position, gtid, method, clock.Elapsed, warnings);
        }
        finally
        {
            await Sql.ExecAsync(control, flavor == ServerFlavor.MariaDb ? "BACKUP STAGE END" : "UNLOCK TABLES", CancellationToken.None).ConfigureAwait(false);
        }
    }

    private static async Task<SnapshotPoint> SingleSnapshotAsync(WireConnection worker, List<string> warnings, CancellationToken ct)
    {
        await worker.ExecuteAsync("START TRANSACTION WITH CONSISTENT SNAPSHOT", ct).ConfigureAwait(false);
        string file = "";
        long position = 0;
        foreach (var row in await worker.QueryRowsAsync("SHOW STATUS LIKE 'binlog_snapshot_%'", ct).ConfigureAwait(false))
        {
            switch (row[0]!.ToLowerInvariant())
            {
                case "binlog_snapshot_file":
                    file = row[1] ?? "";
                    break;
                case "binlog_snapshot_position":
                    position = long.Parse(row[1]!, System.Globalization.CultureInfo.InvariantCulture);
                    break;
            }
        }

        var set = await worker.ScalarAsync($"SELECT BINLOG_GTID_POS('{Sql.EscapeString(file)}', {position})", ct).ConfigureAwait(false) ?? "";
        return new SnapshotPoint(file, position, set, "consistent snapshot (binlog_snapshot_file/position)", TimeSpan.Zero, warnings);
    }

    internal static async Task<(string File, long Position, string Gtid)> CoordinatesAsync(MySqlConnection c, ServerFlavor flavor, CancellationToken ct)
    {
        // MySQL 8.4 removed SHOW MASTER STATUS; MariaDB does not know SHOW BINARY LOG STATUS.
        var sql = flavor == ServerFlavor.MariaDb ? "SHOW MASTER STATUS" : "SHOW BINARY LOG STATUS";
        string file = "", gtid = "";
        long position = 0;
        await using (var cmd = new MySqlCommand(sql, c))
        await using (var r = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false))
        {
            if (await r.ReadAsync(ct).ConfigureAwait(false))
            {
                file = r.GetString(0);
                position = Convert.ToInt64(r.GetValue(1));
                if (flavor == ServerFlavor.MySql && r.FieldCount > 4 && !r.IsDBNull(4))
                {
                    gtid = r.GetString(4).Replace("\n", "", StringComparison.Ordinal);
                }
            }
        }

        if (file.Length == 0)
        {
            throw new EcomDrException(ErrorIds.BinlogDisabled, FailureKind.InvalidOperation,
                "The server has no binary log (log_bin is OFF): a backup without binlog coordinates cannot anchor point-in-time recovery.", "log_bin");
        }

        if (flavor == ServerFlavor.MariaDb)
        {
            await using var cmd = new MySqlCommand("SELECT @@GLOBAL.gtid_binlog_pos", c);
            gtid = Convert.ToString(await cmd.ExecuteScalarAsync(ct).ConfigureAwait(false)) ?? "";
        }

        return (file, position, gtid);
    }
}
