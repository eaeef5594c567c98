using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Security;
using System.Text;

namespace EcomDr.TestKit.Servers;

/// <summary>
/// A stand-in for the EC2 query API's snapshot actions (no EC2 can run here), answering as the API
/// reference documents them: POST / with an application/x-www-form-urlencoded body (Action, Version
/// 2016-11-15, the action's parameters flattened as TagSpecification.1.Tag.1.Key), and XML answers in
/// the 2016-11-15 namespace. CreateSnapshot, CreateSnapshots (an instance's data volumes), DescribeSnapshots,
/// CopySnapshot and DeleteSnapshot; errors are HTTP 400 with Response/Errors/Error/Code and Message
/// (InvalidVolume.NotFound, InvalidSnapshot.NotFound, UnauthorizedOperation); DryRun=true is answered
/// HTTP 412 DryRunOperation when the request would succeed, and creates nothing. The region of each
/// request is read from its SigV4 credential scope, so a copy sent to the wrong region shows. A
/// snapshot is "pending" and turns "completed" after <see cref="DescribesUntilCompleted"/> DescribeSnapshots
/// (never when 0), or "error" when named in <see cref="Failing"/>. The signature is required but not checked.
/// </summary>
public sealed class Ec2StandIn : HttpStandIn
{
    public const string Namespace = "http://ec2.amazonaws.com/doc/2016-11-15/";
    private int _next;

    private Ec2StandIn(int port)
        : base(port)
    {
    }

    /// <summary>Every request: its action, the region it was signed for, and its parameters.</summary>
    public ConcurrentQueue<Ec2Request> Requests { get; } = new();

    /// <summary>Snapshots by id.</summary>
    public ConcurrentDictionary<string, Ec2Snapshot> Snapshots { get; } = new(StringComparer.Ordinal);

    /// <summary>Volumes by id, with their region; instances by id, with their data volumes.</summary>
    public ConcurrentDictionary<string, string> Volumes { get; } = new(StringComparer.Ordinal);

    public ConcurrentDictionary<string, string[]> Instances { get; } = new(StringComparer.Ordinal);

    public int DescribesUntilCompleted { get; set; } = 2;

    /// <summary>Volumes whose snapshots end in "error".</summary>
    public ConcurrentBag<string> Failing { get; } = new();

    /// <summary>Actions answered with UnauthorizedOperation.</summary>
    public ConcurrentBag<string> Denied { get; } = new();

    public static Ec2StandIn Start() => new(ServerProcess.FreePort());

    protected override async Task AnswerAsync(HttpListenerContext context)
    {
        string body;
        using (var reader = new StreamReader(context.Request.InputStream, Encoding.UTF8))
        {
            body = await reader.ReadToEndAsync().ConfigureAwait(false);
        }

        var parameters = body.Split('&', StringSplitOptions.RemoveEmptyEntries).Select(p => p.Split('=', 2))
            .ToDictionary(p => WebUtility.UrlDecode(p[0]), p => p.Length > 1 ? WebUtility.UrlDecode(p[1]) : "", StringComparer.Ordinal);
        var authorization = context.Request.Headers["Authorization"] ?? "";
        // AWS4-HMAC-SHA256 Credential=AKID/20261207/eu-west-1/ec2/aws4_request, SignedHeaders=…, Signature=…
        var scope = authorization.Split("Credential=", 2) is [_, var rest] ? rest.Split(',')[0].Split('/') : [];
        var region = scope.Length >= 3 ? scope[2] : "";
        var action = parameters.GetValueOrDefault("Action", "");
        var request = new Ec2Request(action, region, parameters);
        Requests.Enqueue(request);
        var (status, xml) = authorization.Length == 0 ? (400, Error("AuthFailure", "AWS was not able to validate the provided access credentials"))
            : parameters.GetValueOrDefault("Version") != "2016-11-15" ? (400, Error("InvalidParameterValue", "Version"))
            : Denied.Contains(action) ? (403, Error("UnauthorizedOperation", $"You are not authorized to perform this operation ({action})."))
            : parameters.GetValueOrDefault("DryRun") == "true" ? DryRun(request)
            : Answer(request);
        context.Response.StatusCode = status;
        context.Response.ContentType = "text/xml;charset=UTF-8";
        var bytes = Encoding.UTF8.GetBytes(xml);
        context.Response.ContentLength64 = bytes.Length;
        await context.Response.OutputStream.WriteAsync(bytes).ConfigureAwait(false);
        context.Response.Close();
    }

