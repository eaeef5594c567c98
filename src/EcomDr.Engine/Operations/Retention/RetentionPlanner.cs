using System.Globalization;
using EcomDr.Engine.Config;
using EcomDr.Engine.Pipeline.Repository;
using EcomDr.Engine.Sources.MySql.Binlog;

namespace EcomDr.Engine.Operations.Retention;

/// <summary>
/// Decides, for one store, what its policy keeps and what may go (docs/configuration.md, "Retention").
/// The binlog window is the promise: the full backup that opens it is kept, with every segment from
/// its coordinates on, and a segment goes only when no kept full backup can use it. Pure: it reads
/// the catalog, the holds and the clock it is given, and deletes nothing.
/// </summary>
public static class RetentionPlanner
{
    public static async Task<RetentionPlan> PlanAsync(RepositoryContext context, RetentionConfig policy, CancellationToken ct)
    {
        var catalog = await BackupCatalog.ListAsync(context, null, ct, CatalogDetail.Summary).ConfigureAwait(false);
        var holds = await BackupHolds.ListAsync(context, ct).ConfigureAwait(false);
        // An incomplete backup of a kind whose writer runs may be that writer's: it stays, whatever its age.
        var writing = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var kind in catalog.Where(b => b.Status == BackupStatus.Incomplete).Select(b => b.Kind).Distinct())
        {
            if (await RepositoryLock.LiveHolderAsync(context.Store, context.Environment, kind, ct).ConfigureAwait(false) is { } holder)
            {
                writing[kind] = $"{holder.Holder} (host {holder.Host}, pid {holder.ProcessId})";
            }
        }

