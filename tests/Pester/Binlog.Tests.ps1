# Send-Binlog, Get-BinlogChain, Test-BinlogChain and Get-DrRpoStatus against a real MariaDB: the
# archive is compared byte for byte with the server's own binlog files, also after kill -9 of the shipper.
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestKit.ps1')
    Import-Module $env:ECOMDR_MODULE_MANIFEST -Force
    $script:Server = Wait-Task ([EcomDr.TestKit.Servers.MariaDbServer]::StartAsync())
    Wait-Task ([EcomDr.TestKit.Shop.ShopGenerator]::CreateAsync($Server.RootConnectionString, 'ecommerce', [EcomDr.TestKit.Shop.ShopSize]::new(200, 30, 800), 4, 2))
    Wait-Task ($Server.CreateUserAsync('shipper', 'Sh!pw-789', [string[]]@('SELECT, RELOAD, LOCK TABLES, REPLICATION CLIENT, REPLICATION SLAVE, SHOW VIEW, EVENT, TRIGGER ON *.*')))
    $script:Root = Join-Path ([IO.Path]::GetTempPath()) "ecomdr-pester-binlog-$([guid]::NewGuid().ToString('N'))"
    New-Item -ItemType Directory $Root | Out-Null
    $env:ECOMDR_PESTER_SHIP_PW = 'Sh!pw-789'
    $script:Config = Join-Path $Root 'ecomdr.json'
    @{
        schemaVersion = 1
        environments  = @{
            prod = @{
                mysql        = @{ server = '127.0.0.1'; port = $Server.Port; sslMode = 'None'; schemas = @('ecommerce'); replicaServerId = 777; credential = @{ user = 'shipper'; passwordEnv = 'ECOMDR_PESTER_SHIP_PW' } }
                repositories = @{ primary = @{ type = 'filesystem'; path = 'repo' } }
                keys         = @(@{ type = 'localFile'; path = 'prod.key' })
            }
        }
    } | ConvertTo-Json -Depth 6 | Set-Content $Config

    $null = New-DrKey -Config $Config

    # Every shipped file, decrypted and its segments concatenated, must equal the server's file. The
    # server marks the file it is writing "in use" (a flag in its first event) until it closes it, and
    # never sends that flag: so the active file is closed first (FLUSH BINARY LOGS), and a file whose
    # last shipped segment is partial is compared with the same-length start of the server's file.
    function Assert-ArchiveMatchesServer([int] $AtLeastFiles) {
        Wait-Task ($Server.ExecuteAsync('FLUSH BINARY LOGS', $null))
        $segments = @(Get-BinlogChain -Config $Config)
        $out = Join-Path $Root "expand-$([guid]::NewGuid().ToString('N'))"
        $files = [ordered]@{}
        $partial = @{}
        foreach ($s in $segments) {
            $artifact = $s.Backup.Manifest.Artifacts[0]
            $null = Expand-DrArtifact $s.Id -Config $Config -Artifact $artifact.Name -Destination $out
            if (-not $files.Contains($s.File)) { $files[$s.File] = [System.IO.MemoryStream]::new() }
            $files[$s.File].Length | Should -Be $s.StartOffset
            $bytes = [IO.File]::ReadAllBytes((Join-Path $out $artifact.Name))
            $files[$s.File].Write($bytes, 0, $bytes.Length)
            $partial[$s.File] = $s.Partial
        }

        @($files.Keys | Where-Object { -not $partial[$_] }).Count | Should -BeGreaterOrEqual $AtLeastFiles
        foreach ($name in $files.Keys) {
            $serverFile = Join-Path $Server.DataDirectory $name
            $shipped = Join-Path $out "$name.shipped"
            [IO.File]::WriteAllBytes($shipped, $files[$name].ToArray())
            if ($partial[$name]) { & cmp -n $files[$name].Length $serverFile $shipped } else { & cmp $serverFile $shipped }
            $LASTEXITCODE | Should -Be 0 -Because "$name must be byte-identical to the server's file"
        }

        Remove-Item $out -Recurse -Force
        $segments.Sequence | Should -Be (1..$segments.Count) -Because 'a chain has no holes and no duplicates'
    }

    # MariaDB keeps a binlog until InnoDB made its transactions durable: retry the purge until it happened.
    function Invoke-Purge([string] $Keep, [string] $Gone) {
        foreach ($i in 1..50) {
            if (-not (Test-Path (Join-Path $Server.DataDirectory $Gone))) { break }
            Wait-Task ($Server.ExecuteAsync("FLUSH ENGINE LOGS; PURGE BINARY LOGS TO '$Keep'", $null))
            Start-Sleep -Milliseconds 100
        }
        Test-Path (Join-Path $Server.DataDirectory $Gone) | Should -BeFalse
    }
}

