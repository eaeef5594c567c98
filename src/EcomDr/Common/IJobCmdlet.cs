namespace EcomDr.Common;

/// <summary>
/// A cmdlet that runs a job (backup, shipping, copy, integrity test, drill): it takes -PushgatewayUrl,
/// which RepositoryCmdlet.RunJob and Record use before ECOMDR_PUSHGATEWAY_URL and the configuration.
/// </summary>
internal interface IJobCmdlet
{
    string? PushgatewayUrl { get; }
}
