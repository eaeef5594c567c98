<#
.SYNOPSIS
    The weekly file backup of the infrastructure configs (Nginx, API and worker deployment files, Prometheus, Grafana provisioning): every configured file set of kind infra.
.DESCRIPTION
    Runs Invoke-FileSetBackup.ps1 -Kind infra (beside it, or in the installed module's Runbooks folder,
    as in Azure Automation where runbooks are imported one by one): each set backed up (refused when a
    file holds a secret, skipped when nothing changed), verified, and copied to the stores it lists.
.PARAMETER Config
    The EcomDr configuration file.
.PARAMETER Environment
    The environment in the configuration.
.PARAMETER Set
    Only these sets, instead of every set of kind infra.
.PARAMETER Force
    Write a backup even when nothing changed.
.EXAMPLE
    pwsh -NoProfile -NonInteractive -File ./Invoke-InfraBackup.ps1 -Config /etc/ecomdr/ecomdr.json
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
& $runbook -Kind 'infra' @PSBoundParameters
