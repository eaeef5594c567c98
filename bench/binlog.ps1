<#
.SYNOPSIS
    Benchmarks binlog shipping: RPO exposure of Send-Binlog's follow mode under a steady workload
    (default -MaxLag 30 and -MaxLag 2), and one-shot archive throughput against
    `mariadb-binlog --read-from-remote-server --raw` on the same server. Writes the "Binlog shipping"
    section of docs/benchmarks.md. Needs: build.ps1 build.
.EXAMPLE
    dotnet pwsh ./bench/binlog.ps1 -Seconds 90 -BulkMB 300
#>
#requires -Version 7.4
param(
    [int] $Seconds = 90,
    [double] $BulkMB = 300,
    [string] $WorkDir = (Join-Path ([IO.Path]::GetTempPath()) 'ecomdr-bench-binlog')
)
$ErrorActionPreference = 'Stop'
. (Join-Path $PSScriptRoot 'BenchKit.ps1')
Initialize-BenchFolder $WorkDir

$server = Wait-Task ([EcomDr.TestKit.Servers.MariaDbServer]::StartAsync([EcomDr.TestKit.Servers.MariaDbOptions]@{ ExtraArguments = [string[]]@('--innodb-buffer-pool-size=1G') }))
try {
    # RPO exposure: the shop workload writes steadily while a probe commits every 100 ms.
    Wait-Task ([EcomDr.TestKit.Shop.ShopGenerator]::CreateAsync($server.RootConnectionString, 'ecommerce', [EcomDr.TestKit.Shop.ShopSize]::new(2000, 200, 20000), 1, 2))
    $workload = [EcomDr.TestKit.Shop.ShopWorkload]::Start($server.RootConnectionString, 'ecommerce', 2, 100, 7)
    $rpo = @()
    $running = [Diagnostics.Stopwatch]::StartNew()
    try {
        foreach ($lag in 30, 2) {
            $rpo += Invoke-Bench @('rpo', $server.Port, $Seconds, $lag, (Join-Path $WorkDir "rpo-$lag"))
        }
    }
    finally { Wait-Task ($workload.StopAsync()) }
    $tps = [Math]::Round($workload.OrdersPlaced / $running.Elapsed.TotalSeconds, 0)

    # Throughput: a bulk load writes the binlog, then both tools read all of it from the server.
    Wait-Task ($server.ExecuteAsync('FLUSH BINARY LOGS', $null))
    Wait-Task ([EcomDr.TestKit.Shop.ShopGenerator]::CreateAsync($server.RootConnectionString, 'bulk', [EcomDr.TestKit.Shop.ShopSize]::FromMegabytes($BulkMB), 2, 2))
    Wait-Task ($server.ExecuteAsync('FLUSH BINARY LOGS', $null))
    $first = [string](Wait-Task ($server.ScalarAsync('SHOW BINARY LOGS', $null)))
    $binlogBytes = (Get-ChildItem $server.DataDirectory -Filter 'binlog.0*' | Measure-Object Length -Sum).Sum
    $raw = Join-Path $WorkDir 'raw'
    New-Item -ItemType Directory $raw | Out-Null
    $clock = [Diagnostics.Stopwatch]::StartNew()
    & mariadb-binlog --no-defaults --read-from-remote-server --raw --host=127.0.0.1 --port=$($server.Port) --user=root --to-last-log "--result-file=$raw/" $first
    if ($LASTEXITCODE) { throw 'mariadb-binlog failed' }
    $stockSeconds = [Math]::Round($clock.Elapsed.TotalSeconds, 2)
    $ship = Invoke-Bench @('ship', $server.Port, (Join-Path $WorkDir 'ship'))
}
finally { Wait-Task ($server.DisposeAsync().AsTask()) }

$mb = $binlogBytes / 1MB
$section = @"
<!-- binlog:begin -->
## Binlog shipping

``dotnet pwsh ./bench/binlog.ps1 -Seconds $Seconds -BulkMB $BulkMB`` on $(Get-BenchMachine).

**RPO exposure in follow mode.** The shop workload places about $tps orders a second (2 writers) while a
probe commits a row every 100 ms and notes when; the shipper (the engine behind
``Send-Binlog -Follow``) ships into a file-system repository. Exposure = the time the segment holding a
probe's transaction became durable (its signed manifest written) minus the probe's commit time.

| -MaxLag | probe commits | segments | p50 (s) | p90 (s) | p99 (s) | max (s) | target |
|---|---|---|---|---|---|---|---|
$(($rpo | ForEach-Object { "| $($_.maxLag) s | $($_.probes) | $($_.segments) | $($_.p50) | $($_.p90) | $($_.p99) | $($_.max) | p99 <= $(if ($_.maxLag -eq 2) { 5 } else { 60 }) s |" }) -join "`n")

**Archive throughput.** $([Math]::Round($mb, 0)) MiB of binlog (ROW events of a bulk load), read from the server by each tool.

| tool | seconds | MiB/s | writes |
|---|---|---|---|
| mariadb-binlog --read-from-remote-server --raw | $stockSeconds | $([Math]::Round($mb / $stockSeconds, 0)) | plain files |
| Send-Binlog engine (one-shot) | $($ship.seconds) | $([Math]::Round($mb / $ship.seconds, 0)) | zstd + AES-256-GCM + SHA-256 segments, signed manifests (peak $($ship.peakMB) MB) |
<!-- binlog:end -->
"@
Write-BenchSection 'binlog' $section
Remove-Item $WorkDir -Recurse -Force
