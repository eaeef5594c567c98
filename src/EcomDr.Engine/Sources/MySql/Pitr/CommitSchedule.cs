using EcomDr.Engine.Sources.MySql.Binlog;

namespace EcomDr.Engine.Sources.MySql.Pitr;

/// <summary>
/// Decides which earlier transaction a row-only transaction must wait for before it may run beside
/// the others, from two sources, either of which is enough:
/// <list type="bullet">
/// <item>its writeset: the latest earlier transaction that wrote one of its keys, touched a table it
/// holds whole, or held whole a table it touches;</item>
/// <item>the dependency facts the source wrote: MySQL's last_committed (it may run once every
/// transaction of the same file with a sequence_number up to it has committed), MariaDB's commit_id
/// (transactions of one group commit held no conflicting locks on the source; not trusted for one the
/// source flagged as having waited for a lock, or not flagged as allowed in parallel).</item>
/// </list>
/// Numbers are those of batches, from 1 in handing-over order (consecutive transactions share one and
/// run one after the other in it); 0 means "nothing to wait for".
/// </summary>
internal sealed class CommitSchedule
{
    private const byte MariaAllowParallel = 0x08;
    private const byte MariaWaited = 0x10;

    private readonly Dictionary<ulong, long> _rows = new();
    private readonly Dictionary<ulong, long> _touched = new();
    private readonly Dictionary<ulong, long> _whole = new();
    private readonly List<(long Source, long Ours)> _clock = new();
    private string _clockFile = "";
    private long _fileBase;
    private ulong? _group;
    private long _groupBase;
    private long _lastSeq; // the batch of the transaction given before

    /// <summary>Everything handed over has committed (a transaction ran alone): nothing before this point is waited for again.</summary>
    public void Barrier()
    {
        _rows.Clear();
        _touched.Clear();
        _whole.Clear();
        _clock.Clear();
        _clockFile = "";
        _group = null;
        _lastSeq = 0;
    }

    /// <summary>
    /// The number of the earlier batch that a transaction of batch <paramref name="seq"/> must wait for,
    /// and whether it also conflicts with a transaction already in that same batch (which runs before it
    /// on the same connection); records what it writes.
    /// </summary>
    public (long After, bool SameBatch) After(long seq, WriteSet writes, BinlogTransaction transaction)
    {
        long byWrites = 0;
        var same = false;
        void Conflict(long with)
        {
            if (with == seq)
            {
                same = true;
            }
            else
            {
                byWrites = Math.Max(byWrites, with);
            }
        }

        foreach (var key in writes.Rows)
        {
            Conflict(_rows.GetValueOrDefault(key));
            _rows[key] = seq;
        }

        foreach (var table in writes.Tables)
        {
            Conflict(_whole.GetValueOrDefault(table));
        }

        foreach (var table in writes.WholeTables)
        {
            Conflict(_touched.GetValueOrDefault(table));
            _whole[table] = seq;
        }

        foreach (var table in writes.Tables)
        {
            _touched[table] = seq;
        }

        // What the clock names inside this same batch runs before it there: only earlier batches are waited for.
        var byClock = Math.Min(ByClock(seq, transaction), seq - 1);
        _lastSeq = seq;
        return (Math.Min(byWrites, byClock), same);
    }

    /// <summary>
    /// Where "everything before this transaction" ends, counted in batches: its own batch when transactions
    /// before it share that batch (a later batch must wait for it), else the batch before.
    /// </summary>
    private long Before(long seq) => _lastSeq == seq ? seq : seq - 1;

    /// <summary>The transaction last given to <see cref="After"/> goes in batch <paramref name="seq"/> instead (one later).</summary>
    public void Renumber(WriteSet writes, long seq)
    {
        foreach (var key in writes.Rows)
        {
            _rows[key] = seq;
        }

        foreach (var table in writes.Tables)
        {
            _touched[table] = seq;
        }

        foreach (var table in writes.WholeTables)
        {
            _whole[table] = seq;
        }

        if (_clock.Count > 0)
        {
            _clock[^1] = (_clock[^1].Source, seq);
        }

        _lastSeq = seq;
    }

    private long ByClock(long seq, BinlogTransaction transaction)
    {
        if (transaction.Gtid is not { } gtid)
        {
            _group = null;
            return seq - 1;
        }

        if (transaction.IsMariaDb)
        {
            var trusted = (gtid.Flags & MariaAllowParallel) != 0 && (gtid.Flags & MariaWaited) == 0;
            if (gtid.CommitId is { } id && trusted && _group == id && transaction.StartFile == _clockFile)
            {
                return _groupBase;
            }

            _clockFile = transaction.StartFile;
            _group = gtid.CommitId is { } first && trusted ? first : null;
            _groupBase = Before(seq);
            return seq - 1;
        }

        if (gtid.SequenceNumber <= 0)
        {
            return seq - 1;
        }

        // MySQL numbers transactions per binlog file: a new file's first ones depend on everything before it.
        if (transaction.StartFile != _clockFile)
        {
            _clock.Clear();
            _clockFile = transaction.StartFile;
            _fileBase = Before(seq);
        }

        // The last one numbered up to last_committed (sequence numbers rise through the file).
        int low = 0, high = _clock.Count - 1;
        var after = _fileBase;
        while (low <= high)
        {
            var middle = (low + high) / 2;
            if (_clock[middle].Source <= gtid.LastCommitted)
            {
                after = _clock[middle].Ours;
                low = middle + 1;
            }
            else
            {
                high = middle - 1;
            }
        }

        _clock.Add((gtid.SequenceNumber, seq));
        return after;
    }
}
