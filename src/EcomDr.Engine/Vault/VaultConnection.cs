using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using EcomDr.Engine.Credentials;
using EcomDr.Engine.Errors;

namespace EcomDr.Engine.Vault;

/// <summary>
/// Vault's HTTP API (/v1/&lt;path&gt; with the X-Vault-Token and X-Vault-Namespace headers): the one
/// place that talks to Vault, for reading a password as for backing up the secret store. The token
/// comes from the environment or the caller, never from an argument, and never reaches a message.
/// </summary>
public sealed class VaultConnection
{
    private readonly HttpClient _http;
    private readonly Secret _token;
    private readonly string? _namespace;

    public VaultConnection(HttpClient http, Uri address, Secret token, string? vaultNamespace = null)
    {
        _http = http;
        Address = address;
        _token = token;
        _namespace = vaultNamespace;
    }

    public Uri Address { get; }

    /// <summary>A connection from VAULT_ADDR, VAULT_TOKEN and VAULT_NAMESPACE; a clear error when unset.</summary>
    public static VaultConnection FromEnvironment(HttpClient http)
    {
        var address = Environment.GetEnvironmentVariable("VAULT_ADDR");
        var token = Environment.GetEnvironmentVariable("VAULT_TOKEN");
        if (string.IsNullOrEmpty(address) || string.IsNullOrEmpty(token) || !Uri.TryCreate(address, UriKind.Absolute, out var uri))
        {
            throw new EcomDrException(ErrorIds.SecretSourceUnavailable, FailureKind.ResourceUnavailable,
                "A Vault reference needs VAULT_ADDR (an absolute URL) and VAULT_TOKEN in the environment.", "VAULT_ADDR");
        }

        return new VaultConnection(http, uri, new Secret(token), Environment.GetEnvironmentVariable("VAULT_NAMESPACE"));
    }

    /// <summary>GET /v1/&lt;path&gt;: the JSON answer, or a clear error (404 SecretNotFound, 403 PermissionDenied).</summary>
    public async Task<JsonDocument> GetJsonAsync(string path, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(Address, "v1/" + path.TrimStart('/')));
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
                $"Vault at {Address} is unreachable: {ex.Message}", path, ex);
        }

        using (response)
        {
            if (!response.IsSuccessStatusCode)
            {
                var (id, kind) = response.StatusCode switch
                {
                    HttpStatusCode.NotFound => (ErrorIds.SecretNotFound, FailureKind.ObjectNotFound),
                    HttpStatusCode.Forbidden => (ErrorIds.SecretSourceUnavailable, FailureKind.PermissionDenied),
                    _ => (ErrorIds.SecretSourceUnavailable, FailureKind.ResourceUnavailable),
                };
                throw new EcomDrException(id, kind, $"Vault answered {(int)response.StatusCode} for '{path}'.", path);
            }

            await using var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            return await JsonDocument.ParseAsync(body, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
    }
}
