using System.Text.Json;
using EcomDr.Engine.Errors;
using EcomDr.Engine.Vault;

namespace EcomDr.Engine.Credentials;

/// <summary>
/// The string fields of one secret a credential reference names, from Vault's KV engine: KV v2
/// answers {"data":{"data":{...}}}, KV v1 {"data":{...}}; both are read.
/// </summary>
public static class VaultSecretReader
{
    public static async Task<IReadOnlyDictionary<string, string>> ReadFieldsAsync(VaultConnection vault, string path, CancellationToken cancellationToken)
    {
        using var json = await vault.GetJsonAsync(path, cancellationToken).ConfigureAwait(false);
        if (!json.RootElement.TryGetProperty("data", out var data) || data.ValueKind != JsonValueKind.Object)
        {
            throw new EcomDrException(ErrorIds.SecretNotFound, FailureKind.InvalidData, $"Vault's answer for '{path}' has no data.", path);
        }

        if (data.TryGetProperty("data", out var inner) && inner.ValueKind == JsonValueKind.Object)
        {
            data = inner;
        }

        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var property in data.EnumerateObject())
        {
            if (property.Value.ValueKind == JsonValueKind.String)
            {
                fields[property.Name] = property.Value.GetString()!;
            }
        }

        return fields;
    }
}