    private (int, string) Answer(Ec2Request request)
    {
        var p = request.Parameters;
        switch (request.Action)
        {
            case "CreateSnapshot":
            {
                var volume = p.GetValueOrDefault("VolumeId", "");
                if (Volumes.GetValueOrDefault(volume) != request.Region)
                {
                    return (400, Error("InvalidVolume.NotFound", $"The volume '{volume}' does not exist."));
                }

                var snapshot = New(request.Region, volume, request.TagsOf("snapshot"), encrypted: true, p.GetValueOrDefault("Description"), null);
                return (200, Ok("CreateSnapshotResponse", Fields(snapshot, "status") + Tags(snapshot)));
            }

            case "CreateSnapshots":
            {
                var instance = p.GetValueOrDefault("InstanceSpecification.InstanceId", "");
                if (!Instances.TryGetValue(instance, out var volumes))
                {
                    return (400, Error("InvalidInstanceID.NotFound", $"The instance ID '{instance}' does not exist"));
                }

                var items = volumes.Select(v => New(request.Region, v, request.TagsOf("snapshot"), encrypted: true, p.GetValueOrDefault("Description"), null))
                    .Select(s => $"<item>{Fields(s, "state")}{Tags(s)}</item>");
                return (200, Ok("CreateSnapshotsResponse", $"<snapshotSet>{string.Concat(items)}</snapshotSet>"));
            }

            case "DescribeSnapshots":
            {
                var ids = p.Where(x => x.Key.StartsWith("SnapshotId.", StringComparison.Ordinal)).Select(x => x.Value).ToList();
                var found = new List<string>();
                foreach (var id in ids)
                {
                    if (!Snapshots.TryGetValue(id, out var s) || s.Region != request.Region)
                    {
                        return (400, Error("InvalidSnapshot.NotFound", $"The snapshot '{id}' does not exist."));
                    }

                    s.Describes++;
                    if (s.State == "pending" && Failing.Contains(s.VolumeId))
                    {
                        s.State = "error";
                    }
                    else if (s.State == "pending" && DescribesUntilCompleted > 0 && s.Describes >= DescribesUntilCompleted)
                    {
                        s.State = "completed";
                    }

                    found.Add($"<item>{Fields(s, "status")}{(s.State == "error" ? "<statusMessage>the snapshot could not be created</statusMessage>" : "")}{Tags(s)}</item>");
                }

                return (200, Ok("DescribeSnapshotsResponse", $"<snapshotSet>{string.Concat(found)}</snapshotSet>"));
            }

            case "CopySnapshot":
            {
                var sourceId = p.GetValueOrDefault("SourceSnapshotId", "");
                var sourceRegion = p.GetValueOrDefault("SourceRegion", "");
                if (!Snapshots.TryGetValue(sourceId, out var source) || source.Region != sourceRegion)
                {
                    return (400, Error("InvalidSnapshot.NotFound", $"The snapshot '{sourceId}' does not exist in {sourceRegion}."));
                }

                if (source.State != "completed")
                {
                    return (400, Error("IncorrectState", $"Snapshot {sourceId} is not in a completed state."));
                }

                var copy = New(request.Region, source.VolumeId, request.TagsOf("snapshot"), p.GetValueOrDefault("Encrypted") == "true" || source.Encrypted,
                    p.GetValueOrDefault("Description"), p.GetValueOrDefault("KmsKeyId"));
                copy.CopiedFrom = $"{sourceRegion}/{sourceId}";
                return (200, Ok("CopySnapshotResponse", $"<snapshotId>{copy.Id}</snapshotId>{Tags(copy)}"));
            }

            case "DeleteSnapshot":
            {
                var id = p.GetValueOrDefault("SnapshotId", "");
                if (!Snapshots.TryGetValue(id, out var s) || s.Region != request.Region)
                {
                    return (400, Error("InvalidSnapshot.NotFound", $"The snapshot '{id}' does not exist."));
                }

                Snapshots.TryRemove(id, out _);
                return (200, Ok("DeleteSnapshotResponse", "<return>true</return>"));
            }

            default:
                return (400, Error("InvalidAction", $"The action {request.Action} is not valid for this web service."));
        }
    }

