using System.Management.Automation;
using EcomDr.Engine.Errors;

namespace EcomDr.Common;

/// <summary>
/// Base of every EcomDr cmdlet: runs engine work with a token that Ctrl+C (StopProcessing)
/// cancels, and turns engine errors into terminating ErrorRecords.
/// </summary>
public abstract class EcomDrCmdlet : PSCmdlet
{
    private readonly CancellationTokenSource _stopping = new();

    protected CancellationToken CancelToken => _stopping.Token;

    protected override void StopProcessing() => _stopping.Cancel();

    /// <summary>Runs synchronous engine work, turning its errors into ErrorRecords.</summary>
    protected T Run<T>(Func<T> work) => Run(_ => Task.FromResult(work()));

    /// <summary>
    /// Runs engine work to completion on the pipeline thread. The work must not call Write* from its
    /// continuations (they run on pool threads); it returns results for the cmdlet to write.
    /// </summary>
    protected T Run<T>(Func<CancellationToken, Task<T>> work)
    {
        try
        {
            return work(CancelToken).GetAwaiter().GetResult();
        }
        catch (EcomDrException ex)
        {
            ThrowTerminatingError(ErrorRecords.From(ex));
            throw; // unreachable: ThrowTerminatingError always throws
        }
        catch (OperationCanceledException) when (CancelToken.IsCancellationRequested)
        {
            throw new PipelineStoppedException();
        }
    }
}
