namespace EcomDr.Engine.Pipeline.Repository;

/// <summary>The kinds of backup the plan names, one name each; other kinds are the caller's own (file sets).</summary>
public static class BackupKinds
{
    public const string MySqlFull = "mysql-full";
    public const string MySqlBinlog = "mysql-binlog";
    public const string MySqlSnapshot = "mysql-snapshot";
    public const string Redis = "redis";
    public const string Infra = "infra";
    public const string Docs = "docs";
    public const string Migrations = "migrations";
    public const string Secrets = "secrets";
    public const string DrillReport = "drill-report";

    public static IReadOnlyList<string> Known { get; } = [MySqlFull, MySqlBinlog, MySqlSnapshot, Redis, Infra, Docs, Migrations, Secrets, DrillReport];
}
