namespace EcomDr.Engine.Config;

/// <summary>
/// How long an environment keeps its backups (docs/configuration.md, "Retention"): days per kind, a
/// minimum count of full backups, an optional grandfather-father-son tier, and per-store overrides.
/// </summary>
public sealed record RetentionConfig(
    int MinFull,
    int IncompleteGraceHours,
    IReadOnlyDictionary<string, KindRetention> Kinds,
    IReadOnlyDictionary<string, StoreRetention> Stores)
{
    /// <summary>The point-in-time window the policy promises: mysql-binlog's keepDays.</summary>
    public int BinlogWindowDays => Kinds.TryGetValue(Pipeline.Repository.BackupKinds.MySqlBinlog, out var binlog)
        ? binlog.KeepDays : ConfigDefaults.RetentionDays[Pipeline.Repository.BackupKinds.MySqlBinlog];

    /// <summary>The policy of one store: the environment's, with the store's overrides on top.</summary>
    public RetentionConfig ForStore(string store)
    {
        if (!Stores.TryGetValue(store, out var own))
        {
            return this;
        }

        var kinds = new Dictionary<string, KindRetention>(Kinds, StringComparer.Ordinal);
        foreach (var (kind, policy) in own.Kinds)
        {
            kinds[kind] = policy;
        }

        return this with { MinFull = own.MinFull ?? MinFull, Kinds = kinds, Stores = new Dictionary<string, StoreRetention>() };
    }
}

/// <summary>Keep a kind's backups for KeepDays; with Gfs, also the newest of each of the last N days, weeks and months.</summary>
public sealed record KindRetention(int KeepDays, GfsRetention? Gfs = null);

public sealed record GfsRetention(int Days, int Weeks, int Months);

public sealed record StoreRetention(int? MinFull, IReadOnlyDictionary<string, KindRetention> Kinds);
