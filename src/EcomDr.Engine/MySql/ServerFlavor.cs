namespace EcomDr.Engine.MySql;

public enum ServerFlavor
{
    MySql,
    MariaDb,
}
