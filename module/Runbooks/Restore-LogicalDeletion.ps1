<#
.SYNOPSIS
    The logical-deletion procedure: maintenance on, point-in-time restore beside the live schema to
    right before the mistake, validation, swap, maintenance off.
.DESCRIPTION
    1. Maintenance mode on (-MaintenanceOn: a script block, an http(s) URL called with POST, or a
       command line).
    2. Restore-MySqlPitr into -RestoreSchema (default <schema>_restore) on the live server: to
       -TargetTime, right before -StopBeforeGtid, or right before the first change Find-BinlogEvent
       finds for -FindTable/-FindOperation (after -FindAfter).
    3. Test-MySqlRestore: the restore finished, the Alembic revision (-AlembicHead or -MigrationsPath),
       and with -ReferenceSchema tables, row counts and checksums. Any failed check stops here, before
       the swap: the live schema is untouched and maintenance mode stays on for a person to decide.
    4. Switch-MySqlSchema -From <restore schema> -To <schema>: one atomic RENAME TABLE; the live tables
       are kept aside and the swap-back command is printed.
    5. Maintenance mode off (-MaintenanceOff).
    -WhatIf prints every step it would take and changes nothing. The DBA credential comes from
    -CredentialAsset (Azure Automation), -Credential, or the configuration.
.PARAMETER Config
    The EcomDr configuration file.
.PARAMETER Environment
    The environment in the configuration.
.PARAMETER Schema
    The live schema. Default: the first schema of the configuration's mysql.schemas.
.PARAMETER RestoreSchema
    Where the point-in-time restore goes. Default: <Schema>_restore.
.PARAMETER TargetTime
    Restore to the last transaction committed at or before this time.
.PARAMETER StopBeforeGtid
    Restore to right before this transaction.
.PARAMETER FindTable
    Restore to right before the first change of this table (with -FindOperation) that Find-BinlogEvent finds.
.PARAMETER FindOperation
    Insert, Update, Delete or Ddl. Default: Delete.
.PARAMETER FindAfter
    Only changes at or after this time. Default: 24 hours ago.
.PARAMETER ReferenceSchema
    A schema known to be at the restore point, to compare tables, row counts and checksums with.
.PARAMETER AlembicHead
    The Alembic revision alembic_version must hold.
.PARAMETER MigrationsPath
    The Alembic migrations folder whose head alembic_version must hold.
.PARAMETER MaintenanceOn
    Turns maintenance mode on: a script block, an http(s) URL (POST) or a command line.
.PARAMETER MaintenanceOff
    Turns maintenance mode off, in the same forms.
.PARAMETER Credential
    The DBA credential for the live server (it restores, validates and swaps).
.PARAMETER CredentialAsset
    The Azure Automation credential asset holding it.
.EXAMPLE
    ./Restore-LogicalDeletion.ps1 -Config ./ecomdr.json -FindTable orders -FindOperation Delete -MigrationsPath ../shop-api/migrations -MaintenanceOn https://ops/api/maintenance/on -MaintenanceOff https://ops/api/maintenance/off -WhatIf
    Every step it would take, with the point-in-time plan; nothing changes.
#>
#requires -Version 7.4
[CmdletBinding(SupportsShouldProcess, ConfirmImpact = 'High', DefaultParameterSetName = 'Time')]
param(
    [string] $Config,
    [string] $Environment,
    [string] $Schema,
    [string] $RestoreSchema,
    [Parameter(Mandatory, ParameterSetName = 'Time')] [DateTimeOffset] $TargetTime,
    [Parameter(Mandatory, ParameterSetName = 'Gtid')] [string] $StopBeforeGtid,
    [Parameter(Mandatory, ParameterSetName = 'Find')] [string] $FindTable,
    [Parameter(ParameterSetName = 'Find')] [ValidateSet('Insert', 'Update', 'Delete', 'Ddl')] [string] $FindOperation = 'Delete',
    [Parameter(ParameterSetName = 'Find')] [DateTimeOffset] $FindAfter = [DateTimeOffset]::UtcNow.AddHours(-24),
    [string] $ReferenceSchema,
    [string] $AlembicHead,
    [string] $MigrationsPath,
    [object] $MaintenanceOn,
    [object] $MaintenanceOff,
    [pscredential] $Credential,
    [string] $CredentialAsset
)
$ErrorActionPreference = 'Stop'
$manifest = Join-Path $PSScriptRoot '../EcomDr.psd1'
Import-Module $(if (Test-Path $manifest) { $manifest } else { 'EcomDr' })
$repo = @{}
if ($Config) { $repo.Config = $Config }
if ($Environment) { $repo.Environment = $Environment }
if ($CredentialAsset) { $Credential = Get-AutomationPSCredential -Name $CredentialAsset }
$dba = @{} + $repo
$target = @{} + $repo
if ($Credential) { $dba.Credential = $Credential; $target.TargetCredential = $Credential }
if (-not $Schema) {
    $Schema = (Get-Content -Raw $(if ($Config) { $Config } else { throw 'Give -Schema when running on embedded defaults.' }) | ConvertFrom-Json -AsHashtable).environments.GetEnumerator() |
        Where-Object { -not $Environment -or $_.Key -eq $Environment } | Select-Object -First 1 | ForEach-Object { $_.Value.mysql.schemas[0] }
    if (-not $Schema) { throw 'The configuration names no schema: give -Schema.' }
}
if (-not $RestoreSchema) { $RestoreSchema = "${Schema}_restore" }