    /// <summary>DryRun: the request is checked as it would be, nothing is made; allowed is HTTP 412 DryRunOperation.</summary>
    private (int, string) DryRun(Ec2Request request)
    {
        if (request.Action == "CreateSnapshot" && Volumes.GetValueOrDefault(request.Parameters.GetValueOrDefault("VolumeId", "")) != request.Region)
        {
            return (400, Error("InvalidVolume.NotFound", $"The volume '{request.Parameters.GetValueOrDefault("VolumeId")}' does not exist."));
        }

        return (412, Error("DryRunOperation", "Request would have succeeded, but DryRun flag is set."));
    }

    private Ec2Snapshot New(string region, string volume, IReadOnlyDictionary<string, string> tags, bool encrypted, string? description, string? kmsKeyId)
    {
        var id = $"snap-{Interlocked.Increment(ref _next):x17}";
        var snapshot = new Ec2Snapshot(id, region, volume, tags, encrypted, description ?? "", kmsKeyId) { State = "pending" };
        Snapshots[id] = snapshot;
        return snapshot;
    }

    private static string Fields(Ec2Snapshot s, string stateElement) =>
        $"<snapshotId>{s.Id}</snapshotId><volumeId>{s.VolumeId}</volumeId><{stateElement}>{s.State}</{stateElement}>" +
        $"<startTime>{s.Started.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture)}</startTime>" +
        $"<progress>{(s.State == "completed" ? "100%" : "")}</progress><ownerId>111122223333</ownerId><volumeSize>100</volumeSize>" +
        $"<description>{SecurityElement.Escape(s.Description)}</description><encrypted>{(s.Encrypted ? "true" : "false")}</encrypted>" +
        (s.KmsKeyId is null ? "" : $"<kmsKeyId>{SecurityElement.Escape(s.KmsKeyId)}</kmsKeyId>");

    private static string Tags(Ec2Snapshot s) =>
        s.Tags.Count == 0 ? "" : $"<tagSet>{string.Concat(s.Tags.Select(t => $"<item><key>{SecurityElement.Escape(t.Key)}</key><value>{SecurityElement.Escape(t.Value)}</value></item>"))}</tagSet>";

    private static string Ok(string root, string inner) =>
        $"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<{root} xmlns=\"{Namespace}\"><requestId>{Guid.NewGuid()}</requestId>{inner}</{root}>";

    private static string Error(string code, string message) =>
        $"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>{code}</Code><Message>{SecurityElement.Escape(message)}</Message></Error></Errors><RequestID>{Guid.NewGuid()}</RequestID></Response>";
}

/// <summary>One request to the stand-in.</summary>
public sealed record Ec2Request(string Action, string Region, IReadOnlyDictionary<string, string> Parameters)
{
    /// <summary>The tags of the TagSpecification for this resource type: TagSpecification.N.ResourceType, TagSpecification.N.Tag.M.Key/Value.</summary>
    public IReadOnlyDictionary<string, string> TagsOf(string resourceType)
    {
        var tags = new SortedDictionary<string, string>(StringComparer.Ordinal);
        for (var n = 1; Parameters.TryGetValue($"TagSpecification.{n}.ResourceType", out var type); n++)
        {
            if (type != resourceType)
            {
                continue;
            }

            for (var m = 1; Parameters.TryGetValue($"TagSpecification.{n}.Tag.{m}.Key", out var key); m++)
            {
                tags[key] = Parameters.GetValueOrDefault($"TagSpecification.{n}.Tag.{m}.Value", "");
            }
        }

        return tags;
    }
}

/// <summary>A snapshot the stand-in holds.</summary>
public sealed record Ec2Snapshot(string Id, string Region, string VolumeId, IReadOnlyDictionary<string, string> Tags, bool Encrypted, string Description, string? KmsKeyId)
{
    public string State { get; set; } = "pending";

    public int Describes { get; set; }

    public string? CopiedFrom { get; set; }

    public DateTimeOffset Started { get; } = DateTimeOffset.UtcNow;
}
