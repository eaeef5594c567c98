<#
.SYNOPSIS
    Section 4.4 of the plan: the infrastructure configs restored, the redeploy commands with the versioned images, and Grafana loaded.
.DESCRIPTION
    1. Restore-DrFile -Set <set> (default infra): the newest backup of the set into -Destination, every
       file checked against its SHA-256 in the signed manifest (existing files are refused unless -Force).
    2. The redeploy: for each compose file restored (docker-compose*.yml, compose*.yaml), the images it
       names and the docker compose commands that pull them and start the services without building,
       with the revision the backup recorded (its gitTag and gitCommit labels). They are printed, not run:
       the operator runs them on the application nodes (docs/runbooks.md).
    3. Grafana: Restore-GrafanaConfig from the newest grafana backup (Export-GrafanaConfig) into the
       configured Grafana or -GrafanaUrl, unless -SkipGrafana.
    Any failure stops the runbook with a non-zero exit code; -WhatIf changes nothing.
.PARAMETER Config
    The EcomDr configuration file.
.PARAMETER Environment
    The environment in the configuration.
.PARAMETER Set
    The file set to restore. Default: infra.
.PARAMETER Destination
    The folder the set is restored into.
.PARAMETER Force
    Replace files that exist in the destination.
.PARAMETER GrafanaUrl
    The Grafana to load, instead of the configuration's grafana.url.
.PARAMETER TokenEnv
    The environment variable holding the Grafana token. Default: grafana.tokenEnv, else GRAFANA_TOKEN.
.PARAMETER SkipGrafana
    Do not load Grafana.
.EXAMPLE
    pwsh -NoProfile -NonInteractive -File ./Restore-InfraConfig.ps1 -Config /etc/ecomdr/ecomdr.json -Destination /srv/restore
#>
#requires -Version 7.4
[CmdletBinding(SupportsShouldProcess)]
param(
    [string] $Config,
    [string] $Environment,
    [string] $Set = 'infra',
    [Parameter(Mandatory)] [string] $Destination,
    [switch] $Force,
    [string] $GrafanaUrl,
    [string] $TokenEnv,
    [switch] $SkipGrafana
)
$ErrorActionPreference = 'Stop'
$manifest = Join-Path $PSScriptRoot '../EcomDr.psd1'
Import-Module $(if (Test-Path $manifest) { $manifest } else { 'EcomDr' })
$common = @{}
if ($Config) { $common.Config = $Config }
if ($Environment) { $common.Environment = $Environment }

Write-Output "Step 1/3: restore the '$Set' file set into $Destination"
$restored = @(Restore-DrFile -Set $Set -Destination $Destination @common -Force:$Force -WhatIf:$WhatIfPreference -Confirm:$false)
$backup = Get-DrFileSet $Set @common | ForEach-Object { Get-DrBackup $_.Kind @common | Where-Object { "$($_.Manifest.Source['set'])" -eq $Set } | Sort-Object Created | Select-Object -Last 1 }
Write-Output ("  {0} entr(ies) from backup {1} (revision {2}, commit {3})" -f $restored.Count, $backup.Id,
    $(if ($backup.Manifest.Labels['gitTag']) { $backup.Manifest.Labels['gitTag'] } else { 'not recorded' }),
    $(if ($backup.Manifest.Labels['gitCommit']) { $backup.Manifest.Labels['gitCommit'] } else { 'not recorded' }))

Write-Output 'Step 2/3: redeploy with the versioned images (run these on the application nodes)'
$composeFiles = if (Test-Path $Destination) {
    @(Get-ChildItem $Destination -Recurse -File | Where-Object { $_.Name -match '^(docker-)?compose.*\.ya?ml$' } | Sort-Object FullName)
} else { @() }
if ($composeFiles.Count -eq 0) { Write-Output '  no compose file in the restored set' }
foreach ($file in $composeFiles) {
    $images = @(Select-String -Path $file.FullName -Pattern '^\s*image:\s*["'']?([^"''\s#]+)' | ForEach-Object { $_.Matches[0].Groups[1].Value })
    Write-Output "  $($file.FullName): $($images -join ', ')"
    $tag = $backup.Manifest.Labels['gitTag']
    $prefix = if ($tag -and ((Get-Content $file.FullName -Raw) -match '\$\{?TAG')) { "TAG=$tag " } else { '' }
    Write-Output "    cd '$($file.DirectoryName)'"
    Write-Output "    ${prefix}docker compose -f '$($file.Name)' pull"
    Write-Output "    ${prefix}docker compose -f '$($file.Name)' up -d --no-build --remove-orphans"
}

if ($SkipGrafana) { Write-Output 'Step 3/3: Grafana skipped'; return }
Write-Output 'Step 3/3: load Grafana from the newest grafana backup'
$grafana = @{}
if ($GrafanaUrl) { $grafana.GrafanaUrl = $GrafanaUrl }
if ($TokenEnv) { $grafana.TokenEnv = $TokenEnv }
$changes = @(Restore-GrafanaConfig @common @grafana -WhatIf:$WhatIfPreference -Confirm:$false)
foreach ($group in $changes | Group-Object Kind, Action) { Write-Output "  $($group.Group[0].Kind) $($group.Group[0].Action): $($group.Count)" }
Write-Output 'Done: configs restored, redeploy commands above, Grafana loaded'
