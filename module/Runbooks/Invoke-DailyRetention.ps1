<#
.SYNOPSIS
    Applies the retention policy to every store of the environment, then purges the server's binlogs
    that every store holds whole.
.DESCRIPTION
    Runs Invoke-DrRetention on each store (primary and offsite by default), each by its own policy
    from its own catalog: a backup missing offsite never makes it delete the primary copy. Backups a
    restore or drill is reading are kept until the next run. With -PurgeServerBinlogs it then runs
    Invoke-BinlogPurge, which purges only binlog files shipped whole to every store and past
    schedules.binlogExpiryMarginHours. Schedule it daily, after the offsite copy. A failure stops the
    runbook with a non-zero exit code; an interrupted run leaves only incomplete backups, which the
    next run removes.
.PARAMETER Config
    The EcomDr configuration file.
.PARAMETER Environment
    The environment in the configuration.
.PARAMETER Store
    The stores to expire, and that the binlog purge requires. Default: primary, and offsite when the
    environment has one.
.PARAMETER PurgeServerBinlogs
    Also purge the source server's binlogs that every store holds whole (Invoke-BinlogPurge).
.EXAMPLE
    pwsh -NoProfile -NonInteractive -File ./Invoke-DailyRetention.ps1 -Config /etc/ecomdr/ecomdr.json -PurgeServerBinlogs
    The nightly clean-up: both stores, then the server's binlogs.
#>
#requires -Version 7.4
[CmdletBinding(SupportsShouldProcess)]
param(
    [string] $Config,
    [string] $Environment,
    [string[]] $Store,
    [switch] $PurgeServerBinlogs
)
$ErrorActionPreference = 'Stop'
$manifest = Join-Path $PSScriptRoot '../EcomDr.psd1'
Import-Module $(if (Test-Path $manifest) { $manifest } else { 'EcomDr' })
$common = @{}
if ($Config) { $common.Config = $Config }
if ($Environment) { $common.Environment = $Environment }

# Without -Store: primary, and offsite when the environment has one.
$stores = if ($Store) { $Store } else { @('primary', 'offsite') }
$done = @()
foreach ($name in $stores) {
    try {
        $summary = Invoke-DrRetention @common -Store $name -Force -WhatIf:$WhatIfPreference | Where-Object { $_.GetType().Name -eq 'RetentionSummary' }
    }
    catch {
        if (-not $Store -and $name -eq 'offsite' -and $_.FullyQualifiedErrorId -like 'EcomDr.StoreNotConfigured,*') { Write-Output 'offsite: not configured'; continue }
        throw
    }
    $done += $name
    Write-Output ("{0}: {1} kept, {2} expired, {3} removed, {4:N0} bytes freed{5}" -f $name, $summary.Kept, $summary.Expired, $summary.Removed, $summary.BytesFreed,
        $(if ($summary.WhatIf) { ' (-WhatIf)' }))
}

if ($PurgeServerBinlogs) {
    $files = @(Invoke-BinlogPurge @common -RequireStore $done -Force -WhatIf:$WhatIfPreference)
    $purged = @($files | Where-Object Purge)
    Write-Output "Server binlogs: $($purged.Count) of $($files.Count) file(s) purgeable$(if ($WhatIfPreference) { ' (-WhatIf)' } else { ', purged' })$(if ($purged) { ", up to $($purged[-1].File)" })"
}
