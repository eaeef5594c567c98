<#
.SYNOPSIS
    The daily full backup: prerequisite check, consistent full backup, deep integrity test, offsite copy.
.DESCRIPTION
    Runs Test-DrPrerequisite (stops on any failing check), Invoke-MySqlFullBackup, Test-BackupIntegrity
    -Deep on the new backup, then Copy-DrBackup to the offsite store and the same deep test there.
    Any failure stops the runbook with a non-zero exit code (a scheduled task or cron job sees it; an
    Azure Automation job ends Failed). Restarted from the beginning it simply takes a new backup: a
    run killed half-way leaves only an incomplete backup, never listed as restorable.
    Credentials come from the configuration (an environment variable, an Azure Automation credential
    asset, or Vault); nothing is prompted for.
.PARAMETER Config
    The EcomDr configuration file. Without it, the embedded defaults.
.PARAMETER Environment
    The environment in the configuration. Default: its defaultEnvironment.
.PARAMETER Offsite
    The store to copy to. Default: offsite.
.PARAMETER SkipOffsite
    Do not copy offsite (an environment without an offsite store).
.EXAMPLE
    pwsh -NoProfile -NonInteractive -File ./Invoke-DailyFullBackup.ps1 -Config /etc/ecomdr/ecomdr.json
.EXAMPLE
    ./Invoke-DailyFullBackup.ps1 -Config ./ecomdr.json -WhatIf
    Shows each step; nothing is backed up or copied.
#>
#requires -Version 7.4
[CmdletBinding(SupportsShouldProcess)]
param(
    [string] $Config,
    [string] $Environment,
    [string] $Offsite = 'offsite',
    [switch] $SkipOffsite
)
$ErrorActionPreference = 'Stop'
# Each runbook stands alone (Azure Automation imports them one by one): the module from beside it, else by name.
$manifest = Join-Path $PSScriptRoot '../EcomDr.psd1'
Import-Module $(if (Test-Path $manifest) { $manifest } else { 'EcomDr' })
$common = @{}
if ($Config) { $common.Config = $Config }
if ($Environment) { $common.Environment = $Environment }

Write-Output "Step 1/4: prerequisites"
$failed = @(Test-DrPrerequisite @common | Where-Object Status -eq 'Fail')
if ($failed) { throw "Prerequisites failed: $(($failed | ForEach-Object { "$($_.Check): $($_.Observed)" }) -join '; ')" }

if (-not $PSCmdlet.ShouldProcess('the MySQL source', 'Step 2/4: full backup')) { return }
$backup = Invoke-MySqlFullBackup @common -Confirm:$false
Write-Output "Full backup $($backup.Id) at $($backup.Coordinates), $($backup.Size) bytes stored"

Write-Output "Step 3/4: deep integrity test of $($backup.Id)"
$check = Test-BackupIntegrity $backup.Id @common -Deep
if ($check.Status -ne 'Passed') { throw "Integrity test of $($backup.Id) failed: $($check.FailedCount) problem(s)" }

if ($SkipOffsite) { Write-Output 'Step 4/4: offsite copy skipped'; return }
if (-not $PSCmdlet.ShouldProcess("store '$Offsite'", "Step 4/4: copy $($backup.Id) offsite")) { return }
$null = Copy-DrBackup $backup.Id @common -Destination $Offsite -Confirm:$false
$copy = Test-BackupIntegrity $backup.Id @common -Store $Offsite -Deep
if ($copy.Status -ne 'Passed') { throw "The offsite copy of $($backup.Id) failed its integrity test" }
Write-Output "Done: $($backup.Id) backed up, verified, copied to '$Offsite' and verified there"
