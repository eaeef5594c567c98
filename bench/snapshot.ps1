<#
.SYNOPSIS
    Benchmarks a point-in-time recovery from a volume snapshot against the logical one, on the same
    shop in the same run: a full backup, the shop's workload with a directory snapshot taken in its
    middle, the binlog shipped; then Restore-MySqlPitr -ToLatest from the full backup into a fresh
    server, and from the snapshot (copy, server start with crash recovery, replay). Both must give the
    shop's checksums. Writes the "Volume snapshot recovery" section of docs/benchmarks.md.
    Needs: build.ps1 package.
.EXAMPLE
    dotnet pwsh ./bench/snapshot.ps1 -ShopMB 1000 -WorkloadSeconds 30
#>
#requires -Version 7.4
param(
    [int] $ShopMB = 1000,
    [int] $WorkloadSeconds = 30,
    [string] $WorkDir = (Join-Path ([IO.Path]::GetTempPath()) 'ecomdr-bench-snapshot')
)
$ErrorActionPreference = 'Stop'
. (Join-Path $PSScriptRoot 'BenchKit.ps1')
$manifest = Get-ChildItem (Join-Path $BenchRoot 'out/EcomDr') -Filter EcomDr.psd1 -Recurse | Select-Object -First 1
if (-not $manifest) { throw 'Run "dotnet pwsh ./build.ps1 package" first.' }
Import-Module $manifest.FullName
Initialize-BenchFolder $WorkDir

