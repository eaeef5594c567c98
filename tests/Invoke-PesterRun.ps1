<#
.SYNOPSIS
    Runs the Pester suite against the packaged module and writes the counts as JSON for build.ps1.
#>
#requires -Version 7.4
[CmdletBinding()]
param(
    [Parameter(Mandatory)] [string] $ModuleManifest,
    [Parameter(Mandatory)] [string] $PesterManifest,
    [Parameter(Mandatory)] [string] $TestKitFolder,
    [Parameter(Mandatory)] [string] $PackagesFolder,
    [Parameter(Mandatory)] [string] $ResultPath
)
$ErrorActionPreference = 'Stop'
# The tests read these; they run in this process and in child pwsh processes they start.
$env:ECOMDR_MODULE_MANIFEST = $ModuleManifest
$env:ECOMDR_TESTKIT_FOLDER = $TestKitFolder
$env:ECOMDR_NUGET_PACKAGES = $PackagesFolder

Import-Module $PesterManifest -Force
$config = New-PesterConfiguration
$config.Run.Path = @((Join-Path $PSScriptRoot 'Pester'), (Join-Path $PSScriptRoot 'drills'))
$config.Run.PassThru = $true
$config.Output.Verbosity = 'Detailed'
# No NUnit XML: nothing reads it, and Pester's writer throws on a control character (a colour code in a
# failure message), which lost the counts of a run with failures.
$config.TestResult.Enabled = $false
try {
    $result = Invoke-Pester -Configuration $config
}
catch {
    # Whatever broke Pester itself, the run counts as failed.
    [pscustomobject]@{ Passed = 0; Failed = 1; Skipped = 0; Error = "$_" } | ConvertTo-Json | Set-Content $ResultPath
    Write-Host "Pester failed: $_"
    exit 1
}

[pscustomobject]@{
    Passed  = $result.PassedCount
    Failed  = $result.FailedCount + $result.FailedBlocksCount + $result.FailedContainersCount
    Skipped = $result.SkippedCount + $result.NotRunCount
} | ConvertTo-Json | Set-Content $ResultPath
exit $(if ($result.Result -eq 'Passed') { 0 } else { 1 })
