<#
.SYNOPSIS
    Backs up the configured file sets of some kinds, verifies each new backup and copies it to the set's stores.
.DESCRIPTION
    What Invoke-InfraBackup.ps1 (weekly) and Invoke-DocsBackup.ps1 (daily) run. For each file set of the
    configuration whose kind is one of -Kind (or each set named by -Set): Backup-DrFile -Set (refused when
    a file holds a secret; nothing written when the files did not change since the last backup), then
    for a new backup Test-BackupIntegrity -Deep, Copy-DrBackup to each store the set lists, and the same
    test there. Any failure stops the runbook with a non-zero exit code.
.PARAMETER Kind
    The kinds whose sets are backed up (infra; docs, migrations).
.PARAMETER Set
    Only these sets (names from the configuration's files section).
.PARAMETER Config
    The EcomDr configuration file.
.PARAMETER Environment
    The environment in the configuration.
.PARAMETER Force
    Write a backup even when nothing changed.
.EXAMPLE
    pwsh -NoProfile -NonInteractive -File ./Invoke-FileSetBackup.ps1 -Kind infra -Config /etc/ecomdr/ecomdr.json
#>
#requires -Version 7.4
[CmdletBinding(SupportsShouldProcess)]
param(
    [string[]] $Kind,
    [string[]] $Set,
    [string] $Config,
    [string] $Environment,
    [switch] $Force
)
$ErrorActionPreference = 'Stop'
$manifest = Join-Path $PSScriptRoot '../EcomDr.psd1'
Import-Module $(if (Test-Path $manifest) { $manifest } else { 'EcomDr' })
$common = @{}
if ($Config) { $common.Config = $Config }
if ($Environment) { $common.Environment = $Environment }

$sets = @(Get-DrFileSet @common | Where-Object { ($Set -and $_.Name -in $Set) -or (-not $Set -and $_.Kind -in $Kind) })
if ($sets.Count -eq 0) { throw "No file set of kind $($Kind -join ', ')$(if ($Set) { " named $($Set -join ', ')" }) in the configuration (files section; Get-DrFileSet lists them)." }
foreach ($fileSet in $sets) {
    $backup = Backup-DrFile -Set $fileSet.Name @common -Force:$Force -WhatIf:$WhatIfPreference -InformationVariable said -InformationAction SilentlyContinue
    if (-not $backup) {
        Write-Output ("{0}: {1}" -f $fileSet.Name, $(if ($said) { "$($said[-1])" } else { 'nothing written (-WhatIf)' }))
        continue
    }

    $check = Test-BackupIntegrity $backup.Id @common -Deep
    if ($check.Status -ne 'Passed') { throw "Integrity test of $($backup.Id) ($($fileSet.Name)) failed: $($check.FailedCount) problem(s)" }
    Write-Output ("{0}: backup {1}, {2} file(s), verified" -f $fileSet.Name, $backup.Id, $backup.Manifest.Stats['files'])
    foreach ($store in $fileSet.Stores) {
        $null = Copy-DrBackup $backup.Id @common -Destination $store -Confirm:$false
        $copy = Test-BackupIntegrity $backup.Id @common -Store $store -Deep
        if ($copy.Status -ne 'Passed') { throw "The copy of $($backup.Id) in '$store' failed its integrity test" }
        Write-Output ("{0}: copied to '{1}' and verified there" -f $fileSet.Name, $store)
    }
}
