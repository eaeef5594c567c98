<#
.SYNOPSIS
    The monthly PITR drill: full backup + binlog to a point some minutes back (drill.pitrOffsetMinutes),
    into a sandbox (or a scratch server), validated and probed; report written and stored; exit code
    non-zero when the drill fails.
.DESCRIPTION
    Runs Invoke-DrDrill.ps1 -Kind Pitr (beside it, or in the installed module's Runbooks folder, as in
    Azure Automation where runbooks are imported one by one).
.PARAMETER Config
    The EcomDr configuration file.
.PARAMETER Environment
    The environment in the configuration.
.PARAMETER TargetServer
    A scratch server to restore into instead of a sandbox on this machine.
.PARAMETER TargetPort
    Port of -TargetServer.
.PARAMETER TargetCredentialAsset
    The Azure Automation credential asset for -TargetServer (read with Get-AutomationPSCredential).
.PARAMETER TargetCredential
    The credential for -TargetServer (outside Azure Automation).
.PARAMETER TargetUser
    With -TargetPasswordEnv: the user for -TargetServer (a scheduled task cannot pass a credential object).
.PARAMETER TargetPasswordEnv
    The environment variable holding that user's password.
.PARAMETER ReportFolder
    Where the Markdown and HTML reports are written. Default: the current folder.
.EXAMPLE
    pwsh -NoProfile -NonInteractive -File ./Invoke-MonthlyPitrDrill.ps1 -Config /etc/ecomdr/ecomdr.json -ReportFolder /var/lib/ecomdr/drills
#>
#requires -Version 7.4
[CmdletBinding(SupportsShouldProcess)]
param(
    [string] $Config,
    [string] $Environment,
    [string] $TargetServer,
    [int] $TargetPort = 3306,
    [string] $TargetCredentialAsset,
    [pscredential] $TargetCredential,
    [string] $TargetUser,
    [string] $TargetPasswordEnv,
    [string] $ReportFolder = '.'
)
$ErrorActionPreference = 'Stop'
$drill = Join-Path $PSScriptRoot 'Invoke-DrDrill.ps1'
if (-not (Test-Path $drill)) {
    $drill = Join-Path (Get-Module EcomDr -ListAvailable | Sort-Object Version -Descending | Select-Object -First 1).ModuleBase 'Runbooks/Invoke-DrDrill.ps1'
}
& $drill -Kind Pitr @PSBoundParameters
