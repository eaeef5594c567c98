<#
.SYNOPSIS
    Benchmarks binlog replay (what Restore-MySqlPitr runs after the full restore) against
    `mariadb-binlog <files> | mariadb` on the same binlog in the same run: a full backup of a small
    shop, then the binlog of the shop workload plus a bulk load, shipped, then replayed into two
    targets restored from that backup. Writes the "Point-in-time replay" section of docs/benchmarks.md.
    Needs: build.ps1 package.
.EXAMPLE
    dotnet pwsh ./bench/pitr.ps1 -WorkloadSeconds 60 -BulkMB 200
#>
#requires -Version 7.4
param(
    [int] $WorkloadSeconds = 60,
    [double] $BulkMB = 200,
    [string] $WorkDir = (Join-Path ([IO.Path]::GetTempPath()) 'ecomdr-bench-pitr')
)
$ErrorActionPreference = 'Stop'
. (Join-Path $PSScriptRoot 'BenchKit.ps1')
$manifest = Get-ChildItem (Join-Path $BenchRoot 'out/EcomDr') -Filter EcomDr.psd1 -Recurse | Select-Object -First 1
if (-not $manifest) { throw 'Run "dotnet pwsh ./build.ps1 package" first.' }
Import-Module $manifest.FullName
Initialize-BenchFolder $WorkDir

$servers = @()
try {
    $source = Wait-Task ([EcomDr.TestKit.Servers.MariaDbServer]::StartAsync([EcomDr.TestKit.Servers.MariaDbOptions]@{ ExtraArguments = [string[]]@('--innodb-buffer-pool-size=1G') }))
    $servers += $source
    Wait-Task ([EcomDr.TestKit.Shop.ShopGenerator]::CreateAsync($source.RootConnectionString, 'ecommerce', [EcomDr.TestKit.Shop.ShopSize]::new(5000, 500, 20000), 1, 2))
    $key = Join-Path $WorkDir 'bench.key'
    $null = New-DrKey -Path $key
    $repo = @{ Repository = (Join-Path $WorkDir 'repo'); KeyFile = $key }
    $admin = [pscredential]::new('root', (New-Object securestring))
    $full = Invoke-MySqlFullBackup ecommerce -Server 127.0.0.1 -Port $source.Port -Credential $admin -SslMode None @repo
    $file = $full.Manifest.Source['binlogFile'].GetValue[string]()
    $position = $full.Manifest.Source['binlogPosition'].GetValue[long]()

    # The binlog to replay: the shop workload, then a bulk load (big row events), with rotations.
    $workload = [EcomDr.TestKit.Shop.ShopWorkload]::Start($source.RootConnectionString, 'ecommerce', 2, 0, 5)
    Start-Sleep -Seconds $WorkloadSeconds
    Wait-Task ($workload.StopAsync())
    Wait-Task ($source.ExecuteAsync('FLUSH BINARY LOGS', $null))
    Wait-Task ([EcomDr.TestKit.Shop.ShopGenerator]::CreateAsync($source.RootConnectionString, 'bulk', [EcomDr.TestKit.Shop.ShopSize]::FromMegabytes($BulkMB), 2, 2))
    $null = Invoke-Bench @('ship', $source.Port, (Join-Path $WorkDir 'binlog'))   # the engine Send-Binlog runs
    $files = @(Get-ChildItem $source.DataDirectory -Filter 'binlog.0*' | Sort-Object Name | Where-Object { $_.Name -ge $file })
    $binlogMB = (($files | Measure-Object Length -Sum).Sum - $position) / 1MB
    $transactions = [long](Wait-Task ($source.ScalarAsync("SELECT SUBSTRING_INDEX(@@gtid_binlog_pos, '-', -1)", $null))) - [long]$full.Coordinates.Split('-')[-1]

    # End to end, as an admin runs it: Restore-MySqlPitr from one repository (full backup + shipped binlog).
    $null = Send-Binlog -Server 127.0.0.1 -Port $source.Port -Credential $admin -SslMode None -ReplicaServerId 4243 @repo
    $target = Wait-Task ([EcomDr.TestKit.Servers.MariaDbServer]::StartAsync([EcomDr.TestKit.Servers.MariaDbOptions]@{ ServerId = 3; GtidDomainId = 3; ExtraArguments = [string[]]@('--innodb-buffer-pool-size=1G') }))
    $servers += $target
    $clock = [Diagnostics.Stopwatch]::StartNew()
    $pitr = Restore-MySqlPitr -ToLatest -Backup $full -TargetServer 127.0.0.1 -TargetPort $target.Port -TargetCredential $admin -TargetSslMode None -Force @repo
    $pitrSeconds = $clock.Elapsed.TotalSeconds
    $fullMB = $full.Size / 1MB
    $fullDataMB = [double](Wait-Task ($source.ScalarAsync("SELECT SUM(DATA_LENGTH + INDEX_LENGTH) / 1048576 FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'ecommerce'", $null)))

    $results = [ordered]@{}
    foreach ($case in 'mariadb-binlog | mariadb', 'EcomDr native replay') {
        $target = Wait-Task ([EcomDr.TestKit.Servers.MariaDbServer]::StartAsync([EcomDr.TestKit.Servers.MariaDbOptions]@{ ServerId = 2; GtidDomainId = 2; ExtraArguments = [string[]]@('--innodb-buffer-pool-size=1G') }))
        $servers += $target
        $null = Restore-MySqlDatabase -Backup $full -TargetServer 127.0.0.1 -TargetPort $target.Port -TargetCredential $admin -TargetSslMode None -NoBinlog -Force @repo
        $clock = [Diagnostics.Stopwatch]::StartNew()
        if ($case -like 'mariadb-binlog*') {
            & bash -c "mariadb-binlog --no-defaults --start-position=$position $($files.FullName -join ' ') | mariadb --no-defaults -h 127.0.0.1 -P $($target.Port) -u root"
            if ($LASTEXITCODE) { throw 'stock replay failed' }
            $seconds = [Math]::Round($clock.Elapsed.TotalSeconds, 2)
            $peak = ''
        }
        else {
            $r = Invoke-Bench @('replay', $target.Port, (Join-Path $WorkDir 'binlog'), $file, $position)
            $seconds = $r.seconds
            $peak = "$($r.peakMB) MB"
        }
        $results[$case] = [pscustomobject]@{
            Seconds  = $seconds
            Peak     = $peak
            Checksum = (Wait-Task ([EcomDr.TestKit.Shop.ShopInspector]::ChecksumsAsync($target.RootConnectionString, 'bulk')))['orders']
            Gtid     = [string](Wait-Task ($target.ScalarAsync('SELECT @@gtid_binlog_pos', $null)))
        }
    }
}
finally {
    foreach ($s in $servers) { try { Wait-Task ($s.DisposeAsync().AsTask()) } catch { } }
}

