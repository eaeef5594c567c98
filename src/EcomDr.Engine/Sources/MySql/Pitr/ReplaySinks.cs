using System.Text;
using EcomDr.Engine.Sources.MySql.Shared;
using EcomDr.Engine.Sources.MySql.Wire;

namespace EcomDr.Engine.Sources.MySql.Pitr;

/// <summary>Where replayed statements go: a server, or a script a second person reviews first.</summary>
public interface IReplaySink
{
    Task ExecuteAsync(string sql, CancellationToken ct);

    Task ExecuteAsync(ReadOnlyMemory<byte> sql, CancellationToken ct);

    /// <summary>
    /// A second session beside this one, for an XA transaction's first part: a session holding a
    /// prepared XA transaction can do nothing else, and the server keeps it prepared once that session
    /// ends. Null when the sink can only end and restart its own session (<see cref="ReconnectAsync"/>).
    /// </summary>
    Task<IReplaySink?> OpenSessionAsync(CancellationToken ct);

    /// <summary>Ends this session and starts a new one (a script: the client's \r command).</summary>
    Task ReconnectAsync(CancellationToken ct);

    /// <summary>Ends a session that <see cref="OpenSessionAsync"/> opened.</summary>
    ValueTask CloseAsync();
}

/// <summary>Runs each statement on a connection.</summary>
internal sealed class ServerSink(WireConnection connection, MySqlEndpoint? endpoint = null, bool owns = false) : IReplaySink
{
    public Task ExecuteAsync(string sql, CancellationToken ct) => connection.ExecuteAsync(sql, ct);

    public Task ExecuteAsync(ReadOnlyMemory<byte> sql, CancellationToken ct) => connection.ExecuteAsync(sql, ct);

    /// <summary>A query of that many statements, each result read whatever its flags say (<see cref="WireConnection.ExecuteCountedAsync"/>).</summary>
    public Task ExecuteCountedAsync(ReadOnlyMemory<byte> sql, int statements, CancellationToken ct) => connection.ExecuteCountedAsync(sql, statements, ct);

    /// <summary>Statements of the last query that completed (before an error, those that ran).</summary>
    public int CompletedResults => connection.CompletedResults;

    public async Task<IReplaySink?> OpenSessionAsync(CancellationToken ct) =>
        endpoint is null ? null : new ServerSink(await WireConnection.OpenAsync(endpoint, ct, multiStatements: true).ConfigureAwait(false), endpoint, owns: true);

    public Task ReconnectAsync(CancellationToken ct) => throw new NotSupportedException("A server session is not restarted; a second one is opened beside it.");

    /// <summary>
    /// Ends a session this sink opened, and waits until the server has ended it too: only then is an XA
    /// transaction it prepared detached, so that another session's XA COMMIT finds it (before, the
    /// server answers "Unknown XID").
    /// </summary>
    public async ValueTask CloseAsync()
    {
        if (!owns)
        {
            return;
        }

        var id = connection.ConnectionId;
        await connection.DisposeAsync().ConfigureAwait(false);
        await using var check = await MySqlConnections.OpenAsync(endpoint!, CancellationToken.None).ConfigureAwait(false);
        for (var deadline = DateTime.UtcNow.AddSeconds(60); ;)
        {
            await using var cmd = new MySqlConnector.MySqlCommand($"SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE ID = {id}", check);
            if (Convert.ToInt64(await cmd.ExecuteScalarAsync().ConfigureAwait(false)) == 0)
            {
                return;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new IOException($"The server did not end replay session {id} within a minute of its close.");
            }

            await Task.Delay(5).ConfigureAwait(false);
        }
    }
}

/// <summary>
/// Writes each statement to a script, as the stock binlog tool does: after "DELIMITER /*!*/;", each
/// statement ends with "/*!*/;" on its own line, so statements holding semicolons stay whole and the
/// script runs through the mariadb/mysql client as written.
/// </summary>
public sealed class ScriptSink : IReplaySink
{
    private static readonly byte[] Terminator = "\n/*!*/;\n"u8.ToArray();
    private readonly Stream _output;

    public ScriptSink(Stream output) => _output = output;

    public long Statements { get; private set; }

    public async Task CommentAsync(string text, CancellationToken ct)
    {
        var lines = text.Split('\n').Select(l => "-- " + l.TrimEnd('\r') + "\n");
        await _output.WriteAsync(Encoding.UTF8.GetBytes(string.Concat(lines)), ct).ConfigureAwait(false);
    }

    public async Task BeginAsync(CancellationToken ct) =>
        await _output.WriteAsync("DELIMITER /*!*/;\n"u8.ToArray(), ct).ConfigureAwait(false);

    public async Task EndAsync(CancellationToken ct) =>
        await _output.WriteAsync("DELIMITER ;\n"u8.ToArray(), ct).ConfigureAwait(false);

    public Task ExecuteAsync(string sql, CancellationToken ct) => ExecuteAsync(Encoding.UTF8.GetBytes(sql), ct);

    public async Task ExecuteAsync(ReadOnlyMemory<byte> sql, CancellationToken ct)
    {
        await _output.WriteAsync(sql, ct).ConfigureAwait(false);
        await _output.WriteAsync(Terminator, ct).ConfigureAwait(false);
        Statements++;
    }

    public Task<IReplaySink?> OpenSessionAsync(CancellationToken ct) => Task.FromResult<IReplaySink?>(null);

    /// <summary>The mariadb/mysql client's reconnect command: the session ends (a prepared XA transaction stays prepared) and a new one starts.</summary>
    public async Task ReconnectAsync(CancellationToken ct) => await _output.WriteAsync("\\r\n"u8.ToArray(), ct).ConfigureAwait(false);

    public ValueTask CloseAsync() => ValueTask.CompletedTask;
}
