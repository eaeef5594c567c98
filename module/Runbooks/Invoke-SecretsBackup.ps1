<#
.SYNOPSIS
    Exports Vault's secrets when they changed, copies a new export offsite, and keeps the secondary
    vault in step.
.DESCRIPTION
    Runs Backup-VaultSecret on the environment's vault section: a new secrets backup only when the
    content changed since the newest one, so it can run every few minutes. With -CopyOffsite a new
    backup is copied to the offsite store and verified there; with -SyncSecondary the newest export is
    written into the configured secondary vault (Sync-VaultSecret), replacing what differs and leaving
    secrets only there alone. Values never touch the disk in plaintext and never appear in the output.
    A failure stops the runbook with a non-zero exit code.
.PARAMETER Config
    The EcomDr configuration file.
.PARAMETER Environment
    The environment in the configuration.
.PARAMETER AllVersions
    Export every readable version, not only the current one (Restore-VaultSecret -Version needs it).
.PARAMETER CopyOffsite
    Copy a new backup to the offsite store and verify it there.
.PARAMETER SyncSecondary
    Write the newest export into the secondary vault (vault.secondary).
.EXAMPLE
    pwsh -NoProfile -NonInteractive -File ./Invoke-SecretsBackup.ps1 -Config /etc/ecomdr/ecomdr.json -CopyOffsite -SyncSecondary
    Every 5 minutes: a backup only on change, offsite, and the secondary vault kept warm.
#>
#requires -Version 7.4
[CmdletBinding(SupportsShouldProcess)]
param(
    [string] $Config,
    [string] $Environment,
    [switch] $AllVersions,
    [switch] $CopyOffsite,
    [switch] $SyncSecondary
)
$ErrorActionPreference = 'Stop'
$manifest = Join-Path $PSScriptRoot '../EcomDr.psd1'
Import-Module $(if (Test-Path $manifest) { $manifest } else { 'EcomDr' })
$common = @{}
if ($Config) { $common.Config = $Config }
if ($Environment) { $common.Environment = $Environment }

$result = Backup-VaultSecret @common -AllVersions:$AllVersions -WhatIf:$WhatIfPreference
if (-not $result) { Write-Output 'Secrets: nothing exported (-WhatIf)'; return }
if ($result.Skipped) {
    Write-Output "Secrets: unchanged since backup $($result.Backup.Id); nothing written"
}
else {
    Write-Output ("Secrets: backup {0}, {1} secret(s), {2} version(s), {3} value(s)" -f $result.Backup.Id, $result.Summary.Secrets, $result.Summary.Versions, $result.Summary.ValuesExported)
    if ($CopyOffsite) {
        $copy = $result.Backup | Copy-DrBackup @common -Destination offsite | Test-BackupIntegrity @common -Store offsite -Deep
        Write-Output "Offsite: $($copy.BackupId) $($copy.Status)"
    }
}

if ($SyncSecondary) {
    $changes = @(Sync-VaultSecret @common -Force -WhatIf:$WhatIfPreference)
    $written = @($changes | Where-Object Applied)
    Write-Output ("Secondary vault: {0} written, {1} unchanged, {2} only there (left alone)" -f $written.Count, @($changes | Where-Object Change -eq 'Unchanged').Count,
        @($changes | Where-Object Change -eq 'OnlyInTarget').Count)
}
