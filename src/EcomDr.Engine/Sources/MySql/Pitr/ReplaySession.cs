using System.Buffers;
using System.Buffers.Text;
using EcomDr.Engine.Sources.MySql.Binlog;
using EcomDr.Engine.Sources.MySql.Wire;

namespace EcomDr.Engine.Sources.MySql.Pitr;

/// <summary>
/// One replay session on a sink: its settings (sql_mode, checks, binlogging), the FORMAT_DESCRIPTION
/// the server was last given, and how a transaction's GTID is set on it. A new session (an XA
/// transaction's own, or a script's reconnect) starts from nothing and is prepared again. On a server,
/// a transaction's GTID and BEGIN wait and go with its first statement, in one round trip (a script
/// keeps one statement per line, as the stock tool writes it).
/// </summary>
internal sealed class ReplaySession(IReplaySink sink, ReplayOptions options)
{
    private readonly bool _batches = sink is ServerSink;
    private byte[]? _fdeSent;
    private string? _deferred;
    private System.Buffers.ArrayBufferWriter<byte>? _batch;

    public IReplaySink Sink => sink;

    public async Task PrepareAsync(CancellationToken ct)
    {
        _fdeSent = null;
        _deferred = null;
        await sink.ExecuteAsync("SET SESSION sql_mode = '', foreign_key_checks = 1", ct).ConfigureAwait(false);
        if (options.NoBinlog)
        {
            await sink.ExecuteAsync("SET SESSION sql_log_bin = 0", ct).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// A second session beside this one, prepared like it (an XA transaction's prepare needs one: the
    /// session holding it can do nothing else until its XA COMMIT, which then runs there too). Null
    /// when the sink has one session only (a script), which <see cref="ReconnectAsync"/> restarts instead.
    /// </summary>
    public async Task<ReplaySession?> OpenSideAsync(CancellationToken ct)
    {
        if (await sink.OpenSessionAsync(ct).ConfigureAwait(false) is not { } other)
        {
            return null;
        }

        var side = new ReplaySession(other, options);
        await side.PrepareAsync(ct).ConfigureAwait(false);
        return side;
    }

    /// <summary>Ends the session and starts a new one, prepared again (a script: the client's \r; a prepared XA transaction stays prepared).</summary>
    public async Task ReconnectAsync(CancellationToken ct)
    {
        await sink.ReconnectAsync(ct).ConfigureAwait(false);
        await PrepareAsync(ct).ConfigureAwait(false);
    }

    public ValueTask CloseAsync() => sink.CloseAsync();

    public Task ExecuteAsync(string sql, CancellationToken ct)
    {
        var deferred = _deferred;
        _deferred = null;
        var full = deferred is null ? sql : $"{deferred}; {sql}";
        if (_batch is not null)
        {
            Collect(System.Text.Encoding.UTF8.GetBytes(full), CountStatements(full));
            return Task.CompletedTask;
        }

        return sink.ExecuteAsync(full, ct);
    }

    /// <summary>Statements collected since <see cref="BeginBatch"/>: the results the server returns for them, in order.</summary>
    public int BatchStatements { get; private set; }

    /// <summary>Statements of the last query sent that completed before it failed (a server only).</summary>
    public int CompletedStatements => (sink as ServerSink)?.CompletedResults ?? 0;

    /// <summary>
    /// Collects what follows (several whole transactions, each ending with its COMMIT) into one query,
    /// sent by <see cref="SendBatchAsync"/>: one round trip. On an error the server runs nothing after
    /// the failed statement, and <see cref="CompletedStatements"/> says how far it got.
    /// </summary>
    public void BeginBatch()
    {
        _batch = new System.Buffers.ArrayBufferWriter<byte>(1 << 16);
        BatchStatements = 0;
    }

    public async Task SendBatchAsync(CancellationToken ct)
    {
        var batch = _batch!;
        _batch = null;
        try
        {
            await ((ServerSink)sink).ExecuteCountedAsync(batch.WrittenMemory, BatchStatements, ct).ConfigureAwait(false);
        }
        catch
        {
            _fdeSent = null; // the FORMAT_DESCRIPTION in it may not have run
            throw;
        }
    }

    private void Collect(ReadOnlySpan<byte> sql, int statements)
    {
        if (_batch!.WrittenCount > 0)
        {
            "; "u8.CopyTo(_batch.GetSpan(2));
            _batch.Advance(2);
        }

        sql.CopyTo(_batch.GetSpan(sql.Length));
        _batch.Advance(sql.Length);
        BatchStatements += statements;
    }

    // What replay itself joins with "; " (GTID settings, BEGIN, COMMIT): no statement of a row-only transaction holds one.
    private static int CountStatements(string sql)
    {
        var count = 1;
        for (var at = sql.IndexOf("; ", StringComparison.Ordinal); at >= 0; at = sql.IndexOf("; ", at + 2, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }

    /// <summary>Runs a statement now, or, on a server, with the next one (a GTID, a BEGIN: nothing that can fail on its own).</summary>
    public Task DeferAsync(string sql, CancellationToken ct)
    {
        if (!_batches)
        {
            return sink.ExecuteAsync(sql, ct);
        }

        _deferred = _deferred is null ? sql : $"{_deferred}; {sql}";
        return Task.CompletedTask;
    }

    /// <summary>The transaction's original GTID, when they are kept: MariaDB's three session variables, MySQL's gtid_next.</summary>
    public async Task SetGtidAsync(BinlogTransaction transaction, CancellationToken ct)
    {
        if (!options.PreserveGtids || transaction.Gtid is not { Anonymous: false } gtid)
        {
            return;
        }

        // Three statements, not one SET of three: MariaDB checks gtid_seq_no against the domain in force
        // before that same statement, and refuses it under gtid_strict_mode.
        await DeferAsync(transaction.IsMariaDb
            ? $"SET @@session.gtid_domain_id={gtid.Domain}; SET @@session.server_id={gtid.ServerId}; SET @@session.gtid_seq_no={gtid.Sequence}"
            : $"SET @@session.gtid_next='{gtid.Text}'", ct).ConfigureAwait(false);
    }

    /// <summary>Whether the transaction's GTID was set as MySQL's gtid_next, which must go back to automatic after it.</summary>
    public bool ResetsGtid(BinlogTransaction transaction) => options.PreserveGtids && !transaction.IsMariaDb && transaction.Gtid is { Anonymous: false };

    /// <summary>MySQL: back to automatic GTIDs once the transaction whose GTID was set has committed.</summary>
    public async Task ResetGtidAsync(BinlogTransaction transaction, CancellationToken ct)
    {
        if (ResetsGtid(transaction))
        {
            await ExecuteAsync("SET @@session.gtid_next='AUTOMATIC'", ct).ConfigureAwait(false);
        }
    }

    /// <summary>The session's own GTIDs again (MariaDB: the server's domain and id), for what replay itself writes.</summary>
    public async Task OwnGtidsAsync(bool mariaDb, CancellationToken ct)
    {
        if (!options.PreserveGtids)
        {
            return;
        }

        await ExecuteAsync(mariaDb
            ? "SET @@session.gtid_domain_id=@@global.gtid_domain_id; SET @@session.server_id=@@global.server_id"
            : "SET @@session.gtid_next='AUTOMATIC'", ct).ConfigureAwait(false);
    }

    /// <summary>The FORMAT_DESCRIPTION that BINLOG statements of this transaction need, when the server has not been given it yet.</summary>
    public async Task FormatAsync(ReadOnlyMemory<byte> fde, CancellationToken ct)
    {
        if (fde.Length == 0 || (_fdeSent is not null && fde.Span.SequenceEqual(_fdeSent)))
        {
            return;
        }

        _fdeSent = fde.ToArray();
        await BinlogAsync(new[] { fde }, ct).ConfigureAwait(false);
    }

    /// <summary>
    /// Sends events as one BINLOG statement (base64 of their raw bytes), as the stock binlog tool prints
    /// them; encoded straight to UTF-8 in a pooled buffer, no strings.
    /// </summary>
    public async Task BinlogAsync(IReadOnlyList<ReadOnlyMemory<byte>> raw, CancellationToken ct)
    {
        var total = raw.Sum(r => r.Length);
        var encoded = (total + 2) / 3 * 4;
        var prefix = _deferred is null ? Array.Empty<byte>() : System.Text.Encoding.UTF8.GetBytes(_deferred + "; ");
        var statements = _deferred is null ? 1 : CountStatements(_deferred) + 1;
        _deferred = null;
        var joined = ArrayPool<byte>.Shared.Rent(total);
        var sql = ArrayPool<byte>.Shared.Rent(prefix.Length + encoded + 16);
        try
        {
            var at = 0;
            foreach (var part in raw)
            {
                part.Span.CopyTo(joined.AsSpan(at));
                at += part.Length;
            }

            prefix.CopyTo(sql, 0);
            var at0 = prefix.Length;
            "BINLOG '"u8.CopyTo(sql.AsSpan(at0));
            Base64.EncodeToUtf8(joined.AsSpan(0, total), sql.AsSpan(at0 + 8), out _, out var written);
            sql[at0 + 8 + written] = (byte)'\'';
            if (_batch is not null)
            {
                Collect(sql.AsSpan(0, at0 + 9 + written), statements);
                return;
            }

            await sink.ExecuteAsync(sql.AsMemory(0, at0 + 9 + written), ct).ConfigureAwait(false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(joined);
            ArrayPool<byte>.Shared.Return(sql);
        }
    }

    /// <summary>Rolls back what is open, quietly: used on the way out of a failure.</summary>
    public async Task RollbackQuietlyAsync()
    {
        _deferred = null;
        _batch = null;
        try
        {
            await sink.ExecuteAsync("ROLLBACK", CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is WireServerException or IOException or InvalidOperationException)
        {
            // the connection is gone: the server rolls back itself
        }
    }
}
