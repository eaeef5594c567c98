<#
.SYNOPSIS
    The EcomDr demo on embedded defaults: a sandbox MariaDB holding the sample shop, checked by
    Test-DrPrerequisite as a new backup user would meet it, then backups, binlog shipping, the
    logical-deletion story (find, point-in-time restore, validate, swap) and a drill with its report.
#>
#requires -Version 7.4
[CmdletBinding()]
param(
    [Parameter(Mandatory)] [string] $ModuleManifest,
    [Parameter(Mandatory)] [string] $TestKitFolder,
    [double] $ShopMegabytes = 5
)
$ErrorActionPreference = 'Stop'
$env:ECOMDR_TESTKIT_FOLDER = $TestKitFolder
. (Join-Path $PSScriptRoot '../tests/Pester/TestKit.ps1')

function Write-Title([string] $Text) { Write-Host "`n### $Text" -ForegroundColor Green }

Write-Title 'Starting a sandbox MariaDB 10.11 (binlog on, ROW, GTID) on a free loopback port'
$server = Wait-Task ([EcomDr.TestKit.Servers.MariaDbServer]::StartAsync())
$shopApp = [EcomDr.TestKit.Shop.ShopApp]::Start()
try {
    Write-Host "sandbox: 127.0.0.1:$($server.Port) (pid $($server.ProcessId), data in $($server.DataDirectory))"

    Write-Title "Generating the sample shop (~$ShopMegabytes MB: customers, products, orders, payments, refunds)"
    $clock = [Diagnostics.Stopwatch]::StartNew()
    Wait-Task ([EcomDr.TestKit.Shop.ShopGenerator]::CreateAsync($server.RootConnectionString, 'ecommerce',
            [EcomDr.TestKit.Shop.ShopSize]::FromMegabytes($ShopMegabytes), 42, 2))
    $counts = Wait-Task ([EcomDr.TestKit.Shop.ShopInspector]::ChecksumsAsync($server.RootConnectionString, 'ecommerce'))
    $counts.GetEnumerator() | ForEach-Object { [pscustomobject]@{ Table = $_.Key; Rows = [long]($_.Value -split ':')[0] } } | Format-Table -AutoSize | Out-Host
    Write-Host ("generated in {0:0.0} s; invariants: {1}" -f $clock.Elapsed.TotalSeconds,
        $(if ((Wait-Task ([EcomDr.TestKit.Shop.ShopInspector]::VerifyInvariantsAsync($server.RootConnectionString, 'ecommerce'))).Count -eq 0) { 'all hold' } else { 'BROKEN' }))

    Import-Module $ModuleManifest
    $password = [Convert]::ToBase64String([Security.Cryptography.RandomNumberGenerator]::GetBytes(18))

    Write-Title 'A backup user created with a forgotten REPLICATION SLAVE grant: Test-DrPrerequisite says what is wrong'
    Wait-Task ($server.CreateUserAsync('ecomdr_backup', $password, [string[]]@('SELECT, RELOAD, LOCK TABLES, REPLICATION CLIENT, SHOW VIEW, EVENT, TRIGGER ON *.*')))
    $credential = [pscredential]::new('ecomdr_backup', (ConvertTo-SecureString $password -AsPlainText -Force))
    $results = Test-DrPrerequisite -Server 127.0.0.1 -Port $server.Port -Credential $credential -SslMode None -Schema ecommerce
    $results | Where-Object Status -ne Pass | Format-List Check, Status, Observed, Remediation | Out-Host

    Write-Title 'After applying the remediation, checked through a configuration file (password from an environment variable)'
    Wait-Task ($server.ExecuteAsync("GRANT REPLICATION SLAVE ON *.* TO 'ecomdr_backup'@'127.0.0.1'", $null))
    $configDir = Join-Path ([IO.Path]::GetTempPath()) "ecomdr-demo-$([guid]::NewGuid().ToString('N'))"
    New-Item -ItemType Directory $configDir | Out-Null
    $env:ECOMDR_DEMO_MYSQL_PASSWORD = $password
    @{
        schemaVersion = 1
        environments  = @{
            sandbox = @{
                mysql        = @{ server = '127.0.0.1'; port = $server.Port; sslMode = 'None'; schemas = @('ecommerce')
                                  credential = @{ user = 'ecomdr_backup'; passwordEnv = 'ECOMDR_DEMO_MYSQL_PASSWORD' } }
                repositories = @{ primary = @{ type = 'filesystem'; path = 'repository' }; offsite = @{ type = 'filesystem'; path = 'offsite' } }
                keys         = @(@{ type = 'localFile'; path = 'keys/sandbox.key' })
                objectives   = @{ rtoMinutes = 60; rpoMinutes = 15 }
                schedules    = @{ binlogShipIntervalMinutes = 5 }
                drill        = @{
                    alembicHead = [EcomDr.TestKit.Shop.ShopSchema]::AlembicRevision
                    # a stand-in for the shop's API, answering from the database a drill restored
                    probes      = @(
                        @{ name = 'healthz'; url = "$($shopApp.BaseUrl)/healthz?host={host}&port={port}&schema={schema}"; expectBody = '"status":"ok"' }
                        @{ name = 'checkout'; url = "$($shopApp.BaseUrl)/api/checkout?host={host}&port={port}&schema={schema}&dry_run=1"; method = 'POST'; expectBody = '"ok":true' }
                    )
                }
            }
        }
    } | ConvertTo-Json -Depth 8 | Set-Content (Join-Path $configDir 'ecomdr.json')
    $config = Join-Path $configDir 'ecomdr.json'
    # The key is a prerequisite too (Test-DrPrerequisite checks it): it comes first.
    Write-Title 'A key for the environment: wraps every data key and signs every manifest'
    New-DrKey -Config $config | Format-List Kind, KeyId, SigningKeyId, Path, PublicKeyPath | Out-Host

    Write-Title 'Every prerequisite of the environment, through its configuration'
    $results = Test-DrPrerequisite -Config $config
    $results | Out-String -Width 160 | Out-Host
    $failed = @($results | Where-Object Status -eq Fail)
    if ($failed) { throw "$($failed.Count) prerequisite check(s) failed" }

    Write-Title 'Backing up the docs (ADRs, runbooks) as an encrypted, signed artifact, then copying it offsite'
    $docs = Join-Path $PSScriptRoot '../docs'
    $backup = Backup-DrFile -Path $docs -Kind docs -Config $config -Label @{ demo = 'yes' }
    $backup | Copy-DrBackup -Config $config -Destination offsite | Out-Null
    Get-DrBackup -Config $config | Out-String -Width 160 | Out-Host
    Get-DrBackup -Config $config -Store offsite | Test-BackupIntegrity -Config $config -Deep | Out-String -Width 160 | Out-Host

    Write-Title 'Someone flips one bit of the offsite copy: the integrity check names the artifact'
    $artifact = Get-ChildItem (Join-Path $configDir 'offsite') -Recurse -Filter '*.edr' | Select-Object -First 1
    $bytes = [IO.File]::ReadAllBytes($artifact.FullName)
    $bytes[$bytes.Length / 2] = $bytes[$bytes.Length / 2] -bxor 0x20
    [IO.File]::WriteAllBytes($artifact.FullName, $bytes)
    $report = Get-DrBackup -Config $config -Store offsite | Test-BackupIntegrity -Config $config -ErrorVariable damage -ErrorAction SilentlyContinue
    Write-Host ("offsite: {0}; {1}" -f $report.Status, $damage[0].Exception.Message) -ForegroundColor Yellow
    $null = $backup | Copy-DrBackup -Config $config -Destination offsite
    Write-Host ("after copying again: {0}" -f (Test-BackupIntegrity $backup.Id -Config $config -Store offsite -Deep).Status)

    Write-Title 'And back to plain files, without lock-in: expand, then the stock tar'
    $out = Join-Path $configDir 'restored'
    $tar = $backup | Expand-DrArtifact -Config $config -Destination $out
    & tar -xf $tar.FullName -C $out
    $same = @(Get-ChildItem $docs -Recurse -File | Where-Object {
            (Get-FileHash $_.FullName).Hash -ne (Get-FileHash (Join-Path $out ('docs/' + [IO.Path]::GetRelativePath($docs, $_.FullName)))).Hash }).Count -eq 0
    Write-Host "$(@(Get-ChildItem $docs -Recurse -File).Count) files restored, identical: $same"
    if (-not $same) { exit 1 }

    Write-Title 'A consistent full backup of the shop while it takes orders, with the exact binlog position of its snapshot'
    $workload = [EcomDr.TestKit.Shop.ShopWorkload]::Start($server.RootConnectionString, 'ecommerce', 3, 150, 7)
    try {
        Start-Sleep -Milliseconds 500
        $full = Invoke-MySqlFullBackup -Config $config -ThreadCount 2 -ChunkRows 2000 -Verbose 4>&1 |
            ForEach-Object { if ($_ -is [System.Management.Automation.VerboseRecord]) { Write-Host "  $($_.Message)" -ForegroundColor DarkGray } else { $_ } }
    }
    finally { Wait-Task ($workload.StopAsync()) }
    Write-Host "orders placed during the backup run: $($workload.OrdersPlaced); workload errors: $($workload.Errors.Count)"
    $full | Out-String -Width 160 | Out-Host

    Write-Title 'The logical-deletion runbook: restore beside the live schema as ecommerce_restore'
    $admin = [pscredential]::new('root', (New-Object securestring))
    $restored = $full | Restore-MySqlDatabase -Config $config -TargetServer 127.0.0.1 -TargetPort $server.Port -TargetCredential $admin -TargetSslMode None -TargetSchema ecommerce_restore -Force
    $restored | Out-String -Width 160 | Out-Host
    $violations = Wait-Task ([EcomDr.TestKit.Shop.ShopInspector]::VerifyInvariantsAsync($server.RootConnectionString, 'ecommerce_restore'))
    $restoredOrders = Wait-Task ($server.ScalarAsync('SELECT COUNT(*) FROM ecommerce_restore.orders', $null))
    $liveOrders = Wait-Task ($server.ScalarAsync('SELECT COUNT(*) FROM ecommerce.orders', $null))
    Write-Host "restored ecommerce_restore: $restoredOrders orders (live: $liveOrders, still growing after the snapshot); invariants of the restored copy: $(if ($violations.Count -eq 0) { 'all hold, one consistent moment' } else { $violations -join '; ' })"
    if ($violations.Count -gt 0) { exit 1 }

    Write-Title 'Binlog shipping: Send-Binlog pulls the binlog as a replica would, while the shop keeps taking orders'
    $workload = [EcomDr.TestKit.Shop.ShopWorkload]::Start($server.RootConnectionString, 'ecommerce', 2, 100, 8)
    $segments = @()
    try {
        Start-Sleep -Seconds 1
        $segments += @(Send-Binlog -Config $config -Rotate)      # closes the current file first: it is shipped whole
        Start-Sleep -Seconds 1
        $segments += @(Send-Binlog -Config $config)              # what a schedule every few minutes does
    }
    finally { Wait-Task ($workload.StopAsync()) }
    $segments += @(Send-Binlog -Config $config)
    $segments | Format-Table Sequence, File, StartOffset, EndOffset, Partial, Transactions, LastGtid -AutoSize | Out-Host
    $closed = $segments | Where-Object { -not $_.Partial } | Select-Object -First 1
    $pieces = @(Get-BinlogChain $closed.File -Config $config)
    $shipped = Join-Path $configDir 'shipped'
    $bytes = [System.IO.MemoryStream]::new()
    foreach ($piece in $pieces) {
        $name = $piece.Backup.Manifest.Artifacts[0].Name
        $null = Expand-DrArtifact $piece.Id -Config $config -Artifact $name -Destination $shipped
        $chunk = [IO.File]::ReadAllBytes((Join-Path $shipped $name)); $bytes.Write($chunk, 0, $chunk.Length)
    }
    $identical = [Linq.Enumerable]::SequenceEqual([byte[]]$bytes.ToArray(), [IO.File]::ReadAllBytes((Join-Path $server.DataDirectory $closed.File)))
    Write-Host "$($closed.File): $($pieces.Count) segment(s), $($bytes.Length) bytes, byte-identical to the server's file: $identical"
    $full | Test-BinlogChain -Config $config | Format-List Status, From, Segments, ShippedTo, NewestEventTime, LastGtid | Out-Host
    Get-DrRpoStatus -Config $config -CheckServer | Format-List ExposureSeconds, CaughtUp, ShippedTo, ServerPosition, ObjectiveSeconds, WithinObjective | Out-Host
    if (-not $identical) { exit 1 }

    Write-Title 'The logical-deletion story: a mistaken purge found in the binlog, undone beside the live schema, validated, swapped in'
    $before = Wait-Task ([EcomDr.TestKit.Shop.ShopInspector]::ChecksumsAsync($server.RootConnectionString, 'ecommerce'))
    $beforeGtid = [string](Wait-Task ($server.ScalarAsync('SELECT @@gtid_binlog_pos', $null)))
    $beforeTime = [DateTimeOffset]::UtcNow
    # Only for the demo: a copy of the shop right before the mistake (kept out of the binlog), the reference Test-MySqlRestore compares with.
    Wait-Task ([EcomDr.TestKit.Shop.ShopMistakes]::CopyOutsideBinlogAsync($server.RootConnectionString, 'ecommerce', 'ecommerce_reference'))
    Wait-Task ([EcomDr.TestKit.Shop.ShopMistakes]::PurgeOrdersAsync($server.RootConnectionString, 'ecommerce', 40))
    Write-Host 'the mistake: a purge of orders 1-40 (refunds, payments, history, items, orders), run against production by accident; the shop keeps taking orders'
    $workload = [EcomDr.TestKit.Shop.ShopWorkload]::Start($server.RootConnectionString, 'ecommerce', 2, 100, 9)
    Start-Sleep -Seconds 1
    Wait-Task ($workload.StopAsync())
    $null = Send-Binlog -Config $config
    Write-Host 'Find-BinlogEvent orders -Operation Delete:'
    $found = @(Find-BinlogEvent orders -Config $config -Operation Delete)
    $found | Out-String -Width 160 | Out-Host
    $pitr = $found | Restore-MySqlPitr -Config $config -TargetSchema ecommerce_pitr -TargetServer 127.0.0.1 -TargetPort $server.Port -TargetCredential $admin -TargetSslMode None -Force
    $pitr | Out-String -Width 160 | Out-Host
    $after = Wait-Task ([EcomDr.TestKit.Shop.ShopInspector]::ChecksumsAsync($server.RootConnectionString, 'ecommerce_pitr'))
    $exact = @($before.Keys | Where-Object { $before[$_] -ne $after[$_] }).Count -eq 0 -and $pitr.LastGtid -eq $beforeGtid
    Write-Host "ecommerce_pitr equals the shop right before the DELETE (every table's checksum, last GTID $($pitr.LastGtid)): $exact"
    $dba = @{ Server = '127.0.0.1'; Port = $server.Port; Credential = $admin; SslMode = 'None' }   # the DBA, not the backup user
    $report = Test-MySqlRestore ecommerce_pitr @dba -Config $config -ReferenceSchema ecommerce_reference -AlembicHead ([EcomDr.TestKit.Shop.ShopSchema]::AlembicRevision)
    $report | Out-String -Width 160 | Out-Host
    if (-not $report.Passed) { exit 1 }
    $swap = Switch-MySqlSchema -From ecommerce_pitr -To ecommerce @dba -Config $config -Force -InformationAction Continue
    $live = Wait-Task ([EcomDr.TestKit.Shop.ShopInspector]::ChecksumsAsync($server.RootConnectionString, 'ecommerce'))
    $swapped = @($before.Keys | Where-Object { $before[$_] -ne $live[$_] }).Count -eq 0
    Write-Host "ecommerce is live again as before the purge; the purged tables are kept in $($swap.PreviousSchema): $swapped"
    $exact = $exact -and $swapped
    if (-not $exact) { exit 1 }

    Write-Title 'The monthly drill: PITR to right before the purge, into a sandbox server, validated and probed; RTO and RPO measured'
    $report = Start-DrDrill Pitr -Sandbox -Config $config -ReferencePoint $beforeTime
    $report | Format-List Verdict, RtoSeconds, RtoObjectiveSeconds, RpoSeconds, RpoObjectiveSeconds, BackupId, Segments, RestoredTo | Out-Host
    $report.Phases | Format-Table Name, Seconds -AutoSize | Out-Host
    $report.Checks | Format-Table @{ n = 'Result'; e = { if ($_.Passed) { 'PASS' } else { 'FAIL' } } }, Name, Evidence -Wrap | Out-String -Width 160 | Out-Host
    $reports = Join-Path $PSScriptRoot '../out/demo'
    New-Item -ItemType Directory $reports -Force | Out-Null
    $file = $report | Export-DrDrillReport (Join-Path $reports 'drill-pitr.md')
    $null = $report | Export-DrDrillReport (Join-Path $reports 'drill-pitr.html') -Format Html
    Remove-Item $configDir -Recurse -Force
    if (-not $report.Passed) { exit 1 }
    Write-Title 'Demo finished: prerequisites pass; backups are consistent, encrypted, signed, copied offsite, verified and restorable beside the live schema; the binlog is shipped byte for byte, searched, and replayed exact to the transaction; the restore is validated and swapped in; the drill proves the RTO and RPO'
    Write-Host "The drill report: $([IO.Path]::GetFullPath($file.FullName)) (and drill-pitr.html beside it)"
}
finally {
    Remove-Item env:ECOMDR_DEMO_MYSQL_PASSWORD -ErrorAction Ignore
    Wait-Task ($shopApp.DisposeAsync().AsTask())
    Wait-Task ($server.DisposeAsync().AsTask())
}
