<#
.SYNOPSIS
    Benchmarks retention planning over a big catalog: -Fulls full backups and -Segments binlog
    segments (signed, sealed manifests over a simulated year), in a file-system store and in s3rver:
    the time to plan and the peak memory, cold (no catalog index: every manifest read, verified and
    opened) and warm (from the index the cold run left, as a retention run leaves it). Each phase runs
    in its own process, so its peak is its own.
    Writes the "Retention planning" section of docs/benchmarks.md. Needs: build.ps1 build.
.EXAMPLE
    dotnet pwsh ./bench/retention.ps1 -Fulls 10000 -Segments 100000 -S3Fulls 1000 -S3Segments 10000
#>
#requires -Version 7.4
param(
    [int] $Fulls = 10000,
    [int] $Segments = 100000,
    [int] $S3Fulls = 1000,
    [int] $S3Segments = 10000,
    [string] $WorkDir = (Join-Path ([IO.Path]::GetTempPath()) 'ecomdr-bench-retention')
)
$ErrorActionPreference = 'Stop'
. (Join-Path $PSScriptRoot 'BenchKit.ps1')
Initialize-BenchFolder $WorkDir
$key = Join-Path $WorkDir 'bench.key'
$rows = @()

# Seed, then plan cold (writing the index), then warm: one row per store.
function Measure-Planning([string] $Repo, [int] $F, [int] $S, [string] $Name) {
    $seed = Invoke-Bench @('retention', $Repo, $key, "$F", "$S", 'seed')
    $cold = Invoke-Bench @('retention', $Repo, $key, "$F", "$S", 'cold')
    $warm = Invoke-Bench @('retention', $Repo, $key, "$F", "$S", 'warm')
    if ($warm.expired -ne $cold.expired -or $warm.kept -ne $cold.kept) { throw "$Name`: the warm plan ($($warm.kept) kept) differs from the cold one ($($cold.kept) kept)" }
    "| $Name | $($cold.backups) | $('{0:0.0}' -f $seed.seconds) | $('{0:0.00}' -f $cold.seconds) | $('{0:0}' -f $cold.peakWorkingSetMB) MB | $('{0:0.00}' -f $warm.seconds) | $('{0:0}' -f $warm.peakWorkingSetMB) MB |"
}

$rows += Measure-Planning (Join-Path $WorkDir 'repo') $Fulls $Segments 'file system'
# The same warm plan with the GC's first generation held to 4 MB: what of the peak is the runtime's sizing, not the data.
$env:DOTNET_GCgen0size = '0x400000'
try { $small = Invoke-Bench @('retention', (Join-Path $WorkDir 'repo'), $key, "$Fulls", "$Segments", 'warm') }
finally { Remove-Item Env:DOTNET_GCgen0size }

$s3 = Wait-Task ([EcomDr.TestKit.Servers.S3rverServer]::StartAsync([string[]]@('bench')))
try {
    $rows += Measure-Planning "s3://bench/catalog@$($s3.Endpoint)" $S3Fulls $S3Segments 's3rver (local, HTTP)'
}
finally { Wait-Task ($s3.DisposeAsync().AsTask()) }

$section = @"
<!-- retention:begin -->
## Retention planning

``dotnet pwsh ./bench/retention.ps1 -Fulls $Fulls -Segments $Segments -S3Fulls $S3Fulls -S3Segments $S3Segments`` on $(Get-BenchMachine).

A catalog of daily-spread full backups and contiguous binlog segments (sealed, signed manifests, no
artifacts), then ``RetentionPlanner.PlanAsync`` with the plan's defaults. Cold: no catalog index, so
the store is listed and every manifest read, verified and opened (16 at a time). Warm: the store is
listed and the catalog index the cold run wrote (as every retention run does) stands for the
manifests listed unchanged. Goal: under 10 s and 200 MB for 10,000 full backups and 100,000 segments.
Peak memory is the working set of the process that plans (each phase runs in its own).

| store | backups | seed (s) | cold plan (s) | cold peak | warm plan (s) | warm peak |
|---|---|---|---|---|---|---|
$($rows -join "`n")

The warm file-system plan with ``DOTNET_GCgen0size=0x400000`` (the GC's first generation held to 4 MB):
$('{0:0.00}' -f $small.seconds) s, $('{0:0}' -f $small.peakWorkingSetMB) MB.
<!-- retention:end -->
"@
Write-BenchSection 'retention' $section
