<#
.SYNOPSIS
    Ships the binlog: one pass (for a schedule every 15 minutes or less) or follow mode; optionally
    copies the new segments offsite.
.DESCRIPTION
    One pass runs Send-Binlog from the last shipped position to the server's current end and exits;
    schedule it at most every schedules.binlogShipIntervalMinutes (the RPO depends on it). -Follow
    stays connected and cuts a segment at the latest every -MaxLag seconds. -CopyOffsite copies every
    shipped segment not yet in the offsite store after the pass (the offsite store is what a total
    disaster restores from). A gap (a binlog purged before it was shipped) or a changed source stops
    the runbook with a non-zero exit code; nothing is skipped silently. Restarting is safe: the newest
    complete segment is the checkpoint.
.PARAMETER Config
    The EcomDr configuration file.
.PARAMETER Environment
    The environment in the configuration.
.PARAMETER Follow
    Stay connected and ship continuously (Ctrl+C or stopping the job stores the segment in flight).
.PARAMETER MaxLag
    In follow mode, the longest a shipped event waits before its segment is stored (seconds).
.PARAMETER CopyOffsite
    After the pass, copy the shipped segments the offsite store lacks.
.PARAMETER Offsite
    The store to copy to. Default: offsite.
.EXAMPLE
    pwsh -NoProfile -NonInteractive -File ./Invoke-BinlogShipping.ps1 -Config /etc/ecomdr/ecomdr.json -CopyOffsite
    One pass, then the offsite copy: what a schedule every 5 minutes runs.
#>
#requires -Version 7.4
[CmdletBinding(SupportsShouldProcess)]
param(
    [string] $Config,
    [string] $Environment,
    [switch] $Follow,
    [ValidateRange(1, 3600)] [int] $MaxLag = 30,
    [switch] $CopyOffsite,
    [string] $Offsite = 'offsite'
)
$ErrorActionPreference = 'Stop'
$manifest = Join-Path $PSScriptRoot '../EcomDr.psd1'
Import-Module $(if (Test-Path $manifest) { $manifest } else { 'EcomDr' })
$common = @{}
if ($Config) { $common.Config = $Config }
if ($Environment) { $common.Environment = $Environment }

$segments = @(Send-Binlog @common -Follow:$Follow -MaxLag $MaxLag -WhatIf:$WhatIfPreference)
Write-Output "Shipped $($segments.Count) segment(s)$(if ($segments) { ", up to $($segments[-1].File):$($segments[-1].EndOffset) ($($segments[-1].LastGtid))" })"
if (-not $CopyOffsite -or $WhatIfPreference) { return }

$there = @(Get-DrBackup mysql-binlog @common -Store $Offsite).Id
$missing = @(Get-DrBackup mysql-binlog @common | Where-Object Id -notin $there)
if ($missing -and $PSCmdlet.ShouldProcess("store '$Offsite'", "copy $($missing.Count) segment(s)")) {
    $null = $missing | Copy-DrBackup @common -Destination $Offsite -Confirm:$false
}
Write-Output "Offsite: $($missing.Count) segment(s) copied"
