using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using EcomDr.Engine.Errors;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace EcomDr.Engine.Sources.Grafana;

/// <summary>One datasource to load: the API body, and the secure fields left out because the variable they name is not set.</summary>
public sealed record ProvisionedDatasource(JsonObject Body, IReadOnlyList<string> MissingSecrets);

/// <summary>
/// Grafana's datasource provisioning files (provisioning/datasources/*.yaml: apiVersion 1, a datasources
/// list) read into the bodies of POST /api/datasources. Values are typed as YAML 1.2 gives them (true,
/// 5, 1.5, null; quoted stays text). As Grafana does when it provisions, $VAR and ${VAR} are replaced
/// from the environment and $$ is a $. A secureJsonData field whose variable is not set is left out and
/// named, to be re-entered from the vault; other fields get the empty text, as in Grafana. orgId, version
/// and editable are provisioning-only and not sent.
/// </summary>
public static partial class GrafanaProvisioning
{
    private static readonly string[] ProvisioningOnly = ["orgId", "version", "editable"];

    public static IReadOnlyList<ProvisionedDatasource> ReadDatasources(string path, Func<string, string?> variable)
    {
        YamlStream yaml = new();
        try
        {
            using var reader = new StreamReader(path);
            yaml.Load(reader);
        }
        catch (YamlException ex)
        {
            throw new EcomDrException(ErrorIds.DataInvalid, FailureKind.InvalidData,
                $"{path} is not valid YAML (line {ex.Start.Line}, column {ex.Start.Column}): {ex.Message} Nothing was changed.", path, ex);
        }

        var result = new List<ProvisionedDatasource>();
        foreach (var document in yaml.Documents)
        {
            if (document.RootNode is not YamlMappingNode root || !root.Children.TryGetValue(new YamlScalarNode("datasources"), out var list))
            {
                continue; // a file with only deleteDatasources, or another kind of provisioning
            }

            if (list is not YamlSequenceNode items)
            {
                throw new EcomDrException(ErrorIds.DataInvalid, FailureKind.InvalidData, $"{path}: datasources is not a list. Nothing was changed.", path);
            }

            foreach (var item in items)
            {
                if (ToJson(item, variable, null) is not JsonObject body || body["name"] is null || body["type"] is null)
                {
                    throw new EcomDrException(ErrorIds.DataInvalid, FailureKind.InvalidData,
                        $"{path} (line {item.Start.Line}): a datasource needs at least a name and a type. Nothing was changed.", path);
                }

                var missing = new List<string>();
                if (item is YamlMappingNode map && map.Children.TryGetValue(new YamlScalarNode("secureJsonData"), out var secure) && secure is YamlMappingNode secrets)
                {
                    var resolved = Mapping(secrets, variable, missing);
                    if (resolved.Count > 0)
                    {
                        body["secureJsonData"] = resolved;
                    }
                    else
                    {
                        body.Remove("secureJsonData");
                    }
                }

                foreach (var field in ProvisioningOnly)
                {
                    body.Remove(field);
                }

                result.Add(new ProvisionedDatasource(body, missing));
            }
        }

        return result;
    }

    /// <summary>missing: when not null, scalars whose variable is unset are left out of their mapping and their keys added here.</summary>
    private static JsonNode? ToJson(YamlNode node, Func<string, string?> variable, List<string>? missing) => node switch
    {
        YamlMappingNode map => Mapping(map, variable, missing),
        YamlSequenceNode list => new JsonArray(list.Select(n => ToJson(n, variable, missing)).ToArray()),
        YamlScalarNode scalar => Scalar(scalar, variable, out _),
        _ => null,
    };

    private static JsonObject Mapping(YamlMappingNode map, Func<string, string?> variable, List<string>? missing)
    {
        var json = new JsonObject();
        foreach (var (key, value) in map.Children)
        {
            var name = (key as YamlScalarNode)?.Value ?? key.ToString();
            if (value is YamlScalarNode scalar)
            {
                var node = Scalar(scalar, variable, out var unset);
                if (unset && missing is not null)
                {
                    missing.Add(name);
                    continue;
                }

                json[name] = node;
            }
            else
            {
                json[name] = ToJson(value, variable, missing);
            }
        }

        return json;
    }

    private static JsonNode? Scalar(YamlScalarNode scalar, Func<string, string?> variable, out bool unset)
    {
        var any = false;
        var replaced = false;
        var text = Variable().Replace(scalar.Value ?? "", m =>
        {
            replaced = true;
            if (m.Value == "$$")
            {
                return "$";
            }

            var value = variable(m.Groups[1].Success ? m.Groups[1].Value : m.Groups[2].Value);
            any |= value is null;
            return value ?? "";
        });
        unset = any;
        // Quoted, or made from the environment: text, as Grafana interpolates text values.
        if (scalar.Style != ScalarStyle.Plain || replaced)
        {
            return JsonValue.Create(text);
        }

        // YAML 1.2's core schema, as Grafana's YAML reader types plain scalars.
        return text switch
        {
            "true" or "True" or "TRUE" => JsonValue.Create(true),
            "false" or "False" or "FALSE" => JsonValue.Create(false),
            "" or "~" or "null" or "Null" or "NULL" => null,
            _ when long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n) => JsonValue.Create(n),
            _ when Number().IsMatch(text) && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) => JsonValue.Create(d),
            _ => JsonValue.Create(text),
        };
    }

    [GeneratedRegex(@"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)")]
    private static partial Regex Variable();

    [GeneratedRegex(@"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")]
    private static partial Regex Number();
}
