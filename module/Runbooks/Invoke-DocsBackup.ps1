<#
.SYNOPSIS
    The daily file backup of the docs and ADRs, and the Alembic migration scripts: every configured file set of kind docs, migrations.
.DESCRIPTION
    Runs Invoke-FileSetBackup.ps1 -Kind docs, migrations (beside it, or in the installed module's Runbooks folder,
    as in Azure Automation where runbooks are imported one by one): each set backed up (refused when a
    file holds a secret, skipped when nothing changed), verified, and copied to the stores it lists.
.PARAMETER Config
    The EcomDr configuration file.
.PARAMETER Environment
    The environment in the configuration.
.PARAMETER Set
    Only these sets, instead of every set of kind docs, migrations.
.PARAMETER Force
    Write a backup even when nothing changed.
.EXAMPLE
    pwsh -NoProfile -NonInteractive -File ./Invoke-DocsBackup.ps1 -Config /etc/ecomdr/ecomdr.json
#>
#requires -Version 7.4
[CmdletBinding(SupportsShouldProcess)]
param(
    [string] $Config,
    [string] $Environment,
    [string[]] $Set,
    [switch] $Force
)
$ErrorActionPreference = 'Stop'
$runbook = Join-Path $PSScriptRoot 'Invoke-FileSetBackup.ps1'
if (-not (Test-Path $runbook)) {
    $runbook = Join-Path (Get-Module EcomDr -ListAvailable | Sort-Object Version -Descending | Select-Object -First 1).ModuleBase 'Runbooks/Invoke-FileSetBackup.ps1'
}
& $runbook -Kind 'docs', 'migrations' @PSBoundParameters
