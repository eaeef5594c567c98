<#
.SYNOPSIS
    Benchmarks retention planning over a big catalog: -Fulls full backups and -Segments binlog
    segments (signed, sealed manifests over a simulated year), in a file-system store and in s3rver,
    then the time to plan (list, read, verify and open every manifest, decide) and the peak memory.
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

$fs = Invoke-Bench @('retention', (Join-Path $WorkDir 'repo'), $key, "$Fulls", "$Segments")
$rows += "| file system | $($fs.backups) | $('{0:0.0}' -f $fs.seedSeconds) | $('{0:0.00}' -f $fs.planSeconds) | $('{0:0}' -f $fs.peakWorkingSetMB) MB |"

$s3 = Wait-Task ([EcomDr.TestKit.Servers.S3rverServer]::StartAsync([string[]]@('bench')))
try {
    $r = Invoke-Bench @('retention', "s3://bench/catalog@$($s3.Endpoint)", $key, "$S3Fulls", "$S3Segments")
    $rows += "| s3rver (local, HTTP) | $($r.backups) | $('{0:0.0}' -f $r.seedSeconds) | $('{0:0.00}' -f $r.planSeconds) | $('{0:0}' -f $r.peakWorkingSetMB) MB |"
}
finally { Wait-Task ($s3.DisposeAsync().AsTask()) }

$section = @"
<!-- retention:begin -->
## Retention planning

``dotnet pwsh ./bench/retention.ps1 -Fulls $Fulls -Segments $Segments -S3Fulls $S3Fulls -S3Segments $S3Segments`` on $(Get-BenchMachine).

A catalog of daily-spread full backups and contiguous binlog segments (sealed, signed manifests, no
artifacts), then ``RetentionPlanner.PlanAsync`` with the plan's defaults: list the store, read,
verify and open every manifest (16 at a time), decide. Goal: under 10 s and 200 MB for 10,000 full
backups and 100,000 segments. Peak memory is the whole process's working set, seeding included.

| store | backups | seed (s) | plan (s) | peak memory |
|---|---|---|---|---|
$($rows -join "`n")
<!-- retention:end -->
"@
Write-BenchSection 'retention' $section
