<#
.SYNOPSIS
    Takes the daily Redis RDB snapshot and checks it.
.DESCRIPTION
    Runs Backup-RedisSnapshot on the environment's redis section: the RDB is fetched over the
    replication protocol, checked while it streams (magic, version, every key, CRC-64) and stored
    encrypted on the primary store, then verified there with Test-BackupIntegrity -Deep. The snapshot is
    for diagnosis and forensics (Redis is rebuilt, not restored), kept 3 days by the retention policy.
    A failure stops the runbook with a non-zero exit code.
.PARAMETER Config
    The EcomDr configuration file.
.PARAMETER Environment
    The environment in the configuration.
.PARAMETER CredentialAsset
    In Azure Automation: the credential asset with the Redis ACL user and password, instead of the
    configuration's credential reference.
.EXAMPLE
    pwsh -NoProfile -NonInteractive -File ./Invoke-RedisSnapshot.ps1 -Config /etc/ecomdr/ecomdr.json
    Daily: the RDB snapshot, verified in the store.
#>
#requires -Version 7.4
[CmdletBinding(SupportsShouldProcess)]
param(
    [string] $Config,
    [string] $Environment,
    [string] $CredentialAsset
)
$ErrorActionPreference = 'Stop'
$manifest = Join-Path $PSScriptRoot '../EcomDr.psd1'
Import-Module $(if (Test-Path $manifest) { $manifest } else { 'EcomDr' })
$common = @{}
if ($Config) { $common.Config = $Config }
if ($Environment) { $common.Environment = $Environment }
$snapshot = @{}
if ($CredentialAsset) { $snapshot.Credential = Get-AutomationPSCredential -Name $CredentialAsset }

$backup = Backup-RedisSnapshot @common @snapshot -WhatIf:$WhatIfPreference
if (-not $backup) { Write-Output 'Redis: no snapshot taken (-WhatIf)'; return }
Write-Output ("Redis: snapshot {0}, {1} bytes stored, keys {2}, Redis {3}, checksum {4}" -f $backup.Id, $backup.Size, $backup.Manifest.Labels['keys'],
    $backup.Manifest.Labels['redis-ver'], $backup.Manifest.Source['checksum'])
$check = $backup | Test-BackupIntegrity @common -Deep
Write-Output "Verified: $($check.BackupId) $($check.Status)"
if ("$($check.Status)" -ne 'Passed') { throw "The snapshot $($backup.Id) did not verify in the store: $($check.Status)." }
