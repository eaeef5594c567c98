using System.Globalization;
using EcomDr.Engine.Errors;
using EcomDr.Engine.Sources.MySql.Shared;
using MySqlConnector;

namespace EcomDr.Engine.Sources.MySql.Load;

/// <summary>
/// -FastTarget: for the length of a restore into a fresh server, InnoDB flushes its log once a second
/// (innodb_flush_log_at_trx_commit=2) and the binlog is not synced on every commit (sync_binlog=0).
/// Both are server-wide, so a server holding any other schema is refused before anything changes; both
/// are set back to what they were when the restore ends, fails or is cancelled. A crash of the server
/// meanwhile can lose the last second of the restore, which is then restarted from the backup.
/// </summary>
internal sealed class RelaxedDurability : IAsyncDisposable
{
    private static readonly string[] SystemSchemas = ["mysql", "information_schema", "performance_schema", "sys", "ecomdr"];
    private readonly MySqlEndpoint _target;
    private readonly string _flushLog;
    private readonly string _syncBinlog;

    private RelaxedDurability(MySqlEndpoint target, string flushLog, string syncBinlog)
    {
        _target = target;
        _flushLog = flushLog;
        _syncBinlog = syncBinlog;
    }

    public static async Task<RelaxedDurability> ApplyAsync(MySqlEndpoint target, IReadOnlyCollection<string> restored, CancellationToken ct)
    {
        await using var connection = await MySqlConnections.OpenAsync(target, ct).ConfigureAwait(false);
        var others = new List<string>();
        await using (var list = new MySqlCommand("SELECT SCHEMA_NAME FROM information_schema.SCHEMATA", connection))
        await using (var reader = await list.ExecuteReaderAsync(ct).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(ct).ConfigureAwait(false))
            {
                var name = reader.GetString(0);
                if (!SystemSchemas.Contains(name, StringComparer.OrdinalIgnoreCase) && !restored.Contains(name, StringComparer.Ordinal))
                {
                    others.Add(name);
                }
            }
        }

        if (others.Count > 0)
        {
            throw new EcomDrException(ErrorIds.InvalidArgument, FailureKind.InvalidOperation,
                $"-FastTarget is for a fresh server: {target.Display} holds {string.Join(", ", others.Take(5).Select(o => $"`{o}`"))}{(others.Count > 5 ? ", ..." : "")}, and relaxed durability is server-wide. Restore without -FastTarget.",
                target.Display);
        }

        string flushLog, syncBinlog;
        await using (var read = new MySqlCommand("SELECT @@GLOBAL.innodb_flush_log_at_trx_commit, @@GLOBAL.sync_binlog", connection))
        await using (var reader = await read.ExecuteReaderAsync(ct).ConfigureAwait(false))
        {
            await reader.ReadAsync(ct).ConfigureAwait(false);
            (flushLog, syncBinlog) = (Convert.ToString(reader.GetValue(0), CultureInfo.InvariantCulture)!, Convert.ToString(reader.GetValue(1), CultureInfo.InvariantCulture)!);
        }

        try
        {
            await using var set = new MySqlCommand("SET GLOBAL innodb_flush_log_at_trx_commit = 2, GLOBAL sync_binlog = 0", connection);
            await set.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        }
        catch (MySqlException ex) when (ex.ErrorCode is MySqlErrorCode.SpecifiedAccessDeniedError or MySqlErrorCode.AccessDenied)
        {
            throw new EcomDrException(ErrorIds.PermissionDenied, FailureKind.PermissionDenied,
                $"-FastTarget needs SUPER (or SYSTEM_VARIABLES_ADMIN) on {target.Display} to relax durability: {ex.Message}", target.Display, ex);
        }

        return new RelaxedDurability(target, flushLog, syncBinlog);
    }

    /// <summary>Sets both back on a fresh connection: the restore's own may be the one that failed.</summary>
    public async ValueTask DisposeAsync()
    {
        await using var connection = await MySqlConnections.OpenAsync(_target, CancellationToken.None).ConfigureAwait(false);
        await using var set = new MySqlCommand(
            $"SET GLOBAL innodb_flush_log_at_trx_commit = {int.Parse(_flushLog, CultureInfo.InvariantCulture)}, GLOBAL sync_binlog = {long.Parse(_syncBinlog, CultureInfo.InvariantCulture)}", connection);
        await set.ExecuteNonQueryAsync(CancellationToken.None).ConfigureAwait(false);
    }
}
