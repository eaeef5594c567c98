namespace EcomDr.Engine.Prerequisites;

public enum CheckStatus
{
    Pass,
    Warn,
    Fail,
}
