namespace EcomDr.Engine.Sources.MySql.Shared;

public enum ServerFlavor
{
    MySql,
    MariaDb,
}
