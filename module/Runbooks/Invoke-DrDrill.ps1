<#
.SYNOPSIS
    A DR drill: Start-DrDrill into a sandbox (or a scratch server), the report written and stored;
    exit code non-zero when the drill fails. Invoke-MonthlyPitrDrill.ps1 and
    Invoke-QuarterlyDisasterDrill.ps1 run it with their kind.
.PARAMETER Kind
    Pitr (monthly, from the primary store) or TotalDisaster (quarterly, from the offsite store only).
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
    pwsh -NoProfile -NonInteractive -File ./Invoke-DrDrill.ps1 -Kind TotalDisaster -Config /etc/ecomdr/ecomdr.json -ReportFolder /var/lib/ecomdr/drills
#>
#requires -Version 7.4
[CmdletBinding(SupportsShouldProcess)]
param(
    [Parameter(Mandatory)] [ValidateSet('Pitr', 'TotalDisaster')] [string] $Kind,
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
$manifest = Join-Path $PSScriptRoot '../EcomDr.psd1'
Import-Module $(if (Test-Path $manifest) { $manifest } else { 'EcomDr' })
$common = @{}
if ($Config) { $common.Config = $Config }
if ($Environment) { $common.Environment = $Environment }
if ($TargetServer) {
    if ($TargetCredentialAsset) { $TargetCredential = Get-AutomationPSCredential -Name $TargetCredentialAsset }
    if ($TargetUser -and $TargetPasswordEnv) {
        $TargetCredential = [pscredential]::new($TargetUser, (ConvertTo-SecureString ([Environment]::GetEnvironmentVariable($TargetPasswordEnv) ?? '') -AsPlainText -Force))
    }
    $common += @{ TargetServer = $TargetServer; TargetPort = $TargetPort; TargetCredential = $TargetCredential }
}
else { $common.Sandbox = $true }

$report = Start-DrDrill $Kind @common -WhatIf:$WhatIfPreference
if (-not $report) { return }
New-Item -ItemType Directory $ReportFolder -Force | Out-Null
$file = $report | Export-DrDrillReport (Join-Path $ReportFolder "$($report.Id).md")
$null = $report | Export-DrDrillReport (Join-Path $ReportFolder "$($report.Id).html") -Format Html
Write-Output "$Kind drill $($report.Verdict): RTO $($report.RtoSeconds) s (objective $($report.RtoObjectiveSeconds) s), RPO $($report.RpoSeconds) s (objective $($report.RpoObjectiveSeconds) s); report $($file.FullName)"
if (-not $report.Passed) { throw "The $Kind drill failed: $(($report.Failures | ForEach-Object { "$($_.Name): $($_.Evidence)" }) -join '; ')" }
