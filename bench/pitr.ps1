<#
.SYNOPSIS
    Benchmarks binlog replay (what Restore-MySqlPitr runs after the full restore) against
    `mariadb-binlog <files> | mariadb` on the same binlogs in the same run: 20,000 small transactions
    from four writers, then the shop workload plus a bulk load, each replayed by the stock pipe and by
    EcomDr serially and in parallel into targets restored from the full backup taken where that binlog
    starts. Writes the "Point-in-time replay" section of docs/benchmarks.md.
    Needs: build.ps1 package.
.EXAMPLE
    dotnet pwsh ./bench/pitr.ps1 -SmallTransactions 20000 -WorkloadSeconds 60 -BulkMB 200
#>
#requires -Version 7.4
param(
    [int] $SmallTransactions = 20000,
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
$serverArgs = [string[]]@('--innodb-buffer-pool-size=1G')
function New-Target([int] $Id) {
    $t = Wait-Task ([EcomDr.TestKit.Servers.MariaDbServer]::StartAsync([EcomDr.TestKit.Servers.MariaDbOptions]@{ ServerId = $Id; GtidDomainId = $Id; ExtraArguments = $serverArgs }))
    $script:servers += $t
    $t
}

# One binlog range replayed three ways, each into a fresh server restored from the same full backup:
# the stock pipe on the server's files, then EcomDr serial and parallel from the repository.
function Measure-Replays($Full, [string] $FromFile, [long] $FromPosition, [string[]] $Files, [string] $StopFile, [long] $StopPosition, [string[]] $Schemas) {
    $rows = [ordered]@{}
    foreach ($case in 'stock', 'serial', 'parallel') {
        $target = New-Target 2
        $null = Restore-MySqlDatabase -Backup $Full -TargetServer 127.0.0.1 -TargetPort $target.Port -TargetCredential $admin -TargetSslMode None -NoBinlog -Force @repo
        $clock = [Diagnostics.Stopwatch]::StartNew()
        $r = $null
        if ($case -eq 'stock') {
            # The last file up to the range's end: the stock tool applies --stop-position to it.
            & bash -c "mariadb-binlog --no-defaults --start-position=$FromPosition --stop-position=$StopPosition $($Files -join ' ') | mariadb --no-defaults -h 127.0.0.1 -P $($target.Port) -u root"
            if ($LASTEXITCODE) { throw 'stock replay failed' }
            $seconds = [Math]::Round($clock.Elapsed.TotalSeconds, 2)
        }
        else {
            $threads = if ($case -eq 'serial') { 1 } else { [Math]::Max(4, [Environment]::ProcessorCount) }  # ReplayOptions.DefaultThreadCount, as Restore-MySqlPitr uses it
            $r = Invoke-Bench @('replay', $target.Port, (Join-Path $WorkDir 'binlog'), $FromFile, $FromPosition, $threads, "${StopFile}:$StopPosition")
            $seconds = $r.seconds
        }
        $sums = foreach ($schema in $Schemas) {
            if ($schema -eq 'ledger') {
                # Not a shop schema: every row of both tables, hashed.
                [string](Wait-Task ($target.ScalarAsync("SELECT CONCAT((SELECT CONCAT(COUNT(*), ':', SUM(CRC32(CONCAT_WS(',', id, account, amount, at)))) FROM ledger.ledger), '/', (SELECT CONCAT(COUNT(*), ':', SUM(CRC32(CONCAT_WS(',', id, balance)))) FROM ledger.account))", $null)))
                continue
            }

            $c = Wait-Task ([EcomDr.TestKit.Shop.ShopInspector]::ChecksumsAsync($target.RootConnectionString, $schema))
            ($c.GetEnumerator() | Sort-Object Key | ForEach-Object { "$($_.Key)=$($_.Value)" }) -join ','
        }
        $rows[$case] = [pscustomobject]@{
            Seconds = $seconds; Peak = if ($r) { "$($r.peakMB) MB" } else { '' }; Threads = if ($r) { $r.threads } else { 1 }
            Concurrency = if ($r -and $r.threads -gt 1) { $r.concurrency } else { '' }; Retries = if ($r) { $r.retries } else { '' }
            Checksum = $sums -join ';'; Gtid = [string](Wait-Task ($target.ScalarAsync('SELECT @@gtid_binlog_pos', $null)))
        }
        $script:servers = @($script:servers | Where-Object { $_ -ne $target })
        Wait-Task ($target.DisposeAsync().AsTask())
    }
    foreach ($case in 'serial', 'parallel') {
        if ($rows[$case].Checksum -ne $rows['stock'].Checksum -or $rows[$case].Gtid -ne $rows['stock'].Gtid) { throw "$case replay differs from the stock replay: $($rows[$case].Gtid) vs $($rows['stock'].Gtid)" }
    }
    $rows
}

function Format-Replays($Rows, [double] $MB, [long] $Transactions) {
    $stock = $Rows['stock'].Seconds
    $label = @{ stock = 'mariadb-binlog … \| mariadb'; serial = 'EcomDr serial (-ThreadCount 1)'; parallel = "EcomDr parallel ($($Rows['parallel'].Threads) connections)" }
    ($Rows.Keys | ForEach-Object {
        $x = $Rows[$_]
        "| $($label[$_]) | $($x.Seconds) | $([Math]::Round($stock / $x.Seconds, 2))x | $([Math]::Round($MB / $x.Seconds, 1)) | $([Math]::Round($Transactions / $x.Seconds, 0)) | $($x.Concurrency) | $($x.Peak) |"
    }) -join "`n"
}

function Get-Position($Server) {
    $status = Wait-Task ($Server.ScalarAsync("SELECT CONCAT(@@gtid_binlog_pos)", $null))
    $conn = Wait-Task ($Server.OpenRootAsync($null))
    try {
        $cmd = $conn.CreateCommand(); $cmd.CommandText = 'SHOW MASTER STATUS'
        $reader = $cmd.ExecuteReader(); $null = $reader.Read()
        [pscustomobject]@{ File = $reader.GetString(0); Position = $reader.GetInt64(1); Gtid = $status }
    }
    finally { $conn.Dispose() }
}

try {
    $source = Wait-Task ([EcomDr.TestKit.Servers.MariaDbServer]::StartAsync([EcomDr.TestKit.Servers.MariaDbOptions]@{ ExtraArguments = $serverArgs }))
    $servers += $source
    $key = Join-Path $WorkDir 'bench.key'
    $null = New-DrKey -Path $key
    $repo = @{ Repository = (Join-Path $WorkDir 'repo'); KeyFile = $key }
    $admin = [pscredential]::new('root', (New-Object securestring))
    $fromSource = @{ Server = '127.0.0.1'; Port = $source.Port; Credential = $admin; SslMode = 'None' }

    # 1. Small transactions: $SmallTransactions from four writers at once (a ledger row and a balance each).
    Wait-Task ([EcomDr.TestKit.Shop.SmallTransactions]::CreateAsync($source.RootConnectionString, 'ledger', 10000))
    $smallFull = Invoke-MySqlFullBackup ledger @fromSource @repo
    $smallFile = $smallFull.Manifest.Source['binlogFile'].GetValue[string]()
    $smallPosition = $smallFull.Manifest.Source['binlogPosition'].GetValue[long]()
    Wait-Task ([EcomDr.TestKit.Shop.SmallTransactions]::RunAsync($source.RootConnectionString, 'ledger', 10000, 4, [int]($SmallTransactions / 4), 1))
    $smallEnd = Get-Position $source
    $smallFiles = @(Get-ChildItem $source.DataDirectory -Filter 'binlog.0*' | Sort-Object Name | Where-Object { $_.Name -ge $smallFile -and $_.Name -le $smallEnd.File })
    $smallMB = (($smallFiles | Measure-Object Length -Sum).Sum - $smallPosition) / 1MB
    $smallCount = [long]$smallEnd.Gtid.Split('-')[-1] - [long]$smallFull.Coordinates.Split('-')[-1]
    Wait-Task ($source.ExecuteAsync('FLUSH BINARY LOGS', $null))

    # 2. The shop: the unthrottled workload (two writers), then a bulk load (big row events), with rotations.
    Wait-Task ([EcomDr.TestKit.Shop.ShopGenerator]::CreateAsync($source.RootConnectionString, 'ecommerce', [EcomDr.TestKit.Shop.ShopSize]::new(5000, 500, 20000), 1, 2))
    $full = Invoke-MySqlFullBackup ecommerce @fromSource @repo
    $file = $full.Manifest.Source['binlogFile'].GetValue[string]()
    $position = $full.Manifest.Source['binlogPosition'].GetValue[long]()
    $workload = [EcomDr.TestKit.Shop.ShopWorkload]::Start($source.RootConnectionString, 'ecommerce', 2, 0, 5)
    Start-Sleep -Seconds $WorkloadSeconds
    Wait-Task ($workload.StopAsync())
    Wait-Task ($source.ExecuteAsync('FLUSH BINARY LOGS', $null))
    Wait-Task ([EcomDr.TestKit.Shop.ShopGenerator]::CreateAsync($source.RootConnectionString, 'bulk', [EcomDr.TestKit.Shop.ShopSize]::FromMegabytes($BulkMB), 2, 2))
    $shopEnd = Get-Position $source
    $null = Invoke-Bench @('ship', $source.Port, (Join-Path $WorkDir 'binlog'))   # the engine Send-Binlog runs
    $files = @(Get-ChildItem $source.DataDirectory -Filter 'binlog.0*' | Sort-Object Name | Where-Object { $_.Name -ge $file -and $_.Name -le $shopEnd.File })
    $binlogMB = (($files | Measure-Object Length -Sum).Sum - $position) / 1MB
    $transactions = [long]$shopEnd.Gtid.Split('-')[-1] - [long]$full.Coordinates.Split('-')[-1]

    # End to end, as an admin runs it: Restore-MySqlPitr from one repository (full backup + shipped binlog).
    $null = Send-Binlog -ReplicaServerId 4243 @fromSource @repo
    $target = New-Target 3
    $clock = [Diagnostics.Stopwatch]::StartNew()
    $pitr = Restore-MySqlPitr -StopAtPosition "$($shopEnd.File):$($shopEnd.Position)" -Backup $full -TargetServer 127.0.0.1 -TargetPort $target.Port -TargetCredential $admin -TargetSslMode None -Force @repo
    $pitrSeconds = $clock.Elapsed.TotalSeconds
    $fullMB = $full.Size / 1MB
    $fullDataMB = [double](Wait-Task ($source.ScalarAsync("SELECT SUM(DATA_LENGTH + INDEX_LENGTH) / 1048576 FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'ecommerce'", $null)))

    $small = Measure-Replays $smallFull $smallFile $smallPosition $smallFiles.FullName $smallEnd.File $smallEnd.Position @('ledger')
    $shop = Measure-Replays $full $file $position $files.FullName $shopEnd.File $shopEnd.Position @('ecommerce', 'bulk')
}
finally {
    foreach ($s in $servers) { try { Wait-Task ($s.DisposeAsync().AsTask()) } catch { } }
}

$section = @"
<!-- pitr:begin -->
## Point-in-time replay

``dotnet pwsh ./bench/pitr.ps1 -SmallTransactions $SmallTransactions -WorkloadSeconds $WorkloadSeconds -BulkMB $BulkMB`` on $(Get-BenchMachine).
Two binlogs, each replayed three ways into a fresh server restored from the full backup taken where
the binlog starts: ``mariadb-binlog --start-position … --stop-position … | mariadb`` on the server's
files, then EcomDr serially (``-ThreadCount 1``) and in parallel (the default) from the repository, where
every segment is decrypted, decompressed and hash-checked. The script fails unless all three end with
the same table checksums and the same ``gtid_binlog_pos``. Every replay writes the target's binlog
(as a restored primary would); the targets run ``innodb_flush_log_at_trx_commit=2``.

**Small transactions**: $([Math]::Round($smallMB, 1)) MiB of binlog, $smallCount transactions from four writers at once (each
appends a ledger row and moves one of 10,000 balances).

| replay | seconds | vs stock | MiB/s of binlog | transactions/s | connections busy at once | peak memory |
|---|---|---|---|---|---|---|
$(Format-Replays $small $smallMB $smallCount)

**The shop**: $([Math]::Round($binlogMB, 0)) MiB of binlog ($transactions transactions: $WorkloadSeconds s of the unthrottled
shop workload from two writers, then a bulk load of about $BulkMB MB in big row events).

| replay | seconds | vs stock | MiB/s of binlog | transactions/s | connections busy at once | peak memory |
|---|---|---|---|---|---|---|
$(Format-Replays $shop $binlogMB $transactions)

RTO estimate for the replay phase on this machine (parallel, the shop's binlog): about $([Math]::Round($shop['parallel'].Seconds / $binlogMB * 1024 / 60, 1)) minutes per GiB of binlog.

End to end, ``Restore-MySqlPitr`` (full backup of $([Math]::Round($fullMB, 1)) MiB stored, $([Math]::Round($fullDataMB, 0)) MiB in InnoDB, then the shop's binlog) into a fresh
server, binlog on: $([Math]::Round($pitrSeconds, 1)) s in all, $($pitr.Transactions) transactions of the shop replayed, $($pitr.ReplayMode) on $($pitr.ReplayThreads) connections
($($pitr.ReplayConcurrency) at once on average; the bulk load is another schema: read, verified and skipped); replay stopped: $($pitr.StoppedBecause).

| phase | seconds | share |
|---|---|---|
| plan (catalog, chain proof, target checks) | $([Math]::Round($pitrSeconds - $pitr.Elapsed.TotalSeconds, 1)) | $([Math]::Round(100 * ($pitrSeconds - $pitr.Elapsed.TotalSeconds) / $pitrSeconds, 0)) % |
| download + full restore (one stream) | $([Math]::Round($pitr.FullRestorePhase.TotalSeconds, 1)) | $([Math]::Round(100 * $pitr.FullRestorePhase.TotalSeconds / $pitrSeconds, 0)) % |
| download + replay (one stream) | $([Math]::Round($pitr.ReplayPhase.TotalSeconds, 1)) | $([Math]::Round(100 * $pitr.ReplayPhase.TotalSeconds / $pitrSeconds, 0)) % |
<!-- pitr:end -->
"@
Write-BenchSection 'pitr' $section
Remove-Item $WorkDir -Recurse -Force
