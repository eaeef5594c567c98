using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
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

    /// <summary>The same server with another token (after a login).</summary>
    public VaultConnection WithToken(Secret token) => new(_http, Address, token, _namespace) { RetryBase = RetryBase };

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
        var answer = await SendAsync(HttpMethod.Get, path, null, cancellationToken).ConfigureAwait(false);
        if (answer.Status == HttpStatusCode.NotFound)
        {
            answer.Dispose();
            throw new EcomDrException(ErrorIds.SecretNotFound, FailureKind.ObjectNotFound, $"Vault answered 404 for '{path}'.", path);
        }

        return answer.Json ?? throw new EcomDrException(ErrorIds.SecretNotFound, FailureKind.InvalidData, $"Vault's answer for '{path}' is empty.", path);
    }

    /// <summary>
    /// One request to /v1/&lt;path&gt;, retried with back-off while Vault answers 429 or 5xx (a standby,
    /// a sealed node, a rate limit). A 2xx or 404 answer is returned with its JSON body (KV answers a
    /// deleted version with 404 and its metadata), and 400 when <paramref name="answerBadRequest"/> (a
    /// check-and-set refusal); 403 and anything else is a clear error naming the path and the status,
    /// never the token. The answer's bytes are cleared when it is disposed: they may hold values.
    /// </summary>
    public async Task<VaultAnswer> SendAsync(HttpMethod method, string path, byte[]? body, CancellationToken cancellationToken, bool answerBadRequest = false)
    {
        for (var attempt = 1; ; attempt++)
        {
            using var request = new HttpRequestMessage(method, new Uri(Address, "v1/" + path.TrimStart('/')));
            if (!_token.IsEmpty)
            {
                request.Headers.Add("X-Vault-Token", _token.Reveal());
            }

            if (!string.IsNullOrEmpty(_namespace))
            {
                request.Headers.Add("X-Vault-Namespace", _namespace);
            }

            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
            if (body is not null)
            {
                request.Content = new ByteArrayContent(body);
                request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            }

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
                var status = (int)response.StatusCode;
                if ((status == 429 || status >= 500) && attempt < MaxAttempts)
                {
                    await Task.Delay(BackOff(attempt, response.Headers.RetryAfter?.Delta), cancellationToken).ConfigureAwait(false);
                    continue;
                }

                if (response.IsSuccessStatusCode || response.StatusCode == HttpStatusCode.NotFound || (answerBadRequest && response.StatusCode == HttpStatusCode.BadRequest))
                {
                    var bytes = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
                    try
                    {
                        return new VaultAnswer(response.StatusCode, bytes.Length == 0 ? null : JsonDocument.Parse(bytes), bytes);
                    }
                    catch (JsonException)
                    {
                        CryptographicOperations.ZeroMemory(bytes);
                        throw new EcomDrException(ErrorIds.SecretSourceUnavailable, FailureKind.InvalidData, $"Vault answered {status} for '{path}' with a body that is not JSON.", path);
                    }
                }

                var kind = response.StatusCode == HttpStatusCode.Forbidden ? FailureKind.PermissionDenied : FailureKind.ResourceUnavailable;
                var why = response.StatusCode == HttpStatusCode.Forbidden ? "permission denied: the token cannot " + Verb(method) + " it" : $"answered {status}{(attempt > 1 ? $" after {attempt} attempts" : "")}";
                throw new EcomDrException(ErrorIds.SecretSourceUnavailable, kind, $"Vault at {Address}, '{path}': {why}.", path);
            }
        }
    }

    /// <summary>Attempts for one request while Vault answers 429 or 5xx.</summary>
    public const int MaxAttempts = 5;

    /// <summary>Wait before a retry: Retry-After when Vault gives one (at most 10 s), else 200 ms doubling.</summary>
    private TimeSpan BackOff(int attempt, TimeSpan? retryAfter) =>
        retryAfter is { } after ? TimeSpan.FromSeconds(Math.Min(10, after.TotalSeconds)) : RetryBase * Math.Pow(2, attempt - 1);

    /// <summary>The first retry's wait (tests shorten it).</summary>
    public TimeSpan RetryBase { get; init; } = TimeSpan.FromMilliseconds(200);

    private static string Verb(HttpMethod method) => method.Method switch
    {
        "GET" => "read",
        "LIST" => "list",
        "DELETE" => "delete",
        _ => "write",
    };
}

/// <summary>A Vault answer: its status and JSON body, if any. Dispose it: that clears the bytes the document reads.</summary>
public sealed class VaultAnswer(HttpStatusCode status, JsonDocument? json, byte[] bytes) : IDisposable
{
    public HttpStatusCode Status { get; } = status;

    public JsonDocument? Json { get; } = json;

    public void Dispose()
    {
        Json?.Dispose();
        CryptographicOperations.ZeroMemory(bytes);
    }
}
