namespace EcomDr.Engine.Prerequisites;

/// <summary>A privilege the backup user needs, why, and whether it must be global.</summary>
internal sealed record PrivilegeRequirement(string Privilege, string CheckName, bool GlobalOnly, string Why)
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

    public static readonly PrivilegeRequirement BackupAdmin =
        new("BACKUP_ADMIN", "Privilege.BackupAdmin", true, "LOCK INSTANCE FOR BACKUP and performance_schema.log_status on MySQL 8");
}