function Invoke-Hook([object] $Hook, [string] $What) {
    if (-not $Hook) { Write-Output "$What`: no hook given"; return }
    if (-not $PSCmdlet.ShouldProcess($What, 'Run the maintenance hook')) { return }
    if ($Hook -is [scriptblock]) { & $Hook }
    elseif ("$Hook" -match '^https?://') { $null = Invoke-RestMethod -Method Post -Uri "$Hook" -TimeoutSec 60 }
    else { & ([scriptblock]::Create("$Hook")) }
    Write-Output "$What`: done"
}

Write-Output "Step 1/5: maintenance mode on"
Invoke-Hook $MaintenanceOn 'maintenance mode on'

if ($PSCmdlet.ParameterSetName -eq 'Find') {
    $found = @(Find-BinlogEvent $FindTable @repo -Schema $Schema -Operation $FindOperation -After $FindAfter)
    if (-not $found) { throw "No $FindOperation of $Schema.$FindTable since $($FindAfter.ToString('u')) in the shipped binlog: nothing to restore before. Maintenance mode is still on." }
    Write-Output "The mistake: $($found[0].Operation) of $($found[0].Rows) row(s) in $Schema.$FindTable at $($found[0].Time.ToString('u')) ($($found[0].Gtid)): $($found[0].Statement)"
}
$stop = switch ($PSCmdlet.ParameterSetName) {
    'Time' { @{ TargetTime = $TargetTime } }
    'Gtid' { @{ StopBeforeGtid = $StopBeforeGtid } }
    'Find' { @{ StopBeforeEvent = $found[0] } }
}
Write-Output "Step 2/5: point-in-time restore into $RestoreSchema"
$pitr = Restore-MySqlPitr @target @stop -TargetSchema $RestoreSchema -WhatIf:$WhatIfPreference -Confirm:$false
if ($pitr) { Write-Output "Restored to $($pitr.LastPosition) ($($pitr.LastGtid)), $($pitr.Transactions) transaction(s) replayed; stopped: $($pitr.StoppedBecause)" }

Write-Output "Step 3/5: validation of $RestoreSchema"
if ($WhatIfPreference) {
    Write-Output "What if: Test-MySqlRestore $RestoreSchema$(if ($ReferenceSchema) { " -ReferenceSchema $ReferenceSchema" })$(if ($AlembicHead) { " -AlembicHead $AlembicHead" })$(if ($MigrationsPath) { " -MigrationsPath $MigrationsPath" }); any failed check stops before the swap"
}
else {
    $validation = @{}
    if ($ReferenceSchema) { $validation.ReferenceSchema = $ReferenceSchema }
    if ($AlembicHead) { $validation.AlembicHead = $AlembicHead }
    if ($MigrationsPath) { $validation.MigrationsPath = $MigrationsPath }
    $report = Test-MySqlRestore $RestoreSchema @dba @validation
    $report.Checks | ForEach-Object { Write-Output "  $(if ($_.Passed) { 'PASS' } else { 'FAIL' }) $($_.Name): $($_.Evidence)" }
    if (-not $report.Passed) {
        throw "Validation of $RestoreSchema failed; nothing was swapped: $Schema is untouched. Maintenance mode is still on: decide, then turn it off."
    }
}

Write-Output "Step 4/5: swap $RestoreSchema into $Schema"
$swap = $null
if ($WhatIfPreference) {
    # Nothing was restored under -WhatIf, so the swap's own plan (which needs the schema) cannot run.
    Write-Output "What if: Switch-MySqlSchema -From $RestoreSchema -To $Schema (one RENAME TABLE; the live tables kept aside as ${Schema}_pre_restore_<time>)"
}
else { $swap = Switch-MySqlSchema -From $RestoreSchema -To $Schema @dba -Confirm:$false }
if ($swap) { Write-Output "Swapped; the previous tables are in $($swap.PreviousSchema). To swap back: $($swap.SwapBack)" }

Write-Output "Step 5/5: maintenance mode off"
Invoke-Hook $MaintenanceOff 'maintenance mode off'
if ($swap) {
    # The swapped-in tables did not come through the binlog: replay cannot cross the swap.
    Write-Output "Next: take a full backup now (Invoke-DailyFullBackup.ps1); point-in-time recovery to later moments starts from it."
}
