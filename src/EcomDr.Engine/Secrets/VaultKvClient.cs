using System.Net.Http.Headers;
using System.Text.Json;
using EcomDr.Engine.Errors;

namespace EcomDr.Engine.Secrets;

/// <summary>
/// Reads one secret from Vault's KV engine over its HTTP API (GET /v1/&lt;path&gt; with the
/// X-Vault-Token header). KV v2 answers {"data":{"data":{...}}}, KV v1 {"data":{...}}; both are read.
/// The token comes from VAULT_TOKEN, never from a file or an argument.
/// </summary>
public sealed class VaultKvClient
{
    private readonly HttpClient _http;
    private readonly Uri _address;
    private readonly Secret _token;
    private readonly string? _namespace;

    public VaultKvClient(HttpClient http, Uri address, Secret token, string? vaultNamespace = null)
    {
        _http = http;
        _address = address;
        _token = token;
        _namespace = vaultNamespace;
    }

    /// <summary>A client from VAULT_ADDR, VAULT_TOKEN and VAULT_NAMESPACE; a clear error when unset.</summary>
    public static VaultKvClient FromEnvironment(HttpClient http)
    {
        var address = Environment.GetEnvironmentVariable("VAULT_ADDR");
        var token = Environment.GetEnvironmentVariable("VAULT_TOKEN");
        if (string.IsNullOrEmpty(address) || string.IsNullOrEmpty(token) || !Uri.TryCreate(address, UriKind.Absolute, out var uri))
        {
            throw new EcomDrException(ErrorIds.SecretSourceUnavailable, FailureKind.ResourceUnavailable,
                "A Vault reference needs VAULT_ADDR (an absolute URL) and VAULT_TOKEN in the environment.", "VAULT_ADDR");
        }

        return new VaultKvClient(http, uri, new Secret(token), Environment.GetEnvironmentVariable("VAULT_NAMESPACE"));
    }

    public async Task<IReadOnlyDictionary<string, string>> ReadAsync(string path, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(_address, "v1/" + path.TrimStart('/')));
        request.Headers.Add("X-Vault-Token", _token.Reveal());
        if (!string.IsNullOrEmpty(_namespace))
        {
            request.Headers.Add("X-Vault-Namespace", _namespace);
        }

        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException ex)
        {
            throw new EcomDrException(ErrorIds.SecretSourceUnavailable, FailureKind.ResourceUnavailable,
                $"Vault at {_address} is unreachable: {ex.Message}", path, ex);
        }

        using (response)
        {
            if (!response.IsSuccessStatusCode)
            {
                var (id, kind) = response.StatusCode switch
                {
                    System.Net.HttpStatusCode.NotFound => (ErrorIds.SecretNotFound, FailureKind.ObjectNotFound),
                    System.Net.HttpStatusCode.Forbidden => (ErrorIds.SecretSourceUnavailable, FailureKind.PermissionDenied),
                    _ => (ErrorIds.SecretSourceUnavailable, FailureKind.ResourceUnavailable),
                };
                throw new EcomDrException(id, kind, $"Vault answered {(int)response.StatusCode} for '{path}'.", path);
            }

            await using var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            using var json = await JsonDocument.ParseAsync(body, cancellationToken: cancellationToken).ConfigureAwait(false);
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
}
