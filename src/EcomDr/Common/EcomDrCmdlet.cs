using System.Management.Automation;
using EcomDr.Engine.Errors;

namespace EcomDr.Common;

/// <summary>
/// Base of every EcomDr cmdlet: runs engine work with a token that Ctrl+C (StopProcessing)
/// cancels, and turns engine errors into ErrorRecords (terminating for the command as a whole,
/// non-terminating for one item among many).
/// </summary>
public abstract class EcomDrCmdlet : PSCmdlet
{
    private readonly CancellationTokenSource _stopping = new();

    protected CancellationToken CancelToken => _stopping.Token;

    protected override void StopProcessing() => _stopping.Cancel();

    /// <summary>Runs synchronous engine work, turning its errors into a terminating ErrorRecord.</summary>
    protected T Run<T>(Func<T> work) => Run(_ => Task.FromResult(work()));

    /// <summary>
    /// Runs engine work to completion on the pipeline thread, calling <paramref name="onTick"/> there
    /// about four times a second (throttled progress; engine threads must not call Write*).
    /// </summary>
    protected T Run<T>(Func<CancellationToken, Task<T>> work, Action? onTick = null)
    {
        try
        {
            return Wait(work(CancelToken), onTick);
        }
        catch (OperationCanceledException) when (CancelToken.IsCancellationRequested)
        {
            throw new PipelineStoppedException();
        }
        catch (Exception ex) when (ex is not PipelineStoppedException && EngineErrors.Translate(ex) is { } error)
        {
            // Driver and runtime failures get an EcomDr id too: one error catalogue for every cmdlet.
            ThrowTerminatingError(ErrorRecords.From(error));
            throw; // unreachable: ThrowTerminatingError always throws
        }
    }

    /// <summary>
    /// Runs one item's work; an engine error becomes a non-terminating error so the other items go
    /// on. Returns false when the item failed.
    /// </summary>
    protected bool TryRun<T>(Func<CancellationToken, Task<T>> work, out T? result, Action? onTick = null)
    {
        try
        {
            result = Wait(work(CancelToken), onTick);
            return true;
        }
        catch (OperationCanceledException) when (CancelToken.IsCancellationRequested)
        {
            throw new PipelineStoppedException();
        }
        catch (Exception ex) when (ex is not PipelineStoppedException && EngineErrors.Translate(ex) is { } error)
        {
            WriteError(ErrorRecords.From(error));
            result = default;
            return false;
        }
    }

    /// <summary>
    /// The one way a cmdlet reports a failure of its own (bad input found before the engine runs):
    /// a terminating ErrorRecord with an id from the catalogue (ErrorIds), like every engine error.
    /// </summary>
    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    protected void Fail(string errorId, FailureKind kind, string message, object? target, Exception? inner = null)
    {
        ThrowTerminatingError(ErrorRecords.From(new EcomDrException(errorId, kind, message, target, inner)));
        throw new PipelineStoppedException(); // unreachable: ThrowTerminatingError always throws
    }

    /// <summary>The non-terminating form of <see cref="Fail"/>, for one item among many.</summary>
    protected void WriteFailure(string errorId, FailureKind kind, string message, object? target) =>
        WriteError(ErrorRecords.From(new EcomDrException(errorId, kind, message, target)));

    /// <summary>Closes a progress bar opened with WriteProgress.</summary>
    protected void CompleteProgress(int activityId, string activity) =>
        WriteProgress(new ProgressRecord(activityId, activity, "done") { RecordType = ProgressRecordType.Completed });

    /// <summary>True when -WhatIf is in force (explicitly or through $WhatIfPreference).</summary>
    protected bool IsWhatIf =>
        (MyInvocation.BoundParameters.TryGetValue("WhatIf", out var value) && ((SwitchParameter)value).IsPresent) ||
        (GetVariableValue("WhatIfPreference") is bool preference && preference) ||
        (GetVariableValue("WhatIfPreference") is SwitchParameter switchPreference && switchPreference.IsPresent);

    /// <summary>ShouldProcess that -Force answers without a prompt, except under -WhatIf.</summary>
    protected bool ShouldProcessUnlessForced(bool force, string target, string action) =>
        force && !IsWhatIf ? true : ShouldProcess(target, action);

    private static T Wait<T>(Task<T> task, Action? onTick)
    {
        while (onTick is not null && !task.IsCompleted)
        {
            Task.WhenAny(task, Task.Delay(250)).GetAwaiter().GetResult();
            if (!task.IsCompleted)
            {
                onTick();
            }
        }

        return task.GetAwaiter().GetResult();
    }
}
