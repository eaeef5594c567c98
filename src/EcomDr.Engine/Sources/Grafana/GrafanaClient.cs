using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using EcomDr.Engine.Credentials;
using EcomDr.Engine.Errors;

namespace EcomDr.Engine.Sources.Grafana;

/// <summary>
/// Grafana's HTTP API (the documented /api endpoints: search, dashboards, folders, datasources), with a
/// service account token as a Bearer credential. The token never reaches an error text.
/// </summary>
public sealed class GrafanaClient : IDisposable
{
    private readonly HttpClient _http;

    public GrafanaClient(Uri url, Secret token, TimeSpan? timeout = null)
    {
        Url = url;
        _http = new HttpClient { BaseAddress = new Uri(url.ToString().TrimEnd('/') + "/"), Timeout = timeout ?? TimeSpan.FromSeconds(30) };
        _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token.Reveal());
        _http.DefaultRequestHeaders.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
    }

    public Uri Url { get; }

    /// <summary>GET; null for 404.</summary>
    public async Task<JsonNode?> GetAsync(string path, CancellationToken ct)
    {
        using var response = await SendAsync(HttpMethod.Get, path, null, ct).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }

        return await ReadAsync(response, "GET", path, ct).ConfigureAwait(false);
    }

    /// <summary>POST or PUT a JSON body; the answer, or null with the status for 409 and 412 (exists already, changed meanwhile).</summary>
    public async Task<(HttpStatusCode Status, JsonNode? Body)> SendJsonAsync(HttpMethod method, string path, JsonNode body, CancellationToken ct)
    {
        using var response = await SendAsync(method, path, body, ct).ConfigureAwait(false);
        if (response.StatusCode is HttpStatusCode.Conflict or HttpStatusCode.PreconditionFailed)
        {
            return (response.StatusCode, null);
        }

        return (response.StatusCode, await ReadAsync(response, method.Method, path, ct).ConfigureAwait(false));
    }

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, JsonNode? body, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(method, path.TrimStart('/'));
        if (body is not null)
        {
            request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
        }

        try
        {
            return await _http.SendAsync(request, ct).ConfigureAwait(false);
        }
        catch (HttpRequestException ex)
        {
            throw new EcomDrException(ErrorIds.ConnectionFailed, FailureKind.ConnectionError, $"Grafana at {Url} could not be reached: {ex.Message}", Url.ToString(), ex);
        }
        catch (TaskCanceledException ex) when (!ct.IsCancellationRequested)
        {
            throw new EcomDrException(ErrorIds.ConnectionFailed, FailureKind.ConnectionError, $"Grafana at {Url} did not answer {method} {path} in time.", Url.ToString(), ex);
        }
    }

    private async Task<JsonNode?> ReadAsync(HttpResponseMessage response, string method, string path, CancellationToken ct)
    {
        var text = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
        if (response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
        {
            throw new EcomDrException(response.StatusCode == HttpStatusCode.Unauthorized ? ErrorIds.AuthenticationFailed : ErrorIds.PermissionDenied,
                response.StatusCode == HttpStatusCode.Unauthorized ? FailureKind.AuthenticationError : FailureKind.PermissionDenied,
                $"Grafana at {Url} refused {method} /{path.TrimStart('/')}: {(int)response.StatusCode} {Message(text)}. The token needs the Editor role (dashboards, folders) and Admin (datasources).", Url.ToString());
        }

        if (!response.IsSuccessStatusCode)
        {
            throw new EcomDrException(ErrorIds.GrafanaRequestFailed, FailureKind.InvalidOperation,
                $"Grafana at {Url} answered {method} /{path.TrimStart('/')} with {(int)response.StatusCode}: {Message(text)}", Url.ToString());
        }

        return text.Length == 0 ? null : JsonNode.Parse(text);
    }

    private static string Message(string text)
    {
        try
        {
            return (string?)JsonNode.Parse(text)?["message"] ?? text;
        }
        catch (System.Text.Json.JsonException)
        {
            return text.Length > 200 ? text[..200] : text;
        }
    }

    public void Dispose() => _http.Dispose();
}
