using System.Text.Json;
using EcomDr.Engine.Errors;

namespace EcomDr.Engine.Config;

/// <summary>
/// Reads one JSON object of the configuration with its dotted path, so every error names the file
/// and the exact field. Unknown keys are errors: a typo must not silently fall back to a default.
/// </summary>
internal readonly struct JsonFields
{
    private readonly JsonElement _element;
    private readonly string _file;

    public JsonFields(JsonElement element, string file, string path)
    {
        _element = element;
        _file = file;
        Path = path;
        if (element.ValueKind != JsonValueKind.Object)
        {
            throw Invalid(path, $"expected an object, got {Describe(element)}");
        }
    }

    public string Path { get; }

    public string Child(string name) => Path.Length == 0 ? name : $"{Path}.{name}";

    public void AllowOnly(params string[] names)
    {
        foreach (var property in _element.EnumerateObject())
        {
            if (property.Name == "$schema" && Path.Length == 0)
            {
                continue;
            }

            if (IsSecretLooking(property.Name))
            {
                throw Invalid(Child(property.Name),
                    "secrets are never written in the configuration; reference them instead " +
                    "(passwordEnv, automationCredential or vault; see docs/configuration.md)");
            }

            if (Array.IndexOf(names, property.Name) < 0)
            {
                throw Invalid(Child(property.Name), $"unknown field (allowed: {string.Join(", ", names)})");
            }
        }
    }

    public bool Has(string name) => _element.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null;

    public JsonFields Object(string name) => new(Required(name), _file, Child(name));

    public JsonFields? OptionalObject(string name) =>
        Has(name) ? new JsonFields(_element.GetProperty(name), _file, Child(name)) : null;

    public IEnumerable<(string Key, JsonFields Value)> ObjectMembers()
    {
        foreach (var property in _element.EnumerateObject())
        {
            yield return (property.Name, new JsonFields(property.Value, _file, Child(property.Name)));
        }
    }

    public IEnumerable<JsonFields> ObjectArray(string name)
    {
        if (!Has(name))
        {
            yield break;
        }

        var array = _element.GetProperty(name);
        if (array.ValueKind != JsonValueKind.Array)
        {
            throw Invalid(Child(name), $"expected an array, got {Describe(array)}");
        }

        var i = 0;
        foreach (var item in array.EnumerateArray())
        {
            yield return new JsonFields(item, _file, $"{Child(name)}[{i++}]");
        }
    }

    public string String(string name)
    {
        var value = Required(name);
        if (value.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(value.GetString()))
        {
            throw Invalid(Child(name), $"expected a non-empty string, got {Describe(value)}");
        }

        return value.GetString()!;
    }

    public string? OptionalString(string name) => Has(name) ? String(name) : null;

    /// <summary>An optional object whose every member is a non-empty string (tags).</summary>
    public IReadOnlyDictionary<string, string> StringMap(string name)
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        if (OptionalObject(name) is not { } fields)
        {
            return map;
        }

        foreach (var property in fields._element.EnumerateObject())
        {
            map[property.Name] = fields.String(property.Name);
        }

        return map;
    }

    public int Int(string name, int min, int max, int? fallback = null)
    {
        if (!Has(name))
        {
            return fallback ?? throw Invalid(Child(name), "required field is missing");
        }

        var value = _element.GetProperty(name);
        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt32(out var n) || n < min || n > max)
        {
            throw Invalid(Child(name), $"expected a whole number from {min} to {max}, got {Describe(value)}");
        }

        return n;
    }

    public bool Bool(string name, bool fallback)
    {
        if (!Has(name))
        {
            return fallback;
        }

        var value = _element.GetProperty(name);
        return value.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw Invalid(Child(name), $"expected true or false, got {Describe(value)}"),
        };
    }

    public IReadOnlyList<string> StringArray(string name)
    {
        if (!Has(name))
        {
            return Array.Empty<string>();
        }

        var array = _element.GetProperty(name);
        if (array.ValueKind != JsonValueKind.Array)
        {
            throw Invalid(Child(name), $"expected an array of strings, got {Describe(array)}");
        }

        var list = new List<string>();
        foreach (var item in array.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(item.GetString()))
            {
                throw Invalid($"{Child(name)}[{list.Count}]", $"expected a non-empty string, got {Describe(item)}");
            }

            list.Add(item.GetString()!);
        }

        return list;
    }

    /// <summary>An array of whole numbers from <paramref name="min"/> to <paramref name="max"/>, each once; empty when absent.</summary>
    public IReadOnlyList<int> IntArray(string name, int min, int max)
    {
        if (!Has(name))
        {
            return Array.Empty<int>();
        }

        var array = _element.GetProperty(name);
        if (array.ValueKind != JsonValueKind.Array)
        {
            throw Invalid(Child(name), $"expected an array of whole numbers, got {Describe(array)}");
        }

        var list = new List<int>();
        foreach (var item in array.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt32(out var n) || n < min || n > max || list.Contains(n))
            {
                throw Invalid($"{Child(name)}[{list.Count}]", $"expected a whole number from {min} to {max}, each once, got {Describe(item)}");
            }

            list.Add(n);
        }

        return list;
    }

    public T Enum<T>(string name, T fallback, params (string Text, T Value)[] choices)
    {
        if (!Has(name))
        {
            return fallback;
        }

        var text = String(name);
        foreach (var (choiceText, value) in choices)
        {
            if (string.Equals(choiceText, text, StringComparison.OrdinalIgnoreCase))
            {
                return value;
            }
        }

        throw Invalid(Child(name), $"'{text}' is not one of: {string.Join(", ", choices.Select(c => c.Text))}");
    }

    public EcomDrException Invalid(string path, string what) =>
        new(ErrorIds.ConfigInvalid, FailureKind.InvalidData, $"{_file}: {path}: {what}.", _file);

    private JsonElement Required(string name)
    {
        if (!_element.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            throw Invalid(Child(name), "required field is missing");
        }

        return value;
    }

    // Never echo a value: a misplaced password must not end up in an error message.
    private static string Describe(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => "a string",
        JsonValueKind.Number => $"the number {value.GetRawText()}",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Array => "an array",
        JsonValueKind.Object => "an object",
        _ => "null",
    };

    private static bool IsSecretLooking(string name) =>
        name is "password" or "secret" or "token" or "secretKey" or "accessKey" or "secretAccessKey" or "secretId";
}
