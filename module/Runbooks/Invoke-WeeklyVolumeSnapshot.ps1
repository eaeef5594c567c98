<#
.SYNOPSIS
    The weekly volume snapshot of the MySQL node: consistent, with exact coordinates, recorded in both stores.
.DESCRIPTION
    Runs Invoke-MySqlVolumeSnapshot with the provider configured in mysql.volumeSnapshot: commits are
    blocked while the provider takes the snapshot (never past maxFreezeSeconds), the binlog coordinates
    and GTID state are recorded, the provider copies the snapshot to its offsite region, and the signed
    mysql-snapshot backup is written. Then Copy-DrBackup puts that backup's record in the offsite store
    too, so a recovery (or the quarterly drill) that only has the offsite store can start from it.
    Retention keeps the snapshots 4 weeks and deletes the provider's snapshots with them.
    Any failure stops the runbook with a non-zero exit code; a failed or aborted snapshot leaves no
    complete backup, and commits are released either way.
.PARAMETER Config
    The EcomDr configuration file. Without it, the embedded defaults.
.PARAMETER Environment
    The environment in the configuration. Default: its defaultEnvironment.
.PARAMETER Offsite
    The store to copy the backup's record to. Default: offsite.
.PARAMETER SkipOffsite
    Do not copy the record offsite (an environment without an offsite store).
.PARAMETER CredentialAsset
    In Azure Automation: the credential asset with the MySQL user and password (RELOAD, and
    BACKUP_ADMIN on MySQL), instead of the configuration's credential reference.
.EXAMPLE
    pwsh -NoProfile -NonInteractive -File ./Invoke-WeeklyVolumeSnapshot.ps1 -Config /etc/ecomdr/ecomdr.json
    Weekly: the snapshot, its offsite copy by the provider, and the backup's record in both stores.
.EXAMPLE
    ./Invoke-WeeklyVolumeSnapshot.ps1 -Config ./ecomdr.json -WhatIf
    Shows what would be taken; nothing is frozen, taken or copied.
#>
#requires -Version 7.4
[CmdletBinding(SupportsShouldProcess)]
param(
    [string] $Config,
    [string] $Environment,
    [string] $Offsite = 'offsite',
    [switch] $SkipOffsite,
    [string] $CredentialAsset
)
$ErrorActionPreference = 'Stop'
# Each runbook stands alone (Azure Automation imports them one by one): the module from beside it, else by name.
$manifest = Join-Path $PSScriptRoot '../EcomDr.psd1'
Import-Module $(if (Test-Path $manifest) { $manifest } else { 'EcomDr' })
$common = @{}
if ($Config) { $common.Config = $Config }
if ($Environment) { $common.Environment = $Environment }
$source = @{}
if ($CredentialAsset) { $source.Credential = Get-AutomationPSCredential -Name $CredentialAsset }

Write-Output 'Step 1/2: volume snapshot'
$backup = Invoke-MySqlVolumeSnapshot @common @source -WhatIf:$WhatIfPreference -Confirm:$false
if (-not $backup) { Write-Output 'No snapshot taken (-WhatIf)'; return }
$record = $backup.Manifest.Source['snapshot']
Write-Output ("Snapshot {0} at {1}: {2} {3}{4}, commits blocked {5} s" -f $backup.Id, $backup.Coordinates, $record['provider'], (($record['ids'] | ForEach-Object { "$_" }) -join ', '),
    $(if (@($record['copies']).Count -gt 0) { ", offsite copy in $($record['copies'][0]['region'])" } else { ', no offsite copy' }), $backup.Manifest.Stats['freezeSeconds'])

if ($SkipOffsite) { Write-Output 'Step 2/2: offsite record skipped'; return }
if (-not $PSCmdlet.ShouldProcess("store '$Offsite'", "Step 2/2: copy the record of $($backup.Id)")) { return }
$null = Copy-DrBackup $backup.Id @common -Destination $Offsite -Confirm:$false
$copy = Test-BackupIntegrity $backup.Id @common -Store $Offsite
if ($copy.Status -ne 'Passed') { throw "The offsite record of $($backup.Id) failed its integrity test" }
Write-Output "Done: snapshot $($backup.Id) recorded in the primary store and in '$Offsite'"
