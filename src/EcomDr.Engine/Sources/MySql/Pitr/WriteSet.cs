using System.Globalization;
using System.IO.Hashing;
using System.Text;
using EcomDr.Engine.Sources.MySql.Binlog;

namespace EcomDr.Engine.Sources.MySql.Pitr;

/// <summary>
/// The rows a transaction writes, as hashes, for parallel replay to tell which transactions may run
/// at the same time: the unique-key values of every row image, the parent keys its foreign keys lock,
/// every table it touches, and the tables it must hold whole (no usable unique key, cascading foreign
/// keys, or an image that lacks a key's columns). A hash collision or a missed equality only makes
/// two transactions wait for each other, or meet a lock the retry resolves: never a different result,
/// since the server's own locks still order every real conflict.
/// </summary>
internal sealed class WriteSet
{
    public HashSet<ulong> Rows { get; } = new();

    public HashSet<ulong> Tables { get; } = new();

    public HashSet<ulong> WholeTables { get; } = new();

    public static ulong TableHash(string name) => XxHash64.HashToUInt64(Encoding.UTF8.GetBytes("T\0" + name));

    /// <summary>
    /// The writeset of a transaction that applies row events only, or null when it cannot run beside
    /// others: a table it writes is not on the target or not transactional (its changes would not roll
    /// back for a retry).
    /// </summary>
    public static async Task<WriteSet?> ComputeAsync(BinlogTransaction transaction, TransactionPlan plan, IReadOnlyDictionary<string, string> map,
        TargetTables tables, CancellationToken ct)
    {
        var set = new WriteSet();
        var maps = new Dictionary<ulong, (TableMapInfo Info, TableShape Shape)>();
        var index = -1;
        await foreach (var item in transaction.Events.ReadAsync(ct).ConfigureAwait(false))
        {
            index++;
            if (plan.Actions[index] != EventAction.Apply)
            {
                continue;
            }

            var e = item.Event;
            if (e.Type == BinlogEventType.TableMap)
            {
                var info = BinlogDecoders.TableMap(e, item.Format);
                var schema = map.TryGetValue(info.Schema, out var renamed) ? renamed : info.Schema;
                if (await tables.GetAsync(schema, info.Table, ct).ConfigureAwait(false) is not { Transactional: true } shape)
                {
                    return null;
                }

                maps[info.TableId] = (info, shape);
                set.Tables.Add(TableHash(shape.Name));
                foreach (var whole in shape.WholeTable)
                {
                    set.WholeTables.Add(TableHash(whole));
                    set.Tables.Add(TableHash(whole));
                }

                if (shape.ColumnCount != info.ColumnCount)
                {
                    set.WholeTables.Add(TableHash(shape.Name)); // columns do not line up with the target's: keys unknown
                }

                continue;
            }

            if (!BinlogDecoders.IsRows(e.Type) || !maps.TryGetValue(BinlogDecoders.Rows(e, item.Format).TableId, out var table))
            {
                return null;
            }

            if (set.WholeTables.Contains(TableHash(table.Shape.Name)))
            {
                continue;
            }

            var visitor = new KeyVisitor(table.Shape, set);
            if (!RowImages.Walk(e, item.Format, table.Info, visitor) || visitor.Incomplete)
            {
                set.WholeTables.Add(TableHash(table.Shape.Name));
            }
        }

        return set;
    }

    /// <summary>Collects each image's column values, then hashes its keys at the image's end.</summary>
    private sealed class KeyVisitor(TableShape shape, WriteSet set) : IRowImageVisitor
    {
        private readonly byte[]?[] _values = new byte[]?[shape.ColumnCount];
        private readonly bool[] _keyed = Keyed(shape);
        private byte[] _present = Array.Empty<byte>();

        /// <summary>An image lacked the columns of a unique key (a minimal row image): the table is held whole.</summary>
        public bool Incomplete { get; private set; }

        public void StartImage(byte[] present)
        {
            _present = present;
            Array.Clear(_values);
        }

        public void Value(int column, ReadOnlySpan<byte> value)
        {
            // Only what a key reads is kept.
            if (column < _values.Length && _keyed[column])
            {
                _values[column] = value.ToArray();
            }
        }

        public void Null(int column)
        {
        }

        public void EndImage()
        {
            foreach (var key in shape.Keys)
            {
                if (!key.Columns.All(Present))
                {
                    Incomplete = true;
                    return;
                }

                // A NULL in a unique key makes the row unique by nothing: no key to lock.
                if (Hash(key, key.Columns) is { } hash)
                {
                    set.Rows.Add(hash);
                }
            }

            foreach (var parent in shape.Parents)
            {
                if (parent.ChildColumns.All(Present) && Hash(parent.ParentKey, parent.ChildColumns) is { } hash)
                {
                    set.Rows.Add(hash);
                }
            }
        }

        public void EndRow()
        {
        }

        private bool Present(int column) => column < _values.Length && (_present[column / 8] & (1 << (column % 8))) != 0;

        private static bool[] Keyed(TableShape shape)
        {
            var keyed = new bool[shape.ColumnCount];
            foreach (var column in shape.Keys.SelectMany(k => k.Columns).Concat(shape.Parents.SelectMany(p => p.ChildColumns)))
            {
                keyed[column] = true;
            }

            return keyed;
        }

        private ulong? Hash(UniqueKey key, int[] columns)
        {
            var hash = new XxHash64();
            hash.Append(key.HashPrefix);
            Span<byte> length = stackalloc byte[4];
            for (var i = 0; i < columns.Length; i++)
            {
                if (_values[columns[i]] is not { } value)
                {
                    return null;
                }

                System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(length, value.Length);
                hash.Append(length);
                hash.Append(key.Collated[i] ? Fold(value) : value);
            }

            return hash.GetCurrentHashAsUInt64();
        }
    }

    /// <summary>
    /// Text as a case- and accent-insensitive, PAD SPACE collation would compare it, folded coarsely:
    /// values a collation calls equal fold equal; some it calls different fold equal too (a false conflict).
    /// </summary>
    internal static byte[] Fold(byte[] value)
    {
        var text = Encoding.UTF8.GetString(value).Normalize(NormalizationForm.FormD);
        var folded = new StringBuilder(text.Length);
        foreach (var c in text)
        {
            if (CharUnicodeInfo.GetUnicodeCategory(c) != UnicodeCategory.NonSpacingMark)
            {
                folded.Append(c);
            }
        }

        return Encoding.UTF8.GetBytes(folded.ToString().ToUpperInvariant().Replace("ß", "SS", StringComparison.Ordinal).TrimEnd(' '));
    }
}