$stock = $results['mariadb-binlog | mariadb']
$ours = $results['EcomDr native replay']
if ($stock.Checksum -ne $ours.Checksum) { throw "the two replays differ: $($stock.Checksum) vs $($ours.Checksum)" }
$section = @"
<!-- pitr:begin -->
## Point-in-time replay

``dotnet pwsh ./bench/pitr.ps1 -WorkloadSeconds $WorkloadSeconds -BulkMB $BulkMB`` on $(Get-BenchMachine).
A full backup of a small shop, then $([Math]::Round($binlogMB, 0)) MiB of binlog ($transactions transactions: $WorkloadSeconds s of the
unthrottled shop workload, then a bulk load), shipped with ``Send-Binlog``. Each replay goes into a fresh
server restored from the backup; both end with the same table checksums. EcomDr reads the binlog from the
repository (decrypting and verifying it); the stock tools read the server's files. Both replays write
the target's binlog (as a restored primary would).

| replay | seconds | vs stock | MiB/s of binlog | transactions/s | peak memory |
|---|---|---|---|---|---|
| mariadb-binlog --start-position … \| mariadb | $($stock.Seconds) | 1x | $([Math]::Round($binlogMB / $stock.Seconds, 1)) | $([Math]::Round($transactions / $stock.Seconds, 0)) | |
| EcomDr native replay | $($ours.Seconds) | $([Math]::Round($stock.Seconds / $ours.Seconds, 2))x | $([Math]::Round($binlogMB / $ours.Seconds, 1)) | $([Math]::Round($transactions / $ours.Seconds, 0)) | $($ours.Peak) |

RTO estimate for the replay phase on this machine: about $([Math]::Round($ours.Seconds / $binlogMB * 1024 / 60, 1)) minutes per GiB of binlog.

End to end, ``Restore-MySqlPitr`` (full backup of $([Math]::Round($fullMB, 1)) MiB stored, $([Math]::Round($fullDataMB, 0)) MiB in InnoDB, then the same binlog) into a fresh
server, binlog on: $([Math]::Round($pitrSeconds, 1)) s in all, $($pitr.Transactions) transactions of the shop replayed (the bulk load is
another schema: read, verified and skipped); replay stopped: $($pitr.StoppedBecause).

| phase | seconds | share |
|---|---|---|
| plan (catalog, chain proof, target checks) | $([Math]::Round($pitrSeconds - $pitr.Elapsed.TotalSeconds, 1)) | $([Math]::Round(100 * ($pitrSeconds - $pitr.Elapsed.TotalSeconds) / $pitrSeconds, 0)) % |
| download + full restore (one stream) | $([Math]::Round($pitr.FullRestorePhase.TotalSeconds, 1)) | $([Math]::Round(100 * $pitr.FullRestorePhase.TotalSeconds / $pitrSeconds, 0)) % |
| download + replay (one stream) | $([Math]::Round($pitr.ReplayPhase.TotalSeconds, 1)) | $([Math]::Round(100 * $pitr.ReplayPhase.TotalSeconds / $pitrSeconds, 0)) % |
<!-- pitr:end -->
"@
Write-BenchSection 'pitr' $section
Remove-Item $WorkDir -Recurse -Force
