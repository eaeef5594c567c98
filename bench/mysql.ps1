<#
.SYNOPSIS
    Benchmarks Invoke-MySqlFullBackup and Restore-MySqlDatabase against the stock tools on the same
    generated shop in the same run: mariadb-dump --single-transaction | zstd, mydumper/myloader
    (2 threads, compressed), and mariadb < dump.sql. Writes the "MySQL backup and restore" section
    of docs/benchmarks.md. Needs: build.ps1 package, and the packages mydumper and time (installed
    here when run as root).
    The one-large-table shape (one table of -OneTableRows rows, two secondary keys, made with
    seq_1_to_N) is measured first into its own section, "MySQL backup: one large table".
.EXAMPLE
    dotnet pwsh ./bench/mysql.ps1 -ShopMB 1024
.EXAMPLE
    dotnet pwsh ./bench/mysql.ps1 -OneTableOnly
#>
#requires -Version 7.4
param(
    [double] $ShopMB = 1024,
    [int] $Threads = 2,
    # The one-large-table shape: rows of a single table with two secondary keys (seq_1_to_N), measured first.
    [int] $OneTableRows = 1500000,
    # Measure the one-table shape only (the shop's run takes much longer).
    [switch] $OneTableOnly,
    # Restore-MySqlDatabase's connections; 0: its default (the cores, at least 4).
    [int] $RestoreThreads = 0,
    [string] $WorkDir = (Join-Path ([IO.Path]::GetTempPath()) 'ecomdr-bench-mysql')
)
$ErrorActionPreference = 'Stop'
$root = Split-Path $PSScriptRoot
$manifest = Get-ChildItem (Join-Path $root 'out/EcomDr') -Filter EcomDr.psd1 -Recurse | Select-Object -First 1
if (-not $manifest) { throw 'Run "dotnet pwsh ./build.ps1 package" first.' }
foreach ($tool in 'mydumper', 'myloader', '/usr/bin/time') {
    if (-not (Get-Command $tool -ErrorAction Ignore)) {
        if ((& id -u) -ne '0') { throw "Missing ${tool}: apt-get install -y mydumper time" }
        & apt-get install -y -qq mydumper time | Out-Null
    }
}
$env:ECOMDR_TESTKIT_FOLDER = Join-Path $root 'tests/EcomDr.TestKit/bin/Release/net8.0'
. (Join-Path $root 'tests/Pester/TestKit.ps1')
Remove-Item $WorkDir -Recurse -Force -ErrorAction Ignore
New-Item -ItemType Directory $WorkDir | Out-Null

# Runs a bash command under GNU time; returns wall seconds and peak resident memory (MB) of the process tree's largest member.
function Measure-Command2([string] $Command) {
    $stats = Join-Path $WorkDir 'time.txt'
    & /usr/bin/time -f '%e %M' -o $stats bash -c $Command
    if ($LASTEXITCODE) { throw "failed: $Command" }
    $parts = (Get-Content $stats -Raw).Trim().Split(' ')
    [pscustomobject]@{ Seconds = [double]$parts[0]; PeakMB = [Math]::Round([double]$parts[1] / 1024, 0) }
}

$restoreThreadArgument = if ($RestoreThreads -gt 0) { "-ThreadCount $RestoreThreads" } else { '' }
$restoreConnections = if ($RestoreThreads -gt 0) { $RestoreThreads } else { [Math]::Max(4, [Environment]::ProcessorCount) }

# Restore targets run as production does: flush and sync at every commit, and MariaDB's default redo
# log (96 MiB; the test kit's 8 MiB, for quick starts, would checkpoint all through any bulk load).
$TargetArguments = [string[]]@('--innodb-buffer-pool-size=2G', '--innodb-flush-log-at-trx-commit=1', '--sync-binlog=1', '--innodb-log-file-size=96M')

# Run the module the way an installed pwsh does (the pwsh executable runs pwsh.dll): `dotnet pwsh`
# would add the dotnet CLI's tool lookup (about 0.4 s) to every EcomDr figure.
$pwsh = if (Get-Command pwsh -CommandType Application -ErrorAction Ignore) { 'pwsh' } else { "dotnet '$PSHOME/pwsh.dll'" }

# CPU seconds (user + system) the server process has used so far.
function Get-ServerCpu($server) {
    $fields = (Get-Content "/proc/$($server.ProcessId)/stat" -Raw).Split(') ', 2)[1].Split(' ')
    ([double]$fields[11] + [double]$fields[12]) / 100
}

