<#
.SYNOPSIS
    Benchmarks Redis snapshots: Backup-RedisSnapshot's engine against redis-cli --rdb on the same server
    and dataset, and Get-RedisSnapshotKey's reading of the stored snapshot: seconds, ratio, keys per
    second and peak memory. Writes the "Redis snapshots" section of docs/benchmarks.md.
    Needs: build.ps1 build.
.EXAMPLE
    dotnet pwsh ./bench/redis.ps1 -SizeMB 1024
#>
#requires -Version 7.4
param(
    [int] $SizeMB = 1024,
    [string] $WorkDir = (Join-Path ([IO.Path]::GetTempPath()) 'ecomdr-bench-redis')
)
$ErrorActionPreference = 'Stop'
. (Join-Path $PSScriptRoot 'BenchKit.ps1')
Initialize-BenchFolder $WorkDir
$key = Join-Path $WorkDir 'bench.key'

# Wall seconds and peak resident memory (MB) of one command, under GNU time.
function Measure-Tool([string] $Command) {
    $stats = Join-Path $WorkDir 'time.txt'
    & /usr/bin/time -f '%e %M' -o $stats bash -c $Command
    if ($LASTEXITCODE) { throw "failed: $Command" }
    $parts = (Get-Content $stats -Raw).Trim().Split(' ')
    [pscustomobject]@{ Seconds = [double]$parts[0]; PeakMB = [Math]::Round([double]$parts[1] / 1024, 0) }
}

# Uncompressed RDB strings, so that the RDB's size is the dataset's, plus 200 queues of 5,000 entries
# (quicklists) for the reader to walk. Two datasets: DEBUG POPULATE's 512-byte values (they compress
# well, as JSON carts do) and 512 random bytes per key (they do not, as encrypted tokens do not).
function Measure-Dataset([string] $Name, [scriptblock] $Fill) {
    $redis = Wait-Task ([EcomDr.TestKit.Servers.RedisServer]::StartAsync($null, [string[]]@('--rdbcompression', 'no')))
    try {
        $port = $redis.Port
        & $Fill $port
        1..200 | ForEach-Object { "RPUSH queue:$_ " + ((1..5000 | ForEach-Object { "job-$_" }) -join ' ') } | & redis-cli -p $port | Out-Null
        $cli = 1..2 | ForEach-Object {
            Remove-Item (Join-Path $WorkDir 'cli.rdb') -ErrorAction Ignore
            Measure-Tool "redis-cli -p $port --rdb '$WorkDir/cli.rdb' > /dev/null 2>&1"
        } | Sort-Object Seconds | Select-Object -First 1
        $rdbBytes = (Get-Item (Join-Path $WorkDir 'cli.rdb')).Length
        $ours = 1..2 | ForEach-Object {
            Initialize-BenchFolder (Join-Path $WorkDir 'repo')
            Invoke-Bench @('redis-snapshot', "$port", (Join-Path $WorkDir 'repo'), $key)
        } | Sort-Object seconds | Select-Object -First 1
        $keys = Invoke-Bench @('redis-keys', (Join-Path $WorkDir 'repo'), $key)
        [pscustomobject]@{ Name = $Name; Cli = $cli; Ours = $ours; Keys = $keys; MiB = $rdbBytes / 1MB }
    }
    finally { Wait-Task ($redis.DisposeAsync().AsTask()) }
}

$count = [int]($SizeMB * 1MB / 560)
$redisVersion = (& redis-server --version) -replace '.*v=(\S+).*', '$1'
$results = @(
    Measure-Dataset 'compressible values' { param($port) & redis-cli -p $port DEBUG POPULATE $count key 512 | Out-Null }
    Measure-Dataset 'random values' {
        param($port)
        # In batches, so that no script blocks the server for long.
        $script = "for i = tonumber(ARGV[1]), tonumber(ARGV[2]) do local t = {} for j = 1, 64 do t[j] = string.char(math.random(0, 255), math.random(0, 255), math.random(0, 255), math.random(0, 255), math.random(0, 255), math.random(0, 255), math.random(0, 255), math.random(0, 255)) end redis.call('SET', 'r:' .. i, table.concat(t)) end return 0"
        for ($from = 1; $from -le $count; $from += 50000) {
            & redis-cli -p $port EVAL $script 0 $from ([Math]::Min($count, $from + 49999)) | Out-Null
        }
    }
)
$rows = foreach ($r in $results) {
    "| $($r.Name), redis-cli --rdb | $('{0:N0}' -f $r.MiB) MiB | $('{0:0.00}' -f $r.Cli.Seconds) | $('{0:0}' -f ($r.MiB / $r.Cli.Seconds)) | 1x | plain | $($r.Cli.PeakMB) MB |"
    "| $($r.Name), Backup-RedisSnapshot | $('{0:N0}' -f $r.MiB) MiB | $('{0:0.00}' -f $r.Ours.seconds) | $('{0:0}' -f ($r.MiB / $r.Ours.seconds)) | $('{0:0.00}' -f ($r.Cli.Seconds / $r.Ours.seconds))x | $('{0:N0}' -f ($r.Ours.storedBytes / 1MB)) MiB encrypted | $('{0:0}' -f $r.Ours.peakWorkingSetMB) MB |"
}
$listing = foreach ($r in $results) {
    "| $($r.Name) | $('{0:N0}' -f $r.Keys.keys) | $('{0:0.00}' -f $r.Keys.seconds) | $('{0:N0}' -f $r.Keys.keysPerSecond) | $('{0:0}' -f $r.Keys.peakWorkingSetMB) MB |"
}
$section = @"
<!-- redis:begin -->
## Redis snapshots

``dotnet pwsh ./bench/redis.ps1 -SizeMB $SizeMB`` on $(Get-BenchMachine), Redis $redisVersion.

Two Redis datasets of $('{0:N0}' -f $count) keys with 512-byte values, plus 200 lists of 5,000 entries, with
``rdbcompression no`` so that the RDB is as large as the data: ``DEBUG POPULATE``'s values (they compress
well, as JSON carts do) and random bytes (they do not). ``redis-cli --rdb`` saves the RDB to a file;
EcomDr fetches it over the same replication protocol and, while it streams, reads it through (every key,
the CRC-64), compresses it (zstd 3), encrypts it (AES-256-GCM), hashes it twice (SHA-256) and stores it
with its signed manifest. Ratio = redis-cli seconds / EcomDr seconds (goal >= 0.8). Best of two runs
each; peak memory is the process's resident set (GNU time) or working set.

| dataset, tool | RDB | seconds | MiB/s | ratio | stored | peak memory |
|---|---|---|---|---|---|---|
$($rows -join "`n")

Get-RedisSnapshotKey's engine over the stored snapshot (decrypt, decompress, walk every key):

| dataset | keys | seconds | keys/s | peak memory |
|---|---|---|---|---|
$($listing -join "`n")
<!-- redis:end -->
"@
Write-BenchSection 'redis' $section
