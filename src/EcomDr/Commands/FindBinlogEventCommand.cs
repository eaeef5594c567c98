using System.Management.Automation;
using EcomDr.Common;
using EcomDr.Engine.Sources.MySql.Pitr;

namespace EcomDr.Commands;

/// <summary>Searches the shipped binlog for changes: the mistaken DELETE to stop right before.</summary>
[Cmdlet(VerbsCommon.Find, "BinlogEvent")]
[OutputType(typeof(FoundBinlogEvent))]
public sealed class FindBinlogEventCommand : RepositoryCmdlet
{
    /// <summary>Schema name; * and ? wildcards.</summary>
    [Parameter]
    [SupportsWildcards]
    public string? Schema { get; set; }

    /// <summary>Table name; * and ? wildcards.</summary>
    [Parameter(Position = 0)]
    [SupportsWildcards]
    public string? Table { get; set; }

    /// <summary>Only these kinds of change.</summary>
    [Parameter]
    public BinlogOperation[]? Operation { get; set; }

    /// <summary>Only changes at or after this time.</summary>
    [Parameter]
    public DateTimeOffset? After { get; set; }

    /// <summary>Only changes at or before this time.</summary>
    [Parameter]
    public DateTimeOffset? Before { get; set; }

    /// <summary>Only row changes of at least this many rows (statements logged as text have no row count and are left out).</summary>
    [Parameter]
    [ValidateRange(1, long.MaxValue)]
    public long MinRows { get; set; }

    protected override void ProcessRecord()
    {
        using var repository = OpenRepository();
        var options = new BinlogSearchOptions(Schema, Table, Operation, After, Before, MinRows);
        var found = BinlogSearch.FindAsync(repository.Context, options, CancelToken).GetAsyncEnumerator(CancelToken);
        try
        {
            // Each match is written as it is found: the search streams through the whole archive.
            while (Run(_ => found.MoveNextAsync().AsTask()))
            {
                WriteObject(found.Current);
            }
        }
        finally
        {
            found.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
    }
}