AfterAll {
    Remove-Item env:ECOMDR_PESTER_SHIP_PW -ErrorAction Ignore
    if ($Server) { Wait-Task ($Server.DisposeAsync().AsTask()) }
    Remove-Item $Root -Recurse -Force -ErrorAction Ignore
}

Describe 'Send-Binlog' {
    It 'ships the binlog byte-identical, and a full backup is covered by the chain' {
        $full = Invoke-MySqlFullBackup -Config $Config
        $segments = @(Send-Binlog -Config $Config -Rotate)
        Wait-Task ($Server.WaitForQuietBinlogAsync())   # the new file's BINLOG_CHECKPOINT event comes a moment after the rotation
        $segments += @(Send-Binlog -Config $Config)
        $segments.Count | Should -BeGreaterThan 0
        $segments[0].GetType().FullName | Should -Be 'EcomDr.Engine.Sources.MySql.Binlog.BinlogSegment' 
        $segments[0].StartOffset | Should -Be 0
        Wait-Task ($Server.ExecuteAsync("INSERT INTO ecommerce.alembic_version VALUES ('rev-after-backup')", $null))
        $more = @(Send-Binlog -Config $Config)
        $more.Count | Should -Be 1
        $more[0].Partial | Should -BeTrue
        $more[0].Transactions | Should -Be 1
        $more[0].LastGtid | Should -Be ([string](Wait-Task ($Server.ScalarAsync('SELECT @@gtid_binlog_pos', $null))))
        @(Send-Binlog -Config $Config).Count | Should -Be 0 -Because 'nothing new was written'

        $report = $full | Test-BinlogChain -Config $Config
        $report.Status | Should -Be 'Passed'
        $report.Segments | Should -BeGreaterThan 0
        $report.LastGtid | Should -Be $more[0].LastGtid
        Assert-ArchiveMatchesServer -AtLeastFiles 1
    }

    It 'shows the plan under -WhatIf and ships nothing' {
        Wait-Task ($Server.ExecuteAsync("INSERT INTO ecommerce.alembic_version VALUES ('rev-whatif')", $null))
        $before = @(Get-BinlogChain -Config $Config).Count
        Send-Binlog -Config $Config -WhatIf
        @(Get-BinlogChain -Config $Config).Count | Should -Be $before
    }

    It 'keeps the archive byte-identical and gap-free when the follower is killed (kill -9) 10 times, every other one with a segment in flight' {
        $workload = [EcomDr.TestKit.Shop.ShopWorkload]::Start($Server.RootConnectionString, 'ecommerce', 2, 80, 11)
        try {
            $rng = [Random]::new(2026)
            $script = "Import-Module '$env:ECOMDR_MODULE_MANIFEST'; Send-Binlog -Config '$Config' -Follow -MaxLag 1 -MaxSegmentMB 1 | Out-Null"
            foreach ($round in 1..10) {
                $env:ECOMDR_PESTER_SHIP_PW = 'Sh!pw-789'
                $child = Start-Process dotnet -ArgumentList @('pwsh', '-NoProfile', '-NonInteractive', '-Command', $script) -PassThru -WorkingDirectory $PSScriptRoot
                if ($round % 2 -eq 0) {
                    # Every other kill waits for the state it is after: a segment in flight (an upload not yet renamed into place).
                    $deadline = [DateTime]::UtcNow.AddSeconds(60)
                    while (-not (Get-ChildItem (Join-Path $Root 'repo/prod/mysql-binlog') -Recurse -Force -Filter '*.partial' -ErrorAction Ignore) -and
                        [DateTime]::UtcNow -lt $deadline -and -not $child.HasExited) { Start-Sleep -Milliseconds 20 }
                }
                else { Start-Sleep -Milliseconds (1500 + $rng.Next(2500)) }
                if ($round % 4 -eq 0) { Wait-Task ($Server.ExecuteAsync('FLUSH BINARY LOGS', $null)) }
                # `dotnet pwsh` runs pwsh as a child of the dotnet host: kill the whole tree, as a crash would, until
                # no process of it is left (a child spawned while the tree was being listed would otherwise survive,
                # hold the lock and keep the test run's output open).
                do {
                    $tree = @($child.Id)
                    for ($i = 0; $i -lt $tree.Count; $i++) { $tree += @(& pgrep -P $tree[$i] | ForEach-Object { [int]$_ }) }
                    & kill -9 @tree 2>$null
                    & pkill -9 -f -- $Config 2>$null
                } while (& pgrep -f -- $Config)
                $child.WaitForExit()
            }
        }
        finally { Wait-Task ($workload.StopAsync()) }
        $workload.Errors | Should -BeNullOrEmpty

        $final = @(Send-Binlog -Config $Config -Rotate)
        $final.Count | Should -BeGreaterThan 0
        @(Get-DrBackup mysql-binlog -Config $Config -IncludeIncomplete | Where-Object Status -ne Complete).Count | Should -BeGreaterThan 0 -Because 'some kills hit a segment in flight'
        Assert-ArchiveMatchesServer -AtLeastFiles 4
        (Test-BinlogChain -Config $Config).Status | Should -Be 'Passed'
    }

    It 'puts the server''s binlog files back together in one command, byte-identical, and refuses a file with a hole' {
        Wait-Task ($Server.ExecuteAsync('FLUSH BINARY LOGS', $null))
        $null = Send-Binlog -Config $Config
        $segments = @(Get-BinlogChain -Config $Config)
        $out = Join-Path $Root "binlogs-$([guid]::NewGuid().ToString('N'))"
        $files = @($segments | Expand-DrBinlog $out -Config $Config -WarningAction SilentlyContinue)
        # The server flags the file it writes "in use" until it closes it: close it, so a partial file is a prefix of the server's.
        Wait-Task ($Server.ExecuteAsync('FLUSH BINARY LOGS', $null))
        $files.File | Should -Be @($segments.File | Select-Object -Unique)
        $closed = @($files | Where-Object { -not $_.Partial })
        $closed.Count | Should -BeGreaterThan 1 -Because 'the follower test shipped several files in many segments'
        foreach ($f in $files) {
            $f.Path | Should -Be (Join-Path $out $f.File)
            if ($f.Partial) { & cmp -n $f.Bytes (Join-Path $Server.DataDirectory $f.File) $f.Path } else { & cmp (Join-Path $Server.DataDirectory $f.File) $f.Path }
            $LASTEXITCODE | Should -Be 0 -Because "$($f.File) must be the server's bytes"
        }

        # The stock tool reads them as the server's own.
        & mariadb-binlog --short-form $closed[0].Path > $null
        $LASTEXITCODE | Should -Be 0

        # A file missing its first segment: refused, nothing written.
        $several = $segments | Group-Object File | Where-Object Count -gt 1 | Select-Object -First 1
        $several | Should -Not -BeNullOrEmpty -Because 'the follower test cut files into several segments'
        $holed = Join-Path $Root "holed-$([guid]::NewGuid().ToString('N'))"
        { $several.Group | Select-Object -Skip 1 | Expand-DrBinlog $holed -Config $Config } | Should -Throw -ErrorId 'EcomDr.BinlogGap,*'
        Test-Path $holed | Should -BeFalse
        Remove-Item $out -Recurse -Force
    }

    It 'completes binlog file names on Tab from the shipped segments, newest first' {
        $line = "Get-BinlogChain -Config '$Config' "
        $matches = (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches
        $shipped = @(Get-BinlogChain -Config $Config -All | Sort-Object Completed -Descending | Select-Object -ExpandProperty File -Unique)
        $matches.CompletionText | Should -Be $shipped
        $matches[0].ToolTip | Should -Match '^\d+ segment\(s\), \d'
        $prefix = $shipped[-1].Substring(0, $shipped[-1].Length - 1)
        $line = "Get-BinlogChain -Config '$Config' -File $prefix"
        (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText | Should -Be @($shipped | Where-Object { $_.StartsWith($prefix) })
    }

    It 'refuses a second shipper while one runs, with EcomDr.RepositoryLocked' {
        $script = "Import-Module '$env:ECOMDR_MODULE_MANIFEST'; Send-Binlog -Config '$Config' -Follow -MaxLag 1 | Out-Null"
        $child = Start-Process dotnet -ArgumentList @('pwsh', '-NoProfile', '-NonInteractive', '-Command', $script) -PassThru -WorkingDirectory $PSScriptRoot
        try {
            $deadline = [DateTime]::UtcNow.AddSeconds(30)
            while (-not (Test-Path (Join-Path $Root 'repo/prod/_locks/mysql-binlog.lock')) -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 50 }
            { Send-Binlog -Config $Config } | Should -Throw -ErrorId 'EcomDr.RepositoryLocked,*'
        }
        finally {
            $tree = @($child.Id)
            for ($i = 0; $i -lt $tree.Count; $i++) { $tree += @(& pgrep -P $tree[$i] | ForEach-Object { [int]$_ }) }
            & kill -9 @tree 2>$null
            $child.WaitForExit()
        }
    }

    It 'fails with EcomDr.BinlogGap naming the range when a binlog was purged before it was shipped' {
        $last = Get-BinlogChain -Config $Config | Select-Object -Last 1
        Wait-Task ($Server.ExecuteAsync("INSERT INTO ecommerce.alembic_version VALUES ('rev-lost'); FLUSH BINARY LOGS; INSERT INTO ecommerce.alembic_version VALUES ('rev-lost-2'); FLUSH BINARY LOGS", $null))
        $newest = [string](Wait-Task ($Server.ScalarAsync('SHOW MASTER STATUS', $null)))
        Invoke-Purge -Keep $newest -Gone $last.Next.File
        $oldest = [string](Wait-Task ($Server.ScalarAsync('SHOW BINARY LOGS', $null)))
        $err = $null
        try { Send-Binlog -Config $Config } catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -BeLike 'EcomDr.BinlogGap,*'
        $err.CategoryInfo.Category | Should -Be 'ResourceUnavailable'
        $err.Exception.Message | Should -Match ([regex]::Escape("$($last.Next)"))
        $err.Exception.Message | Should -Match ([regex]::Escape("oldest binlog starts at ${oldest}:4"))
        (Get-BinlogChain -Config $Config | Select-Object -Last 1).Id | Should -Be $last.Id

        $restart = @(Send-Binlog -Config $Config -StartNewChain)
        $restart[0].File | Should -Be $oldest
        $restart[0].Sequence | Should -Be 1
        $restart[0].ChainId | Should -Not -Be $last.ChainId
        @(Get-BinlogChain -Config $Config -All).ChainId | Select-Object -Unique | Should -HaveCount 2
    }
}

Describe 'A chain without a base backup, and removing the backups a recovery needs' {
    It 'fails Test-BinlogChain and Get-DrRpoStatus with no base backup, and refuses to remove the oldest base or the only full backup without -Force' {
        # The gap test left a new chain that no full backup lies on: nothing can be recovered from it.
        $report = Test-BinlogChain -Config $Config
        $report.Status | Should -Be 'Failed'
        $report.Breaks[0].Reason | Should -Match 'no complete full backup lies on the current binlog chain'
        $rpo = Get-DrRpoStatus -Config $Config -WarningVariable warned -WarningAction SilentlyContinue
        $rpo.Problem | Should -Match '^no base backup'
        $rpo.WithinObjective | Should -BeFalse
        $rpo.BaseBackupId | Should -BeNullOrEmpty
        "$warned" | Should -Match 'no base backup'

        $old = @(Get-DrBackup mysql-full -Config $Config)
        $old.Count | Should -Be 1 -Because 'the first test took one, on the earlier chain'
        $base = Invoke-MySqlFullBackup -Config $Config
        $null = Send-Binlog -Config $Config
        (Test-BinlogChain -Config $Config).Status | Should -Be 'Passed'
        (Get-DrRpoStatus -Config $Config).BaseBackupId | Should -Be $base.Id

        # The old backup lies on no current chain and another full backup exists: it goes without -Force.
        Remove-DrBackup $old[0].Id -Config $Config -Confirm:$false
        @(Get-DrBackup mysql-full -Config $Config).Id | Should -Be @($base.Id)

        # The only full backup, and the oldest on the chain: refused, saying what would be lost, nothing removed.
        $err = $null
        Remove-DrBackup $base.Id -Config $Config -Confirm:$false -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -BeLike 'EcomDr.BackupStillNeeded,*'
        $err[0].Exception.Message | Should -Match 'only complete mysql-full backup'
        $err[0].Exception.Message | Should -Match 'oldest full backup on the current binlog chain: the points in time from .* to now'
        @(Get-DrBackup mysql-full -Config $Config).Id | Should -Be @($base.Id)

        # -Force removes it, with the same warning; a new full backup gives the chain a base again.
        Remove-DrBackup $base.Id -Config $Config -Force -WarningVariable gone -WarningAction SilentlyContinue
        "$gone" | Should -Match 'only complete mysql-full backup'
        @(Get-DrBackup mysql-full -Config $Config) | Should -BeNullOrEmpty
        $null = Invoke-MySqlFullBackup -Config $Config
        $null = Send-Binlog -Config $Config
        (Test-BinlogChain -Config $Config).Status | Should -Be 'Passed'
    }
}

Describe 'Get-DrRpoStatus' {
    It 'reports zero exposure when every transaction is shipped, whatever else the binlog holds, and the age of the oldest unshipped transaction otherwise' {
        $null = Send-Binlog -Config $Config
        # A rotation leaves a ROTATE, a new file and MariaDB's BINLOG_CHECKPOINT unshipped: no transaction, nothing to lose.
        Wait-Task ($Server.ExecuteAsync('FLUSH BINARY LOGS', $null))
        $status = Get-DrRpoStatus -Config $Config -CheckServer
        $status.CaughtUp | Should -BeTrue
        $status.ExposureSeconds | Should -Be 0
        $status.ObjectiveSeconds | Should -Be 900
        $status.ServerPosition | Should -Not -Be $status.ShippedTo
        $status.ServerGtids | Should -Be (Wait-Task ($Server.ScalarAsync('SELECT @@GLOBAL.gtid_binlog_pos', $null)))

        # Two unshipped transactions, committed 2 and 1 minutes ago (the session's timestamp is what the binlog records):
        # the exposure is the age of the older one.
        $now = [DateTimeOffset]::UtcNow.ToUnixTimeSeconds()
        Wait-Task ($Server.ExecuteAsync("SET timestamp = $($now - 120); INSERT INTO ecommerce.alembic_version VALUES ('rev-unshipped-1'); SET timestamp = $($now - 60); INSERT INTO ecommerce.alembic_version VALUES ('rev-unshipped-2')", $null))
        $behind = Get-DrRpoStatus -Config $Config -CheckServer
        $behind.CaughtUp | Should -BeFalse
        $behind.OldestUnshipped.ToUnixTimeSeconds() | Should -Be ($now - 120)
        $behind.ExposureSeconds | Should -BeGreaterOrEqual 120
        $behind.ExposureSeconds | Should -BeLessThan 600
        $behind.ServerGtids | Should -Not -Be $behind.ShippedGtids
        $behind.WithinObjective | Should -BeTrue

        $null = Send-Binlog -Config $Config
        (Get-DrRpoStatus -Config $Config -CheckServer).ExposureSeconds | Should -Be 0
    }
}
