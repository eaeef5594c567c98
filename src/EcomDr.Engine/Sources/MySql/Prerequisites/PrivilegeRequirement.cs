namespace EcomDr.Engine.Sources.MySql.Prerequisites;

/// <summary>
/// A privilege the backup or restore user needs, why, and whether it must be global. Alternatives
/// are privileges that serve instead (SUPER for the dynamic ones); Schema pins a schema-level one to
/// that schema (EcomDr's own records); Optional makes a missing one a warning (a feature, not the job).
/// </summary>
internal sealed record PrivilegeRequirement(string Privilege, string CheckName, bool GlobalOnly, string Why, string[]? Alternatives = null, string? Schema = null,
    bool Optional = false)
{
    public static readonly IReadOnlyList<PrivilegeRequirement> Common = new PrivilegeRequirement[]
    {
        new("SELECT", "Privilege.Select", false, "reads table data for the dump"),
        new("RELOAD", "Privilege.Reload", true, "takes the brief global lock / backup stage for a consistent snapshot"),
        new("LOCK TABLES", "Privilege.LockTables", false, "locks non-transactional tables during the dump"),
        new("REPLICATION CLIENT", "Privilege.ReplicationClient", true, "reads binlog coordinates (SHOW BINARY LOG STATUS / BINLOG MONITOR)"),
        new("REPLICATION SLAVE", "Privilege.ReplicationSlave", true, "streams binlogs as a replica"),
        new("SHOW VIEW", "Privilege.ShowView", false, "dumps view definitions"),
        new("EVENT", "Privilege.Event", false, "dumps scheduled events"),
        new("TRIGGER", "Privilege.Trigger", false, "dumps triggers"),
    };

    /// <summary>Restore-MySqlDatabase and Restore-MySqlPitr into the target schemas, and Switch-MySqlSchema there.</summary>
    public static readonly IReadOnlyList<PrivilegeRequirement> Restore = new PrivilegeRequirement[]
    {
        new("CREATE", "Privilege.Restore.Create", false, "creates the target schema and its tables (Switch-MySqlSchema: the <schema>_pre_restore_<time> schema, which needs it on *.*)"),
        new("DROP", "Privilege.Restore.Drop", false, "replays DROP and TRUNCATE, replaces tables with -Force, removes what a failed restore created"),
        new("ALTER", "Privilege.Restore.Alter", false, "adds the deferred keys after the data, replays ALTER TABLE, swaps with RENAME TABLE"),
        new("INDEX", "Privilege.Restore.Index", false, "builds secondary keys"),
        new("INSERT", "Privilege.Restore.Insert", false, "loads the data"),
        new("UPDATE", "Privilege.Restore.Update", false, "replays updates"),
        new("DELETE", "Privilege.Restore.Delete", false, "replays deletes"),
        new("SELECT", "Privilege.Restore.Select", false, "checks the target and validates it"),
        new("REFERENCES", "Privilege.Restore.References", false, "creates foreign keys"),
        new("CREATE VIEW", "Privilege.Restore.CreateView", false, "recreates views"),
        new("SHOW VIEW", "Privilege.Restore.ShowView", false, "Switch-MySqlSchema moves views"),
        new("CREATE ROUTINE", "Privilege.Restore.CreateRoutine", false, "recreates procedures and functions"),
        new("ALTER ROUTINE", "Privilege.Restore.AlterRoutine", false, "replaces and drops routines"),
        new("TRIGGER", "Privilege.Restore.Trigger", false, "recreates triggers"),
        new("EVENT", "Privilege.Restore.Event", false, "recreates events"),
        new("CREATE", "Privilege.Restore.Records", false, "keeps the restore records in ecomdr.restore_state (also INSERT, UPDATE, SELECT, DROP there)", Schema: "ecomdr"),
    };

    /// <summary>Restore-MySqlPitr's replay, by flavor: BINLOG statements and the session context of replayed statements.</summary>
    public static readonly PrivilegeRequirement ReplayMariaDb =
        new("BINLOG REPLAY", "Privilege.Replay", true, "replays row events (BINLOG statements) and sets each statement's session context (pseudo_thread_id, GTID)", new[] { "SUPER" });

    public static readonly PrivilegeRequirement ReplayMySql =
        new("REPLICATION_APPLIER", "Privilege.Replay", true, "replays row events (BINLOG statements) and sets gtid_next (from MySQL's documentation)", new[] { "SUPER" });

    public static readonly PrivilegeRequirement BinlogAdminMariaDb =
        new("BINLOG ADMIN", "Privilege.BinlogAdmin", true, "sets sql_log_bin and binlog_format: -NoBinlog, CREATE TABLE … SELECT replayed with its original GTID, restore records kept out of the binlog, LOAD DATA logged as rows where the binlog is not in ROW format", new[] { "SUPER" }, Optional: true);

    public static readonly PrivilegeRequirement BinlogAdminMySql =
        new("SYSTEM_VARIABLES_ADMIN", "Privilege.BinlogAdmin", true, "sets sql_log_bin, binlog_format and pseudo_thread_id (from MySQL's documentation)", new[] { "SUPER", "SESSION_VARIABLES_ADMIN" }, Optional: true);

    public static readonly PrivilegeRequirement BackupAdmin =
        new("BACKUP_ADMIN", "Privilege.BackupAdmin", true, "LOCK INSTANCE FOR BACKUP and performance_schema.log_status on MySQL 8");
}
