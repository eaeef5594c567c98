namespace EcomDr.Engine.Sources.MySql.Prerequisites;

public enum CheckStatus
{
    Pass,
    Warn,
    Fail,
}
