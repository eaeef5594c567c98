using System.Text.Json;
using System.Text.RegularExpressions;
using EcomDr.Engine.Config;
using EcomDr.Engine.Errors;

namespace EcomDr.Engine.Tests.Config;

/// <summary>Defaults defined once: the loader, the embedded defaults, the JSON Schema and docs/configuration.md agree with ConfigDefaults.</summary>
public sealed partial class ConfigDefaultsTests
{
    // The least a file may say, with one of every kind of item that has defaults (an S3 repository, a probe).
    private const string Minimal = """
        {
          "schemaVersion": 1,
          "environments": {
            "prod": {
              "mysql": { "server": "db1", "volumeSnapshot": { "provider": "aws-ebs", "awsEbs": { "region": "eu-west-1", "volumeId": "vol-1" } } },
              "redis": { "server": "cache1" },
              "vault": { "address": "https://vault.internal:8200", "mounts": [ { "mount": "secret" } ], "secondary": { "address": "https://vault2.internal:8200" } },
              "repositories": { "primary": { "path": "/r" }, "offsite": { "type": "s3", "bucket": "b" } },
              "keys": [ { "path": "/k" }, { "type": "vaultTransit", "key": "ecomdr" } ],
              "drill": { "probes": [ { "name": "home", "url": "http://app/" } ] },
              "restore": { },
              "grafana": { "url": "https://grafana.internal" }
            }
          }
        }
        """;

    [Fact]
    public void TheLoaderGivesEachDefault()
    {
        var env = ConfigLoader.Parse(Minimal, "/etc/minimal.json").GetEnvironment("prod");
        Assert.All(ConfigDefaults.All, d => Assert.Equal(Json(d.Value), Json(d.Read(env))));
    }

    [Fact]
    public void TheEmbeddedDefaultsGiveEachDefaultTheyCover()
    {
        var env = EmbeddedDefaults.Create().GetEnvironment(null);
        var covered = ConfigDefaults.All.Select(d => (d, Value: d.Read(env))).Where(x => x.Value is not null).ToList();
        Assert.True(covered.Count >= 9, $"only {covered.Count} defaults covered");
        Assert.All(covered, x => Assert.Equal(Json(x.d.Value), Json(x.Value)));
    }

    [Fact]
    public void TheSchemaStatesExactlyTheseDefaults()
    {
        using var schema = JsonDocument.Parse(File.ReadAllText(Path.Join(ConfigLoaderTests.RepoRoot(), "docs", "ecomdr.schema.json")));
        var stated = new Dictionary<string, string>(StringComparer.Ordinal);
        Collect(schema.RootElement, schema.RootElement, "", stated, 0);
        var expected = ConfigDefaults.All.ToDictionary(d => d.Path, d => Json(d.Value), StringComparer.Ordinal);
        Assert.Equal(expected.OrderBy(e => e.Key), stated.OrderBy(e => e.Key));
    }

    [Fact]
    public void TheDocsTableStatesExactlyTheseDefaults()
    {
        var rows = File.ReadLines(Path.Join(ConfigLoaderTests.RepoRoot(), "docs", "configuration.md"))
            .Select(l => DocsRow().Match(l)).Where(m => m.Success)
            .ToDictionary(m => m.Groups[1].Value, m => m.Groups[2].Value, StringComparer.Ordinal);
        var expected = ConfigDefaults.All.ToDictionary(d => d.Path, d => Json(d.Value), StringComparer.Ordinal);
        Assert.Equal(expected.OrderBy(e => e.Key), rows.OrderBy(e => e.Key));
    }

    [Fact]
    public void AnEnvironmentNeedsASourceButNotAMySqlOneWhenItHasAnother()
    {
        var vaultOnly = Minimal.Replace("\"mysql\": { \"server\": \"db1\", \"volumeSnapshot\": { \"provider\": \"aws-ebs\", \"awsEbs\": { \"region\": \"eu-west-1\", \"volumeId\": \"vol-1\" } } },", "", StringComparison.Ordinal)
            .Replace("\"redis\": { \"server\": \"cache1\" },", "", StringComparison.Ordinal);
        Assert.Null(ConfigLoader.Parse(vaultOnly, "/etc/vault.json").GetEnvironment("prod").MySql);
        // A vault section without mounts names servers only (a restore target): no source.
        var none = vaultOnly.Replace("\"mounts\": [ { \"mount\": \"secret\" } ], ", "", StringComparison.Ordinal);
        var ex = Assert.Throws<EcomDrException>(() => ConfigLoader.Parse(none, "/etc/none.json"));
        Assert.Equal(ErrorIds.ConfigInvalid, ex.ErrorId);
        Assert.Contains("environments.prod: at least one source is required (mysql, vault, redis, files; a vault source names its mounts)", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AMySqlJobOnAnEnvironmentWithoutMySqlSaysSo()
    {
        var env = ConfigLoader.Parse(Minimal, "/etc/minimal.json").GetEnvironment("prod") with { MySql = null };
        var ex = Assert.Throws<EcomDrException>(() => env.RequireMySql("/etc/minimal.json"));
        Assert.Equal((ErrorIds.SourceNotConfigured, FailureKind.ObjectNotFound), (ex.ErrorId, ex.Kind));
        Assert.Contains("environments.prod has no mysql source", ex.Message, StringComparison.Ordinal);
    }

    private static string Json(object? value) => JsonSerializer.Serialize(value);

    // Walks the schema as a file is laid out: properties by name, additionalProperties as *, items as [], through $ref and oneOf/anyOf.
    private static void Collect(JsonElement root, JsonElement node, string path, Dictionary<string, string> stated, int depth)
    {
        Assert.True(depth < 40, "schema nesting too deep at " + path);
        if (node.ValueKind != JsonValueKind.Object)
        {
            return;
        }

        if (node.TryGetProperty("$ref", out var reference))
        {
            var target = root;
            foreach (var part in reference.GetString()!.TrimStart('#', '/').Split('/'))
            {
                target = target.GetProperty(part);
            }

            Collect(root, target, path, stated, depth + 1);
        }

        if (node.TryGetProperty("default", out var value))
        {
            var text = value.GetRawText();
            Assert.True(!stated.TryGetValue(path, out var other) || other == text, $"{path}: two defaults, {other} and {text}");
            stated[path] = text;
        }

        if (node.TryGetProperty("properties", out var properties))
        {
            foreach (var p in properties.EnumerateObject())
            {
                Collect(root, p.Value, path.Length == 0 ? p.Name : $"{path}.{p.Name}", stated, depth + 1);
            }
        }

        if (node.TryGetProperty("additionalProperties", out var additional))
        {
            Collect(root, additional, $"{path}.*", stated, depth + 1);
        }

        if (node.TryGetProperty("items", out var items))
        {
            Collect(root, items, $"{path}[]", stated, depth + 1);
        }

        foreach (var alternative in new[] { "oneOf", "anyOf", "allOf" })
        {
            if (node.TryGetProperty(alternative, out var list))
            {
                foreach (var option in list.EnumerateArray())
                {
                    Collect(root, option, path, stated, depth + 1);
                }
            }
        }
    }

    [GeneratedRegex(@"^\| `(environments\.[^`]+)` \| `([^`]+)` \|$")]
    private static partial Regex DocsRow();
}
