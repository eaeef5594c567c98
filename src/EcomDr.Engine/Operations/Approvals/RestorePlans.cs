using System.Globalization;
using System.Text.Json.Nodes;
using EcomDr.Engine.Errors;
using EcomDr.Engine.Pipeline.Repository;
using EcomDr.Engine.Sources.MySql.Binlog;
using EcomDr.Engine.Sources.MySql.Load;
using EcomDr.Engine.Sources.MySql.Pitr;

namespace EcomDr.Engine.Operations.Approvals;

/// <summary>Who wrote a plan, and when: kept from the plan file when a restore runs from it, so that the digest can match.</summary>
public sealed record PlanAuthor(string Name, DateTimeOffset Created)
{
    /// <summary>This process's user: the name an approver key carries, which may not approve this plan.</summary>
    public static PlanAuthor Current() => new(Environment.UserName, DateTimeOffset.UtcNow);

    public static PlanAuthor Of(RestorePlanFile file) =>
        new(file.Author, DateTimeOffset.Parse((string?)file.Plan["created"] ?? "0001-01-01T00:00:00Z", CultureInfo.InvariantCulture));
}

/// <summary>
/// What a restore plan holds, for Restore-MySqlPitr and Restore-MySqlDatabase: the backup, the chain
/// of segments replay reads up to the stop point (those after it do not change the outcome, so a plan
/// stays valid while shipping goes on), the stop point, the target and the schema map.
/// </summary>
public static class RestorePlans
{
    public const string Pitr = "Restore-MySqlPitr";
    public const string Database = "Restore-MySqlDatabase";