        return Plan(context.Environment, context.Store.Name, catalog, holds, policy.ForStore(context.Store.Name), context.Now, writing);
    }

    public static RetentionPlan Plan(string environment, string store, IReadOnlyList<BackupInfo> catalog, IReadOnlyDictionary<string, BackupHold> holds,
        RetentionConfig policy, DateTimeOffset now, IReadOnlyDictionary<string, string>? writing = null)
    {
        var plan = new Builder(policy, now, writing ?? new Dictionary<string, string>());
        var complete = catalog.Where(b => b.Status == BackupStatus.Complete).ToList();
        foreach (var backup in complete.Where(b => holds.ContainsKey(b.Id)))
        {
            plan.Keep(backup, $"hold: {holds[backup.Id].Reason}");
        }

        foreach (var kind in complete.GroupBy(b => b.Kind))
        {
            plan.ByAge(kind.Key, kind.OrderBy(b => b.Created).ToList());
        }

        plan.FullsAndChains(complete);
        foreach (var other in catalog.Where(b => b.Status != BackupStatus.Complete))
        {
            plan.Unfinished(other);
        }

        return new RetentionPlan(environment, store, now, catalog.Select(plan.Decide).OrderBy(d => d.Kind, StringComparer.Ordinal).ThenBy(d => d.Created).ToList());
    }

    private sealed class Builder(RetentionConfig policy, DateTimeOffset now, IReadOnlyDictionary<string, string> writing)
    {
        private readonly Dictionary<string, List<string>> _reasons = new(StringComparer.Ordinal);
        private readonly Dictionary<string, string> _expiry = new(StringComparer.Ordinal);
        private readonly Dictionary<string, DateTimeOffset> _expiresAt = new(StringComparer.Ordinal);

        // A catalog of 100,000 backups repeats a few dozen reasons: each is held once.
        private readonly Dictionary<string, string> _texts = new(StringComparer.Ordinal);
        private readonly Dictionary<string, System.Collections.ObjectModel.ReadOnlyCollection<string>> _alone = new(StringComparer.Ordinal);

        public void Keep(BackupInfo backup, string reason)
        {
            if (!_reasons.TryGetValue(backup.Id, out var list))
            {
                _reasons[backup.Id] = list = new List<string>(1);
            }

            if (!list.Contains(reason))
            {
                list.Add(Once(reason));
            }
        }

        private string Once(string text)
        {
            if (!_texts.TryGetValue(text, out var held))
            {
                _texts[text] = held = text;
            }

            return held;
        }

        public bool IsKept(BackupInfo backup) => _reasons.ContainsKey(backup.Id);

        /// <summary>Age, the newest of each kind, and the GFS tiers.</summary>
        public void ByAge(string kind, IReadOnlyList<BackupInfo> oldestFirst)
        {
            if (!policy.Kinds.TryGetValue(kind, out var rule))
            {
                foreach (var backup in oldestFirst)
                {
                    Keep(backup, $"no retention policy for kind '{kind}'");
                }

                return;
            }

            var cutoff = now - TimeSpan.FromDays(rule.KeepDays);
            foreach (var backup in oldestFirst)
            {
                if (TimeOf(backup) >= cutoff)
                {
                    Keep(backup, $"within {rule.KeepDays} day(s)");
                    _expiresAt[backup.Id] = TimeOf(backup) + TimeSpan.FromDays(rule.KeepDays);
                }
                else
                {
                    _expiry[backup.Id] = Once($"older than {rule.KeepDays} day(s)");
                }
            }

            // A kind that stopped changing (on-change backups) keeps its last copy.
            if (kind != BinlogSegment.Kind && oldestFirst.Count > 0)
            {
                Keep(oldestFirst[^1], $"newest {kind} backup");
            }

            if (rule.Gfs is { } gfs)
            {
                Tier(oldestFirst, gfs.Days, t => t.UtcDateTime.Date, d => $"GFS day {d:yyyy-MM-dd}", d => d.AddDays(-1));
                Tier(oldestFirst, gfs.Weeks, t => WeekStart(t.UtcDateTime), d => $"GFS week {ISOWeek.GetYear(d)}-W{ISOWeek.GetWeekOfYear(d):00}", d => d.AddDays(-7));
                Tier(oldestFirst, gfs.Months, t => new DateTime(t.UtcDateTime.Year, t.UtcDateTime.Month, 1, 0, 0, 0, DateTimeKind.Utc), d => $"GFS month {d:yyyy-MM}", d => d.AddMonths(-1));
            }
        }

        /// <summary>The newest full backups, the base of the binlog window, and the chain each kept full backup needs.</summary>
        public void FullsAndChains(IReadOnlyList<BackupInfo> complete)
        {
            var fulls = complete.Where(b => b.Kind == BackupKinds.MySqlFull).OrderBy(TimeOf).ToList();
            var segments = complete.Where(b => b.Kind == BackupKinds.MySqlBinlog).Select(b => ChainPiece.Of(b, Once)).ToList();
            if (fulls.Count > 0)
            {
                Keep(fulls[^1], "newest complete full backup");
                foreach (var recent in fulls.TakeLast(policy.MinFull))
                {
                    Keep(recent, $"min count {policy.MinFull}");
                }

                var windowDays = policy.BinlogWindowDays;
                var windowStart = now - TimeSpan.FromDays(windowDays);
                if (fulls.LastOrDefault(f => TimeOf(f) <= windowStart) is { } opensWindow)
                {
                    Keep(opensWindow, $"base of the {windowDays}-day binlog window");
                }
            }

            var chains = segments.GroupBy(s => s.ChainId).ToDictionary(g => g.Key, g => g.OrderBy(s => s.Sequence).ToList(), StringComparer.Ordinal);
            segments.Clear();
            foreach (var full in fulls.Where(IsKept))
            {
                if (BinlogChain.CoordinateOf(full) is not { } at)
                {
                    continue;
                }

                foreach (var chain in chains.Values)
                {
                    // Replay reads a file from its first segment (its FORMAT_DESCRIPTION event), so the chain is kept from there.
                    var at_ = chain.FindIndex(s => s.File == at.File && s.StartOffset <= at.Position && at.Position <= s.EndOffset);
                    var from = at_ < 0 ? -1 : chain.FindLastIndex(at_, s => s.File == at.File && s.StartOffset == 0);
                    from = from < 0 ? at_ : from;
                    foreach (var segment in from < 0 ? [] : chain.Skip(from))
                    {
                        Keep(segment.Backup, $"needed by the chain of {full.Id}");
                    }
                }
            }

            // The shipper continues after the newest segment of its chain: it stays.
            foreach (var chain in chains.Values)
            {
                Keep(chain[^1].Backup, "the shipper's checkpoint (newest segment of its chain)");
            }

            foreach (var segment in chains.Values.SelectMany(c => c).Where(s => !IsKept(s.Backup)))
            {
                _expiry[segment.Backup.Id] = Once($"{_expiry.GetValueOrDefault(segment.Backup.Id, "old")}; no kept full backup can use it");
            }
        }

        public void Unfinished(BackupInfo backup)
        {
            if (backup.Status == BackupStatus.Invalid)
            {
                Keep(backup, "invalid manifest: never removed by retention; inspect it and remove it by hand");
            }
            else if (writing.TryGetValue(backup.Kind, out var writer))
            {
                Keep(backup, $"incomplete while {writer} writes {backup.Kind}: it may be that job's");
            }
            else if (Started(backup) >= now - TimeSpan.FromHours(policy.IncompleteGraceHours))
            {
                Keep(backup, $"incomplete for less than {policy.IncompleteGraceHours} h: its job may still be running");
            }
            else
            {
                _expiry[backup.Id] = $"incomplete for more than {policy.IncompleteGraceHours} h: a job that died";
            }
        }

        public RetentionDecision Decide(BackupInfo backup)
        {
            if (_reasons.TryGetValue(backup.Id, out var reasons))
            {
                // Kept for its age only: it goes when that runs out, unless something else needs it by then.
                var expires = reasons.All(r => r.StartsWith("within ", StringComparison.Ordinal)) && _expiresAt.TryGetValue(backup.Id, out var at) ? at : (DateTimeOffset?)null;
                return new RetentionDecision(backup, true, reasons, expires);
            }

            var reason = _expiry.GetValueOrDefault(backup.Id, NotNeeded);
            if (!_alone.TryGetValue(reason, out var alone))
            {
                // Shared by every decision with that reason, so read-only.
                _alone[reason] = alone = Array.AsReadOnly(new[] { reason });
            }

            return new RetentionDecision(backup, false, alone, now);
        }

        private void Tier(IReadOnlyList<BackupInfo> oldestFirst, int count, Func<DateTimeOffset, DateTime> bucketOf, Func<DateTime, string> name, Func<DateTime, DateTime> previous)
        {
            var bucket = bucketOf(now);
            for (var i = 0; i < count; i++, bucket = previous(bucket))
            {
                var start = bucket;
                if (oldestFirst.LastOrDefault(b => bucketOf(TimeOf(b)) == start) is { } newest)
                {
                    Keep(newest, name(start));
                }
            }
        }

        // The job's start: its id's time (a removal interrupted half-way leaves old backups with new files), else its oldest object.
        private static DateTimeOffset Started(BackupInfo backup) =>
            RepositoryLayout.TimeOfId(backup.Id) is { } at && at < backup.Created ? at : backup.Created;

        private static DateTime WeekStart(DateTime utc) => utc.Date.AddDays(-(((int)utc.DayOfWeek + 6) % 7));

        private static DateTimeOffset TimeOf(BackupInfo backup) => backup.Completed ?? backup.Created;
    }

    private const string NotNeeded = "not needed";

    /// <summary>What planning needs of a segment (not the whole <see cref="BinlogSegment"/>): a chain of 100,000 is held at once.</summary>
    private readonly record struct ChainPiece(BackupInfo Backup, string ChainId, long Sequence, string File, long StartOffset, long EndOffset)
    {
        public static ChainPiece Of(BackupInfo backup, Func<string, string> once)
        {
            using var facts = backup.SourceDocument();
            var s = facts.RootElement;
            return new ChainPiece(backup, once(s.GetProperty("chainId").GetString()!), s.GetProperty("sequence").GetInt64(), once(s.GetProperty("binlogFile").GetString()!),
                s.GetProperty("startOffset").GetInt64(), s.GetProperty("binlogPosition").GetInt64());
        }
    }
}
