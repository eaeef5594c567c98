using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using EcomDr.Engine.Sources.MySql.Shared;

namespace EcomDr.Engine.Sources.MySql.Pitr;

/// <summary>
/// The session context a QUERY event recorded (its status variables, as the MySQL and MariaDB
/// QUERY_EVENT pages lay them out), turned into the SET statement that recreates it before the
/// statement runs again: timestamp with microseconds, sql_mode, character sets, time zone, checks.
/// </summary>
internal static class QueryContext
{
    private const uint AutoIsNull = 0x00004000;
    private const uint NotAutocommit = 0x00080000;
    private const uint NoForeignKeyChecks = 0x04000000;
    private const uint RelaxedUniqueChecks = 0x08000000;

    private const ulong AnsiQuotesMode = 0x4;
    private const ulong NoBackslashEscapesMode = 0x100000;

    public static string SetStatement(ReadOnlySpan<byte> status, uint timestamp, uint threadId)
    {
        var (sets, _, micros) = Read(status);
        sets.Insert(0, $"@@session.pseudo_thread_id={threadId}");
        sets.Insert(0, $"TIMESTAMP={timestamp}{(micros is > 0 ? "." + micros.Value.ToString("D6", CultureInfo.InvariantCulture) : "")}");
        return "SET " + string.Join(", ", sets);
    }

    /// <summary>The microseconds of the statement's start time, when the event records them (Q_MICROSECONDS, Q_HRNOW).</summary>
    public static uint? Microseconds(ReadOnlySpan<byte> status) => Read(status).Micros;

    /// <summary>How the statement's text is lexed under its sql_mode: ANSI_QUOTES makes "…" a name, NO_BACKSLASH_ESCAPES makes \ plain.</summary>
    public static (bool AnsiQuotes, bool NoBackslashEscapes) Lexing(ReadOnlySpan<byte> status) =>
        Read(status).SqlMode is { } mode ? ((mode & AnsiQuotesMode) != 0, (mode & NoBackslashEscapesMode) != 0) : (false, false);

    /// <summary>Walks the status variables: the session settings they record, the sql_mode and the start time's microseconds.</summary>
    private static (List<string> Sets, ulong? SqlMode, uint? Micros) Read(ReadOnlySpan<byte> status)
    {
        var sets = new List<string>();
        uint? micros = null;
        ulong? sqlMode = null;
        var r = 0;
        while (r < status.Length)
        {
            var code = status[r++];
            switch (code)
            {
                case 0x00: // Q_FLAGS2_CODE
                    var flags = BinaryPrimitives.ReadUInt32LittleEndian(status[r..]);
                    r += 4;
                    sets.Add($"@@session.foreign_key_checks={((flags & NoForeignKeyChecks) == 0 ? 1 : 0)}");
                    sets.Add($"@@session.sql_auto_is_null={((flags & AutoIsNull) != 0 ? 1 : 0)}");
                    sets.Add($"@@session.unique_checks={((flags & RelaxedUniqueChecks) == 0 ? 1 : 0)}");
                    sets.Add($"@@session.autocommit={((flags & NotAutocommit) == 0 ? 1 : 0)}");
                    break;
                case 0x01: // Q_SQL_MODE_CODE: the server takes the numeric bitmask
                    sqlMode = BinaryPrimitives.ReadUInt64LittleEndian(status[r..]);
                    sets.Add($"@@session.sql_mode={sqlMode.Value.ToString(CultureInfo.InvariantCulture)}");
                    r += 8;
                    break;
                case 0x02: // Q_CATALOG_CODE (old): length, name, NUL
                    r += 1 + status[r] + 1;
                    break;
                case 0x03: // Q_AUTO_INCREMENT
                    sets.Add($"@@session.auto_increment_increment={BinaryPrimitives.ReadUInt16LittleEndian(status[r..])}");
                    sets.Add($"@@session.auto_increment_offset={BinaryPrimitives.ReadUInt16LittleEndian(status[(r + 2)..])}");
                    r += 4;
                    break;
                case 0x04: // Q_CHARSET_CODE
                    sets.Add($"@@session.character_set_client={BinaryPrimitives.ReadUInt16LittleEndian(status[r..])}");
                    sets.Add($"@@session.collation_connection={BinaryPrimitives.ReadUInt16LittleEndian(status[(r + 2)..])}");
                    sets.Add($"@@session.collation_server={BinaryPrimitives.ReadUInt16LittleEndian(status[(r + 4)..])}");
                    r += 6;
                    break;
                case 0x05: // Q_TIME_ZONE_CODE
                    var zone = Encoding.UTF8.GetString(status.Slice(r + 1, status[r]));
                    sets.Add($"@@session.time_zone='{Sql.EscapeString(zone)}'");
                    r += 1 + status[r];
                    break;
                case 0x06: // Q_CATALOG_NZ_CODE
                    r += 1 + status[r];
                    break;
                case 0x07: // Q_LC_TIME_NAMES_CODE
                    sets.Add($"@@session.lc_time_names={BinaryPrimitives.ReadUInt16LittleEndian(status[r..])}");
                    r += 2;
                    break;
                case 0x08: // Q_CHARSET_DATABASE_CODE
                    sets.Add($"@@session.collation_database={BinaryPrimitives.ReadUInt16LittleEndian(status[r..])}");
                    r += 2;
                    break;
                case 0x09: // Q_TABLE_MAP_FOR_UPDATE_CODE
                    r += 8;
                    break;
                case 0x0A: // Q_MASTER_DATA_WRITTEN_CODE
                    r += 4;
                    break;
                case 0x0B: // Q_INVOKER: user, host
                    r += 1 + status[r];
                    r += 1 + status[r];
                    break;
                case 0x0C: // Q_UPDATED_DB_NAMES: count, then NUL-terminated names (254 = too many to list)
                    var count = status[r++];
                    for (var i = 0; i < count && count < 254; i++)
                    {
                        r += status[r..].IndexOf((byte)0) + 1;
                    }

                    break;
                case 0x0D: // Q_MICROSECONDS (MySQL)
                case 0x80: // Q_HRNOW (MariaDB)
                    micros = (uint)(status[r] | (status[r + 1] << 8) | (status[r + 2] << 16));
                    r += 3;
                    break;
                case 0x0E: // Q_COMMIT_TS (unused)
                    break;
                case 0x0F: // Q_COMMIT_TS2 (unused)
                    break;
                case 0x10: // Q_EXPLICIT_DEFAULTS_FOR_TIMESTAMP
                    sets.Add($"@@session.explicit_defaults_for_timestamp={status[r]}");
                    r += 1;
                    break;
                case 0x11: // Q_DDL_LOGGED_WITH_XID
                case 0x81: // Q_XID (MariaDB)
                    r += 8;
                    break;
                case 0x12: // Q_DEFAULT_COLLATION_FOR_UTF8MB4
                    sets.Add($"@@session.default_collation_for_utf8mb4={BinaryPrimitives.ReadUInt16LittleEndian(status[r..])}");
                    r += 2;
                    break;
                case 0x13: // Q_SQL_REQUIRE_PRIMARY_KEY
                case 0x14: // Q_DEFAULT_TABLE_ENCRYPTION
                    r += 1;
                    break;
                default:
                    // The layout of an unknown code is unknown: its length cannot be skipped safely.
                    throw new InvalidDataException($"QUERY event status variable 0x{code:X2} is not known; the statement's context cannot be recreated.");
            }
        }

        return (sets, sqlMode, micros);
    }
}
