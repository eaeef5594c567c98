using System.Management.Automation;
using System.Text;
using EcomDr.Common;
using EcomDr.Engine.Sources.Redis;

namespace EcomDr.Commands;

/// <summary>
/// Lists the keys of a Redis snapshot straight from the repository, without any Redis server:
/// database, key, type, encoding, expiry and TTL, stored size and length (a queue's entries).
/// </summary>
[Cmdlet(VerbsCommon.Get, "RedisSnapshotKey")]
[OutputType(typeof(RdbKey))]
public sealed class GetRedisSnapshotKeyCommand : RepositoryCmdlet
{
    /// <summary>The redis backup; the newest complete one when not given. Binds from Get-DrBackup redis.</summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(EcomDr.Completion.BackupIdCompleter))]
    public string? Id { get; set; }

    /// <summary>Keys matching any of these wildcards (case-sensitive, as Redis keys are): "queue:*".</summary>
    [Parameter]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[]? Pattern { get; set; }

    [Parameter]
    [ValidateSet("string", "list", "set", "zset", "hash", "stream", "module")]
    public string[]? Type { get; set; }

    [Parameter]
    [ValidateRange(0, 15)]
    public int[]? Database { get; set; }

    protected override void ProcessRecord()
    {
        using var repository = OpenRepository();
        var backup = Run(ct => RedisSnapshotKeys.FindAsync(repository.Context, Id, ct));
        var filter = RedisKeyFilter.Of(Pattern, Database);
        var keys = RedisSnapshotKeys.ListAsync(repository.Context, backup, filter, captureValues: false, CancelToken).GetAsyncEnumerator(CancelToken);
        try
        {
            // Each key is written as it is read: the RDB streams, whatever its size.
            while (Run(_ => keys.MoveNextAsync().AsTask()))
            {
                if (Type is null || Type.Contains(keys.Current.Type, StringComparer.Ordinal))
                {
                    WriteObject(keys.Current);
                }
            }
        }
        finally
        {
            keys.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
    }
}

/// <summary>-Pattern and -Database as a filter on (database, key) for the snapshot readers.</summary>
internal static class RedisKeyFilter
{
    public static Func<int, byte[], bool>? Of(string[]? patterns, int[]? databases)
    {
        if (patterns is null && databases is null)
        {
            return null;
        }

        var wildcards = patterns?.Select(p => new WildcardPattern(p, WildcardOptions.None)).ToArray();
        return (db, key) => (databases is null || databases.Contains(db)) && (wildcards is null || wildcards.Any(w => w.IsMatch(Encoding.UTF8.GetString(key))));
    }
}