# One large table: where chunking, not the number of tables, decides how busy the workers stay.
function Measure-OneTable {
    $one = Wait-Task ([EcomDr.TestKit.Servers.MariaDbServer]::StartAsync([EcomDr.TestKit.Servers.MariaDbOptions]@{ ExtraArguments = [string[]]@('--innodb-buffer-pool-size=2G') }))
    try {
        Wait-Task ($one.ExecuteAsync("CREATE DATABASE one; CREATE TABLE one.order_lines (id INT PRIMARY KEY, customer_id INT NOT NULL, sku VARCHAR(32) NOT NULL, qty INT NOT NULL, price DECIMAL(10,2) NOT NULL, note VARCHAR(100), created DATETIME NOT NULL, KEY (customer_id), KEY (sku)) ENGINE=InnoDB; INSERT INTO one.order_lines SELECT seq, seq % 50000, CONCAT('SKU-', seq % 7919), seq % 9 + 1, (seq % 10000) / 100, CONCAT(md5(seq), md5(seq * 7)), '2026-01-01' + INTERVAL (seq % 86400) SECOND FROM one.seq_1_to_$OneTableRows; ANALYZE TABLE one.order_lines", $null))
        $oneConn = "-h 127.0.0.1 -P $($one.Port) -u root"
        $key = Join-Path $WorkDir 'one.key'
        Set-Content (Join-Path $WorkDir 'one.ps1') @"
Import-Module '$($manifest.FullName)'
`$null = New-DrKey -Path '$key'
Invoke-MySqlFullBackup one -Server 127.0.0.1 -Port $($one.Port) -Credential ([pscredential]::new('root', (New-Object securestring))) -SslMode None -ThreadCount $Threads -Repository '$WorkDir/one-repo' -KeyFile '$key' -Verbose 4>&1 |
    Where-Object { `$_ -is [System.Management.Automation.VerboseRecord] } | Select-Object -Last 1 | ForEach-Object Message
"@
        $dump = 1..2 | ForEach-Object { Measure-Command2 "mariadb-dump --no-defaults $oneConn --single-transaction one | zstd -3 -T1 -q -f -o '$WorkDir/one.sql.zst'" } | Sort-Object Seconds | Select-Object -First 1
        $ours = 1..2 | ForEach-Object {
            Remove-Item "$WorkDir/one-repo", $key, "$key.pub.pem" -Recurse -Force -ErrorAction Ignore
            $m = Measure-Command2 "cd '$root' && $pwsh -NoProfile -File '$WorkDir/one.ps1' > '$WorkDir/one.txt'"
            $m | Add-Member Engine ([double]((Get-Content "$WorkDir/one.txt" -Raw) -replace '(?s).* in ([0-9.]+) s\..*', '$1')) -PassThru
        } | Sort-Object Seconds | Select-Object -First 1
        $chunks = (Get-Content "$WorkDir/one.txt" -Raw) -replace '(?s).*rows, (\d+) chunk.*', '$1'
        # Restores into fresh servers made durable as production is (flush and sync at every commit).
        $restores = [ordered]@{}
        foreach ($case in 'mariadb < dump.sql', 'Restore-MySqlDatabase', 'Restore-MySqlDatabase -FastTarget') {
            $target = Wait-Task ([EcomDr.TestKit.Servers.MariaDbServer]::StartAsync([EcomDr.TestKit.Servers.MariaDbOptions]@{ ServerId = 2; ExtraArguments = $TargetArguments }))
            try {
                $cpuBefore = Get-ServerCpu $target
                $restores[$case] = switch ($case) {
                    'mariadb < dump.sql' {
                        Wait-Task ($target.ExecuteAsync('CREATE DATABASE one', $null))
                        Measure-Command2 "zstd -dc '$WorkDir/one.sql.zst' | mariadb --no-defaults -h 127.0.0.1 -P $($target.Port) -u root one"
                    }
                    default {
                        $fast = if ($case -like '*FastTarget') { '-FastTarget' } else { '' }
                        Set-Content (Join-Path $WorkDir 'one-restore.ps1') @"
Import-Module '$($manifest.FullName)'
`$id = (Get-DrBackup mysql-full -Repository '$WorkDir/one-repo' -KeyFile '$key' -Latest).Id
`$null = Restore-MySqlDatabase `$id -TargetServer 127.0.0.1 -TargetPort $($target.Port) -TargetCredential ([pscredential]::new('root', (New-Object securestring))) -TargetSslMode None $restoreThreadArgument -Repository '$WorkDir/one-repo' -KeyFile '$key' -Force $fast
"@
                        Measure-Command2 "cd '$root' && $pwsh -NoProfile -File '$WorkDir/one-restore.ps1'"
                    }
                }
                $restores[$case] | Add-Member ServerCpu ([Math]::Round((Get-ServerCpu $target) - $cpuBefore, 1))
                if ([long](Wait-Task ($target.ScalarAsync('SELECT COUNT(*) FROM one.order_lines', $null))) -ne $OneTableRows) { throw "$case restored the wrong number of rows" }
            }
            finally { Wait-Task ($target.DisposeAsync().AsTask()) }
        }
        $restoreBase = $restores['mariadb < dump.sql'].Seconds
        $section = @"
<!-- mysql-onetable:begin -->
## MySQL backup: one large table

``dotnet pwsh ./bench/mysql.ps1 -OneTableOnly -OneTableRows $OneTableRows -Threads $Threads`` on $(Get-Date -Format 'yyyy-MM-dd'), $([Environment]::ProcessorCount) cores.

One InnoDB table of $('{0:N0}' -f $OneTableRows) rows with two secondary keys, made with ``seq_1_to_N`` (not the shop
generator), and no other table. Best of two runs each. EcomDr's time includes starting pwsh and importing
the module, as on the shop above; "engine" is the backup's own time as it reports it (JIT included).

| backup | seconds | vs mariadb-dump \| zstd | output | peak memory |
|---|---|---|---|---|
| mariadb-dump --single-transaction \| zstd -3 | $($dump.Seconds) | 1x | $([Math]::Round((Get-Item "$WorkDir/one.sql.zst").Length / 1MB, 0)) MiB | $($dump.PeakMB) MB |
| Invoke-MySqlFullBackup, $Threads threads ($chunks chunks) | $($ours.Seconds) (engine $($ours.Engine)) | $([Math]::Round($dump.Seconds / $ours.Seconds, 2))x (engine $([Math]::Round($dump.Seconds / $ours.Engine, 2))x) | $([Math]::Round((Get-ChildItem "$WorkDir/one-repo" -Recurse -File | Measure-Object Length -Sum).Sum / 1MB, 0)) MiB | $($ours.PeakMB) MB |

Restores into fresh servers that flush and sync at every commit (``innodb_flush_log_at_trx_commit=1``,
``sync_binlog=1``, as production runs) with MariaDB's default redo log (96 MiB), each checked by row count;
one run each, EcomDr's including pwsh's start, on $restoreConnections connections. Server CPU: the seconds the server process
used, user and system.

| restore | seconds | vs mariadb &lt; dump.sql | server CPU seconds | peak memory |
|---|---|---|---|---|
$(($restores.GetEnumerator() | ForEach-Object { "| $($_.Key.Replace('<', '&lt;')) | $($_.Value.Seconds) | $([Math]::Round($restoreBase / $_.Value.Seconds, 2))x | $($_.Value.ServerCpu) | $($_.Value.PeakMB) MB |" }) -join "`n")
<!-- mysql-onetable:end -->
"@
        $doc = Join-Path $root 'docs/benchmarks.md'
        $text = Get-Content $doc -Raw
        $text = if ($text -match '(?s)<!-- mysql-onetable:begin -->.*<!-- mysql-onetable:end -->') { $text -replace '(?s)<!-- mysql-onetable:begin -->.*<!-- mysql-onetable:end -->', $section.Replace('$', '$$') } else { $text.TrimEnd() + "`n`n" + $section + "`n" }
        Set-Content $doc $text -NoNewline
        Write-Host $section
    }
    finally { Wait-Task ($one.DisposeAsync().AsTask()) }
}

Measure-OneTable
if ($OneTableOnly) { Remove-Item $WorkDir -Recurse -Force; return }

$source = Wait-Task ([EcomDr.TestKit.Servers.MariaDbServer]::StartAsync([EcomDr.TestKit.Servers.MariaDbOptions]@{ ExtraArguments = [string[]]@('--innodb-buffer-pool-size=2G') }))
$servers = @($source)
try {
    $size = [EcomDr.TestKit.Shop.ShopSize]::FromMegabytes($ShopMB)
    $gen = [Diagnostics.Stopwatch]::StartNew()
    Wait-Task ([EcomDr.TestKit.Shop.ShopGenerator]::CreateAsync($source.RootConnectionString, 'ecommerce', $size, 1, $Threads))
    Wait-Task ($source.ExecuteAsync('ANALYZE TABLE ' + (([EcomDr.TestKit.Shop.ShopSchema]::Tables | ForEach-Object { "ecommerce.$_" }) -join ', '), $null))
    $rows = [long](Wait-Task ($source.ScalarAsync((([EcomDr.TestKit.Shop.ShopSchema]::Tables | ForEach-Object { "(SELECT COUNT(*) FROM ecommerce.$_)" }) -join ' + ').Insert(0, 'SELECT '), $null)))
    $dataMB = [Math]::Round([double](Wait-Task ($source.ScalarAsync("SELECT SUM(DATA_LENGTH + INDEX_LENGTH) / 1048576 FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'ecommerce'", $null))), 0)
    Write-Host "shop: $($size.Orders) orders, ~$rows rows, $dataMB MB on disk, generated in $([Math]::Round($gen.Elapsed.TotalSeconds)) s"
    $conn = "-h 127.0.0.1 -P $($source.Port) -u root"

    $results = [ordered]@{}
    $results['mariadb-dump | zstd -3'] = Measure-Command2 "mariadb-dump --no-defaults $conn --single-transaction --routines --triggers --events ecommerce | zstd -3 -T1 -q -o '$WorkDir/dump.sql.zst'"
    $results['mydumper (2 threads, compressed)'] = Measure-Command2 "mydumper -h 127.0.0.1 -P $($source.Port) -u root -B ecommerce -t $Threads -c -o '$WorkDir/mydumper' --trx-consistency-only -R -G -E"
    $key = Join-Path $WorkDir 'bench.key'
    $script = @"
Import-Module '$($manifest.FullName)'
`$null = New-DrKey -Path '$key'
`$b = Invoke-MySqlFullBackup ecommerce -Server 127.0.0.1 -Port $($source.Port) -Credential ([pscredential]::new('root', (New-Object securestring))) -SslMode None -ThreadCount $Threads -Repository '$WorkDir/repo' -KeyFile '$key'
`$b.Id | Set-Content '$WorkDir/backup-id.txt'
"@
    Set-Content (Join-Path $WorkDir 'backup.ps1') $script
    $results['Invoke-MySqlFullBackup (zstd + AES-256-GCM + SHA-256)'] = Measure-Command2 "cd '$root' && $pwsh -NoProfile -File '$WorkDir/backup.ps1'"

    $restores = [ordered]@{}
    foreach ($case in 'mariadb < dump.sql', 'myloader (2 threads)', 'Restore-MySqlDatabase', 'Restore-MySqlDatabase -FastTarget') {
        $target = Wait-Task ([EcomDr.TestKit.Servers.MariaDbServer]::StartAsync([EcomDr.TestKit.Servers.MariaDbOptions]@{ ServerId = 2; ExtraArguments = $TargetArguments }))
        $servers += $target
        $tconn = "-h 127.0.0.1 -P $($target.Port) -u root"
        Wait-Task ($target.ExecuteAsync('CREATE DATABASE ecommerce', $null))
        $restores[$case] = switch ($case) {
            'mariadb < dump.sql' { Measure-Command2 "zstd -dc '$WorkDir/dump.sql.zst' | mariadb --no-defaults $tconn ecommerce" }
            'myloader (2 threads)' { Measure-Command2 "myloader -h 127.0.0.1 -P $($target.Port) -u root -d '$WorkDir/mydumper' -B ecommerce -t $Threads -o" }
            default {
                $id = (Get-Content "$WorkDir/backup-id.txt").Trim()
                $fast = if ($case -like '*FastTarget') { '-FastTarget' } else { '' }
                Set-Content (Join-Path $WorkDir 'restore.ps1') @"
Import-Module '$($manifest.FullName)'
Restore-MySqlDatabase $id -TargetServer 127.0.0.1 -TargetPort $($target.Port) -TargetCredential ([pscredential]::new('root', (New-Object securestring))) -TargetSslMode None $restoreThreadArgument -Repository '$WorkDir/repo' -KeyFile '$key' -Force $fast | Out-Null
"@
                Measure-Command2 "cd '$root' && $pwsh -NoProfile -File '$WorkDir/restore.ps1'"
            }
        }
        $restored = [long](Wait-Task ($target.ScalarAsync('SELECT COUNT(*) FROM ecommerce.order_items', $null)))
        $expected = [long](Wait-Task ($source.ScalarAsync('SELECT COUNT(*) FROM ecommerce.order_items', $null)))
        if ($restored -ne $expected) { throw "$case restored $restored of $expected order_items" }
        Wait-Task ($target.DisposeAsync().AsTask())
    }
}
finally {
    foreach ($s in $servers) { try { Wait-Task ($s.DisposeAsync().AsTask()) } catch { } }
}

$sizes = @{
    'mariadb-dump | zstd -3' = (Get-Item "$WorkDir/dump.sql.zst").Length
    'mydumper (2 threads, compressed)' = (Get-ChildItem "$WorkDir/mydumper" -Recurse -File | Measure-Object Length -Sum).Sum
    'Invoke-MySqlFullBackup (zstd + AES-256-GCM + SHA-256)' = (Get-ChildItem "$WorkDir/repo" -Recurse -File | Measure-Object Length -Sum).Sum
}
$base = $results['mariadb-dump | zstd -3'].Seconds
$restoreBase = $restores['mariadb < dump.sql'].Seconds
$cpu = ((Get-Content /proc/cpuinfo | Where-Object { $_ -like 'model name*' } | Select-Object -First 1) -split ':', 2)[1].Trim()
$section = @"
<!-- mysql:begin -->
## MySQL backup and restore

``dotnet pwsh ./bench/mysql.ps1 -ShopMB $ShopMB -Threads $Threads`` on $(Get-Date -Format 'yyyy-MM-dd'), $([Environment]::ProcessorCount) cores ($cpu),
MariaDB $(& mariadbd --version | Select-String -Pattern '\d+\.\d+\.\d+' | ForEach-Object { $_.Matches[0].Value }), $(& mydumper --version 2>&1 | Select-Object -First 1).
The sample shop: $($size.Orders) orders, about $rows rows, $dataMB MB in InnoDB (data + indexes).
Every tool reads the same server in the same run; each restore goes into a fresh MariaDB instance
(binlog on, flush and sync at every commit, MariaDB's default 96 MiB redo log) and is checked by row count;
Restore-MySqlDatabase loads on $restoreConnections connections. EcomDr's figures include starting pwsh (pwsh.dll run directly,
as an installed pwsh runs it) and importing the module. Peak memory is the largest process's resident set.

| backup | seconds | vs mariadb-dump \| zstd | rows/s | output | peak memory |
|---|---|---|---|---|---|
$(($results.GetEnumerator() | ForEach-Object { "| $($_.Key.Replace('|', '\|')) | $($_.Value.Seconds) | $([Math]::Round($base / $_.Value.Seconds, 2))x | $([Math]::Round($rows / $_.Value.Seconds, 0)) | $([Math]::Round($sizes[$_.Key] / 1MB, 0)) MiB | $($_.Value.PeakMB) MB |" }) -join "`n")

| restore | seconds | vs mariadb < dump.sql | rows/s | peak memory |
|---|---|---|---|---|
$(($restores.GetEnumerator() | ForEach-Object { "| $($_.Key.Replace('<', '&lt;')) | $($_.Value.Seconds) | $([Math]::Round($restoreBase / $_.Value.Seconds, 2))x | $([Math]::Round($rows / $_.Value.Seconds, 0)) | $($_.Value.PeakMB) MB |" }) -join "`n")

RTO estimate for the full-restore phase on this machine (Restore-MySqlDatabase, downloading and restoring in one stream):
about $([Math]::Round($restores['Restore-MySqlDatabase'].Seconds / ($sizes['Invoke-MySqlFullBackup (zstd + AES-256-GCM + SHA-256)'] / 1GB) / 60, 1)) minutes per GiB of stored full backup, or $([Math]::Round($restores['Restore-MySqlDatabase'].Seconds / ($dataMB / 1024) / 60, 1)) minutes per GiB of InnoDB data.
<!-- mysql:end -->
"@
$doc = Join-Path $root 'docs/benchmarks.md'
$text = Get-Content $doc -Raw
$text = if ($text -match '(?s)<!-- mysql:begin -->.*<!-- mysql:end -->') { $text -replace '(?s)<!-- mysql:begin -->.*<!-- mysql:end -->', $section.Replace('$', '$$') } else { $text.TrimEnd() + "`n`n" + $section + "`n" }
Set-Content $doc $text -NoNewline
Write-Host $section
Remove-Item $WorkDir -Recurse -Force
