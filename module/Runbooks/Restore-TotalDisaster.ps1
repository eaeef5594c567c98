<#
.SYNOPSIS
    Recovery onto a new node after losing the server or the site: the full backup and every shipped
    binlog segment from the offsite store, restored onto a given endpoint, validated; then how to point
    the API and workers at it.
.DESCRIPTION
    Restore-MySqlPitr -ToLatest from -Store (default offsite) onto -TargetServer (the restored server's
    GTID state equals the source's at the last shipped transaction), Test-MySqlRestore on every restored
    schema (the restore finished; the Alembic revision with -AlembicHead or -MigrationsPath), and the
    achieved RPO (the time since the last restored commit). A failure ends the runbook with a non-zero
    exit code; the target's restore record then says how far it got. Run it again from the beginning
    with -Force to replace a partial restore. -WhatIf shows the plan and changes nothing.
.PARAMETER Config
    The EcomDr configuration file (its offsite store and key).
.PARAMETER Environment
    The environment in the configuration.
.PARAMETER Store
    The store to restore from. Default: offsite.
.PARAMETER TargetServer
    The new node.
.PARAMETER TargetPort
    Its port. Default: 3306.
.PARAMETER TargetSslMode
    TLS towards it. Default: Preferred.
.PARAMETER TargetCredential
    The credential for the new node.
.PARAMETER TargetCredentialAsset
    The Azure Automation credential asset holding it.
.PARAMETER TargetUser
    With -TargetPasswordEnv: the user for the new node (a scheduled task or cron job cannot pass a credential object).
.PARAMETER TargetPasswordEnv
    The environment variable holding that user's password.
.PARAMETER AlembicHead
    The Alembic revision alembic_version must hold.
.PARAMETER MigrationsPath
    The Alembic migrations folder whose head alembic_version must hold.
.PARAMETER Force
    Replace what an interrupted earlier run restored.
.EXAMPLE
    pwsh -NoProfile -NonInteractive -File ./Restore-TotalDisaster.ps1 -Config ./ecomdr.json -TargetServer db-new.internal -TargetCredentialAsset ecomdr-dba
#>
#requires -Version 7.4
[CmdletBinding(SupportsShouldProcess, ConfirmImpact = 'High')]
param(
    [string] $Config,
    [string] $Environment,
    [string] $Store = 'offsite',
    [Parameter(Mandatory)] [string] $TargetServer,
    [int] $TargetPort = 3306,
    [ValidateSet('None', 'Preferred', 'Required', 'VerifyCA', 'VerifyFull')] [string] $TargetSslMode = 'Preferred',
    [pscredential] $TargetCredential,
    [string] $TargetCredentialAsset,
    [string] $TargetUser,
    [string] $TargetPasswordEnv,
    [string] $AlembicHead,
    [string] $MigrationsPath,
    [switch] $Force
)
$ErrorActionPreference = 'Stop'
$manifest = Join-Path $PSScriptRoot '../EcomDr.psd1'
Import-Module $(if (Test-Path $manifest) { $manifest } else { 'EcomDr' })
$repo = @{ Store = $Store }
if ($Config) { $repo.Config = $Config }
if ($Environment) { $repo.Environment = $Environment }
if ($TargetCredentialAsset) { $TargetCredential = Get-AutomationPSCredential -Name $TargetCredentialAsset }
if ($TargetUser -and $TargetPasswordEnv) {
    $secret = [Environment]::GetEnvironmentVariable($TargetPasswordEnv)
    if ($null -eq $secret) { throw "The environment variable $TargetPasswordEnv is not set." }
    $TargetCredential = [pscredential]::new($TargetUser, (ConvertTo-SecureString $secret -AsPlainText -Force))
}
if (-not $TargetCredential) { throw 'Give -TargetCredential, -TargetCredentialAsset, or -TargetUser with -TargetPasswordEnv for the new node.' }

Write-Output "Step 1/3: restore everything shipped from '$Store' onto ${TargetServer}:$TargetPort"
$pitr = Restore-MySqlPitr -ToLatest @repo -TargetServer $TargetServer -TargetPort $TargetPort -TargetSslMode $TargetSslMode -TargetCredential $TargetCredential `
    -Force:$Force -WhatIf:$WhatIfPreference -Confirm:$false
if (-not $pitr) { return }
$rpo = if ($pitr.LastCommitTime) { [Math]::Round(([DateTimeOffset]::UtcNow - $pitr.LastCommitTime).TotalSeconds, 0) } else { $null }
Write-Output "Restored backup $($pitr.BackupId) and $($pitr.Transactions) transaction(s) to $($pitr.LastPosition) ($($pitr.LastGtid)); last commit $($pitr.LastCommitTime), $rpo s ago"

Write-Output 'Step 2/3: validation'
$validation = @{ Server = $TargetServer; Port = $TargetPort; SslMode = $TargetSslMode; Credential = $TargetCredential }
if ($Config) { $validation.Config = $Config }
if ($Environment) { $validation.Environment = $Environment }
if ($AlembicHead) { $validation.AlembicHead = $AlembicHead }
if ($MigrationsPath) { $validation.MigrationsPath = $MigrationsPath }
foreach ($schema in $pitr.Schemas.Values) {
    $report = Test-MySqlRestore $schema @validation
    $report.Checks | ForEach-Object { Write-Output "  $(if ($_.Passed) { 'PASS' } else { 'FAIL' }) $schema $($_.Name): $($_.Evidence)" }
    if (-not $report.Passed) { throw "Validation of $schema on $TargetServer failed: do not point the application at it." }
}

Write-Output 'Step 3/3: point the API and the workers at the new node'
Write-Output "  database host ${TargetServer}:$TargetPort, schema(s) $(($pitr.Schemas.Values) -join ', '), TLS $TargetSslMode"
Write-Output '  1. Set the database host in the API and worker configuration (for example DATABASE_URL=mysql+pymysql://<app user>@<host>:<port>/<schema>),'
Write-Output '     and in the secret store if it is kept there (Vault: the same path the API reads).'
Write-Output '  2. Restart the API and the workers, check /healthz, then re-enable the schedules: Invoke-DailyFullBackup (a new full backup'
Write-Output '     of the new node starts a new binlog chain) and Invoke-BinlogShipping -Config <config pointing at the new node>.'