    public static JsonObject ForPitr(PitrPlan plan, string target, string environment, string store, PlanAuthor author)
    {
        var options = plan.Options;
        return new JsonObject
        {
            ["operation"] = Pitr,
            ["environment"] = environment,
            ["store"] = store,
            ["target"] = target,
            ["backup"] = plan.Backup.Id,
            ["coordinates"] = plan.Backup.Coordinates,
            ["from"] = $"{plan.BinlogFile}:{plan.BinlogPosition}",
            ["chain"] = new JsonArray(Needed(plan).Select(s => (JsonNode)s.Backup.Id).ToArray()),
            ["stop"] = new JsonObject
            {
                ["targetTime"] = options.TargetTime?.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture),
                ["stopBeforeGtid"] = options.StopBeforeGtid,
                ["stopAtPosition"] = options.StopAtPosition?.ToString(),
            },
            ["allowPartial"] = options.AllowPartial,
            ["skipGtids"] = new JsonArray((options.SkipGtids ?? []).Order(StringComparer.Ordinal).Select(g => (JsonNode)g).ToArray()),
            ["schemaMap"] = Map(plan.Restore.SchemaMap),
            ["noBinlog"] = options.RestoreOptions.NoBinlog,
            ["describe"] = plan.Describe(),
            ["author"] = author.Name,
            ["created"] = author.Created.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture),
        };
    }

    public static JsonObject ForDatabase(RestorePlan restore, BackupInfo backup, RestoreOptions options, string target, string environment, string store, PlanAuthor author) => new()
    {
        ["operation"] = Database,
        ["environment"] = environment,
        ["store"] = store,
        ["target"] = target,
        ["backup"] = backup.Id,
        ["coordinates"] = backup.Coordinates,
        ["schemaMap"] = Map(restore.SchemaMap),
        ["tables"] = new JsonArray((options.Tables ?? []).Order(StringComparer.Ordinal).Select(t => (JsonNode)t).ToArray()),
        ["includeUsers"] = options.IncludeUsers,
        ["noBinlog"] = options.NoBinlog,
        ["describe"] = $"restore backup {backup.Id} into {target}: {restore.Describe()}",
        ["author"] = author.Name,
        ["created"] = author.Created.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture),
    };

    /// <summary>The stop point and schema map a plan of Restore-MySqlPitr was written for, as options to plan the same recovery again.</summary>
    public static PitrOptions PitrOptionsOf(RestorePlanFile file, RestoreOptions restore)
    {
        Expect(file, Pitr);
        var plan = file.Plan;
        var stop = plan["stop"] as JsonObject ?? [];
        var time = (string?)stop["targetTime"];
        var position = (string?)stop["stopAtPosition"];
        return new PitrOptions(
            time is null ? null : DateTimeOffset.Parse(time, CultureInfo.InvariantCulture),
            (string?)stop["stopBeforeGtid"],
            position is null ? null : BinlogCoordinate.Parse(position, "stopAtPosition", ErrorIds.RestorePlanTampered),
            (string?)plan["backup"],
            restore with { TargetSchema = null, SchemaMap = MapOf(plan), NoBinlog = (bool?)plan["noBinlog"] ?? false },
            (bool?)plan["allowPartial"] ?? false,
            SkipGtids: (plan["skipGtids"] as JsonArray ?? []).Select(g => (string)g!).ToList());
    }

    /// <summary>The backup a plan of Restore-MySqlDatabase was written for, and its restore options (the caller's own for speed and checks).</summary>
    public static (string BackupId, RestoreOptions Options) DatabaseOptionsOf(RestorePlanFile file, RestoreOptions restore)
    {
        Expect(file, Database);
        var plan = file.Plan;
        var tables = (plan["tables"] as JsonArray ?? []).Select(t => (string)t!).ToList();
        return ((string?)plan["backup"] ?? "", restore with
        {
            TargetSchema = null,
            SchemaMap = MapOf(plan),
            Tables = tables.Count > 0 ? tables : null,
            IncludeUsers = (bool?)plan["includeUsers"] ?? false,
            NoBinlog = (bool?)plan["noBinlog"] ?? false,
        });
    }

    /// <summary>Refuses a run whose plan, made again now, differs from the approved one, naming what changed.</summary>
    public static void CheckUnchanged(RestorePlanFile approved, JsonObject now)
    {
        if (RestorePlanFile.DigestOf(now) == approved.Digest)
        {
            return;
        }

        var changed = now.Select(p => p.Key).Union(approved.Plan.Select(p => p.Key))
            .Where(k => (approved.Plan[k]?.ToJsonString() ?? "null") != (now[k]?.ToJsonString() ?? "null")).ToList();
        throw new EcomDrException(ErrorIds.RestorePlanChanged, FailureKind.SecurityError,
            $"The restore differs from the approved plan in {string.Join(", ", changed)} (now: {string.Join("; ", changed.Select(k => $"{k} = {now[k]?.ToJsonString() ?? "none"}"))}). " +
            "Write a new plan and have it approved. Nothing was changed.", approved.Digest);
    }

    /// <summary>The shipped segments up to the one that reaches the stop point (all of them for the newest point).</summary>
    private static IEnumerable<BinlogSegment> Needed(PitrPlan plan)
    {
        var options = plan.Options;
        if (options.TargetTime is null && options.StopBeforeGtid is null && options.StopAtPosition is null)
        {
            return plan.Segments;
        }

        for (var n = 1; n <= plan.Segments.Count; n++)
        {
            var prefix = plan.Segments.Take(n).ToList();
            if (PitrRestorer.Reaches(prefix, prefix.LastOrDefault(s => s.LastEventTime is not null)?.LastEventTime, options))
            {
                return prefix;
            }
        }

        return plan.Segments;
    }

    private static void Expect(RestorePlanFile file, string operation)
    {
        if ((string?)file.Plan["operation"] != operation)
        {
            throw new EcomDrException(ErrorIds.RestorePlanChanged, FailureKind.InvalidArgument,
                $"This plan was written by {(string?)file.Plan["operation"]}, not {operation}: run it with that cmdlet. Nothing was changed.", operation);
        }
    }

    private static JsonObject Map(IReadOnlyDictionary<string, string> map) =>
        new(map.OrderBy(m => m.Key, StringComparer.Ordinal).Select(m => KeyValuePair.Create(m.Key, (JsonNode?)m.Value)));

    private static Dictionary<string, string> MapOf(JsonObject plan) =>
        (plan["schemaMap"] as JsonObject ?? []).ToDictionary(p => p.Key, p => (string)p.Value!, StringComparer.Ordinal);
}