$serverArgs = [string[]]@('--innodb-buffer-pool-size=1G')
$source = Wait-Task ([EcomDr.TestKit.Servers.MariaDbServer]::StartAsync([EcomDr.TestKit.Servers.MariaDbOptions]@{ ExtraArguments = $serverArgs }))
$servers = @($source)
try {
    $size = [EcomDr.TestKit.Shop.ShopSize]::FromMegabytes($ShopMB)
    Wait-Task ([EcomDr.TestKit.Shop.ShopGenerator]::CreateAsync($source.RootConnectionString, 'ecommerce', $size, 1, 2))
    Wait-Task ($source.ExecuteAsync('ANALYZE TABLE ' + (([EcomDr.TestKit.Shop.ShopSchema]::Tables | ForEach-Object { "ecommerce.$_" }) -join ', '), $null))
    $dataMB = [Math]::Round([double](Wait-Task ($source.ScalarAsync("SELECT SUM(DATA_LENGTH + INDEX_LENGTH) / 1048576 FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'ecommerce'", $null))), 0)
    $config = Join-Path $WorkDir 'ecomdr.json'
    @{
        schemaVersion = 1
        environments  = @{
            bench = @{
                mysql        = @{ server = '127.0.0.1'; port = $source.Port; sslMode = 'None'; schemas = @('ecommerce'); volumeSnapshot = @{ provider = 'directory'; directory = @{ path = 'snapshots' } } }
                repositories = @{ primary = @{ type = 'filesystem'; path = 'repo' } }
                keys         = @(@{ type = 'localFile'; path = 'bench.key' })
            }
        }
    } | ConvertTo-Json -Depth 6 | Set-Content $config
    $null = New-DrKey -Config $config
    $root = [pscredential]::new('root', (New-Object securestring))
    $live = @{ Config = $config; Credential = $root }

    $full = Invoke-MySqlFullBackup @live
    $workload = [EcomDr.TestKit.Shop.ShopWorkload]::Start($source.RootConnectionString, 'ecommerce', 2, 150, 3)
    Start-Sleep -Seconds ($WorkloadSeconds / 2)
    $snapshot = Invoke-MySqlVolumeSnapshot @live
    Start-Sleep -Seconds ($WorkloadSeconds / 2)
    Wait-Task ($workload.StopAsync())
    if ($workload.Errors.Count) { throw "the workload failed: $($workload.Errors -join '; ')" }
    $orders = $workload.OrdersPlaced
    $null = Send-Binlog @live -Rotate
    $expected = Wait-Task ([EcomDr.TestKit.Shop.ShopInspector]::ChecksumsAsync($source.RootConnectionString, 'ecommerce'))
    $snapshotMB = [Math]::Round((Get-ChildItem (Join-Path $WorkDir "snapshots/$($snapshot.Id)") -Recurse -File | Measure-Object Length -Sum).Sum / 1MB, 0)
    function Test-Shop($server, [string] $case) {
        $got = Wait-Task ([EcomDr.TestKit.Shop.ShopInspector]::ChecksumsAsync($server.RootConnectionString, 'ecommerce'))
        foreach ($table in $expected.Keys) { if ($got[$table] -ne $expected[$table]) { throw "$case restored $table as $($got[$table]), the shop holds $($expected[$table])" } }
    }

    # Logical: the full backup restored, then the binlog since it replayed.
    $logicalTarget = Wait-Task ([EcomDr.TestKit.Servers.MariaDbServer]::StartAsync([EcomDr.TestKit.Servers.MariaDbOptions]@{ ServerId = 2; GtidDomainId = 2; ExtraArguments = $serverArgs }))
    $servers += $logicalTarget
    $clock = [Diagnostics.Stopwatch]::StartNew()
    $logical = Restore-MySqlPitr -ToLatest -Backup $full -Config $config -TargetServer 127.0.0.1 -TargetPort $logicalTarget.Port -TargetCredential $root -TargetSslMode None -Force
    $logicalSeconds = [Math]::Round($clock.Elapsed.TotalSeconds, 1)
    Test-Shop $logicalTarget 'the logical recovery'

    # From the snapshot: copy, start (crash recovery), check its GTID state, replay.
    $into = Join-Path $WorkDir 'restored'
    $clock.Restart()
    $null = Restore-MySqlPitr -FromSnapshot $snapshot -RestoreDirectory $into -ToLatest -Config $config -Force 6>$null
    $copySeconds = [Math]::Round($clock.Elapsed.TotalSeconds, 1)
    $lap = [Diagnostics.Stopwatch]::StartNew()
    $restored = Wait-Task ([EcomDr.TestKit.Servers.MariaDbServer]::StartOnDataDirectoryAsync($into, [EcomDr.TestKit.Servers.MariaDbOptions]@{ ExtraArguments = $serverArgs }))
    $servers += $restored
    $startSeconds = [Math]::Round($lap.Elapsed.TotalSeconds, 1)
    $fromSnapshot = Restore-MySqlPitr -FromSnapshot $snapshot -ToLatest -Config $config -TargetServer 127.0.0.1 -TargetPort $restored.Port -TargetCredential $root -TargetSslMode None -Force
    $snapshotSeconds = [Math]::Round($clock.Elapsed.TotalSeconds, 1)
    Test-Shop $restored 'the recovery from the snapshot'

    $section = @"
<!-- volume-snapshot:begin -->
## Volume snapshot recovery

``bench/snapshot.ps1 -ShopMB $ShopMB -WorkloadSeconds $WorkloadSeconds``, $(Get-BenchMachine). The shop ($dataMB MB of InnoDB data and indexes) is backed up, then its
workload runs for $WorkloadSeconds s ($orders orders placed) with a ``directory`` volume snapshot taken in the middle (commits blocked $($snapshot.Manifest.Stats['freezeSeconds']) s in $($snapshot.Manifest.Stats['attempts']) copy attempt(s),
after a pre-flush outside the lock; the copy is $snapshotMB MB), and the binlog is shipped. Both recoveries go to the newest shipped transaction and end with the shop's checksums, table by table.

| recovery | replayed | time |
|---|---|---|
| ``Restore-MySqlPitr -ToLatest`` from the full backup, into a fresh server | $($logical.Transactions) transactions | $logicalSeconds s (full restore $([Math]::Round($logical.FullRestorePhase.TotalSeconds, 1)) s, replay $([Math]::Round($logical.ReplayPhase.TotalSeconds, 1)) s) |
| from the volume snapshot: copy, server start with crash recovery, ``-FromSnapshot`` replay | $($fromSnapshot.Transactions) transactions | $snapshotSeconds s (copy $copySeconds s, start $startSeconds s, replay $([Math]::Round($fromSnapshot.ReplayPhase.TotalSeconds, 1)) s) |

The snapshot recovery is $([Math]::Round($logicalSeconds / [Math]::Max(0.1, $snapshotSeconds), 2))x faster here. A real volume restore (an EBS volume from a snapshot, an
LVM snapshot merged) replaces the copy; its time is the provider's, and the data is read lazily.
<!-- volume-snapshot:end -->
"@
    Write-BenchSection 'volume-snapshot' $section
}
finally {
    foreach ($server in $servers) { Wait-Task ($server.DisposeAsync().AsTask()) }
}
