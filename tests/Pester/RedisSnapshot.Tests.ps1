# Backup-RedisSnapshot end to end: the packaged module against a real Redis (Debian's redis-server,
# started by the test kit), the RDB stored encrypted, given back by Expand-DrArtifact byte for byte,
# accepted by redis-check-rdb and loaded by a second redis-server; bad input refused before anything
# is written.
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestKit.ps1')
    Import-Module $env:ECOMDR_MODULE_MANIFEST -Force
    $script:Root = Join-Path ([IO.Path]::GetTempPath()) "ecomdr-pester-redis-$([guid]::NewGuid().ToString('N'))"
    New-Item -ItemType Directory $Root | Out-Null
    $script:Redis = Wait-Task ([EcomDr.TestKit.Servers.RedisServer]::StartAsync($null))
    $script:Port = $Redis.Port
    # The shop's kinds of data, through the stock client: 300 carts, 50 sessions with TTLs, a queue, a hash,
    # a sorted set, a set and a stream with a consumer group (355 keys in db 0), and 40 keys in db 2.
    $commands = @(
        foreach ($i in 1..300) { "SET cart:$i items=$i;total=$($i * 3)" }
        foreach ($i in 1..50) { "SET session:$i token-$i EX 3600" }
        "RPUSH queue:emails $((1..2000 | ForEach-Object { "mail-$_" }) -join ' ')"
        "HSET stock sku-1 10 sku-2 0 sku-3 7"
        "ZADD leaderboard 10 alice 20 bob 5 carol"
        "SADD tags new sale clearance"
        foreach ($i in 1..100) { "XADD orders * order $i status paid" }
        "XGROUP CREATE orders mailer 0"
        "SELECT 2"
        foreach ($i in 1..40) { "SET rate:$i $i" }
    )
    $commands | & redis-cli -p $Port | Out-Null
    $script:Config = Join-Path $Root 'ecomdr.json'
    $env:ECOMDR_PESTER_REDIS_PW = 'Redis!pw-1'
    @{
        schemaVersion = 1
        environments  = @{
            prod = @{
                redis        = @{ server = '127.0.0.1'; port = $Port; credential = @{ user = 'snapshot'; passwordEnv = 'ECOMDR_PESTER_REDIS_PW' }; databases = @(0, 2) }
                repositories = @{ primary = @{ type = 'filesystem'; path = 'repo' } }
                keys         = @(@{ type = 'localFile'; path = 'prod.key' })
                telemetry    = @{ textfile = 'textfile/ecomdr.prom' }
            }
        }
    } | ConvertTo-Json -Depth 8 | Set-Content $Config
    $null = New-DrKey -Config $Config
    & redis-cli -p $Port ACL SETUSER snapshot on '>Redis!pw-1' +sync +replconf +ping +info '+config|get' | Out-Null
    & redis-cli -p $Port ACL SETUSER nosync on '>nosync-pw' '~*' +@all -sync | Out-Null
    function Get-Objects { @(Get-ChildItem (Join-Path $Root 'repo') -Recurse -File -ErrorAction Ignore) }
}

AfterAll {
    Remove-Item env:ECOMDR_PESTER_REDIS_PW -ErrorAction Ignore
    if ($Redis) { Wait-Task ($Redis.DisposeAsync().AsTask()) }
    Remove-Item $Root -Recurse -Force -ErrorAction Ignore
}

Describe 'Backup-RedisSnapshot' {
    It 'refuses a wrong password, a user without +sync and a Redis that is not there, before anything is written: <Case>' -ForEach @(
        @{ Case = 'a wrong password'; Id = 'EcomDr.AuthenticationFailed'; Run = { Backup-RedisSnapshot 127.0.0.1 -Port $Port -Credential (New-TestCredential 'snapshot' 'nope') -Config $Config } }
        @{ Case = 'a user without +sync'; Id = 'EcomDr.PermissionDenied'; Run = { Backup-RedisSnapshot 127.0.0.1 -Port $Port -Credential (New-TestCredential 'nosync' 'nosync-pw') -Config $Config } }
        @{ Case = 'no Redis on that port'; Id = 'EcomDr.ConnectionFailed'; Run = { Backup-RedisSnapshot 127.0.0.1 -Port 1 -ReadTimeoutSeconds 5 -Config $Config } }
    ) {
        { & $Run } | Should -Throw -ErrorId "$Id,EcomDr.Commands.BackupRedisSnapshotCommand"
        Get-Objects | Should -BeNullOrEmpty
    }

    It 'takes the configured Redis with its ACL user, labels it from the RDB and warns of an expected database that is empty' {
        & redis-cli -p $Port -n 2 FLUSHDB | Out-Null
        $backup = Backup-RedisSnapshot -Config $Config -WarningVariable warnings
        "$($backup.Status)" | Should -Be 'Complete'
        $backup.Kind | Should -Be 'redis'
        $backup.Manifest.Labels['redis-ver'] | Should -Be ((& redis-server --version) -replace '.*v=(\S+).*', '$1')
        $backup.Manifest.Labels['keys'] | Should -Be 'db0=355'
        $backup.Manifest.Source['checksum'].ToString() | Should -Be 'verified'
        ($warnings -join "`n") | Should -Match 'Database 2 was expected'
        $metric = Get-DrMetric -Config $Config -Job redis-snapshot | Where-Object Name -eq 'ecomdr_job_success'
        $metric.Value | Should -Be 1
    }

    It 'Invoke-RedisSnapshot.ps1 takes and verifies the snapshot as a schedule runs it, with a non-zero exit code on failure' {
        $runbook = Join-Path (Split-Path $env:ECOMDR_MODULE_MANIFEST) 'Runbooks/Invoke-RedisSnapshot.ps1'
        $pwsh = [Environment]::ProcessPath
        $prefix = @(if ([IO.Path]::GetFileNameWithoutExtension($pwsh) -eq 'dotnet') { Join-Path $PSHOME 'pwsh.dll' })
        $out = & $pwsh @prefix -NoProfile -NonInteractive -File $runbook -Config $Config 2>&1
        $LASTEXITCODE | Should -Be 0 -Because ($out -join "`n")
        ($out -join "`n") | Should -Match 'Redis: snapshot \S+, \d+ bytes stored, keys db0=355, Redis \d+\.\d+\.\d+, checksum verified'
        ($out -join "`n") | Should -Match 'Verified: \S+ Passed'

        $env:ECOMDR_PESTER_REDIS_PW = 'wrong'
        try { $failed = & $pwsh @prefix -NoProfile -NonInteractive -File $runbook -Config $Config 2>&1 }
        finally { $env:ECOMDR_PESTER_REDIS_PW = 'Redis!pw-1' }
        $LASTEXITCODE | Should -Not -Be 0
        ($failed -join "`n") | Should -Match 'refused the login'
    }

    It 'Test-DrPrerequisite checks the login, the right to SYNC, the version and the settings a snapshot depends on' {
        $results = Test-DrPrerequisite -Config $Config | Where-Object Check -like 'Redis*'
        ($results | Where-Object Check -eq 'Redis login').Observed | Should -Be "as 'snapshot'"
        ($results | Where-Object Check -eq 'Redis version').Status | Should -Be 'Pass'
        ($results | Where-Object Check -eq 'Redis rdbchecksum').Status | Should -Be 'Pass'
        ($results | Where-Object Check -eq 'Redis repl-diskless-sync-delay').Observed | Should -Be '0 s (diskless sync)'
        ($results | Where-Object Check -eq 'Redis replica output buffer').Status | Should -Be 'Pass'
        # The least-privileged user cannot run ACL DRYRUN: the SYNC right is not proven, and it says how to check.
        $sync = $results | Where-Object Check -eq 'Redis SYNC right'
        $sync.Status | Should -Be 'Warn'
        $sync.Remediation | Should -Match 'ACL DRYRUN snapshot SYNC'

        & redis-cli -p $Port CONFIG SET repl-diskless-sync-delay 5 | Out-Null
        try {
            $changed = Test-DrPrerequisite -Config $Config | Where-Object Check -eq 'Redis repl-diskless-sync-delay'
            $changed.Status | Should -Be 'Warn'
            $changed.Remediation | Should -Match 'waits 5 s'
        }
        finally { & redis-cli -p $Port CONFIG SET repl-diskless-sync-delay 0 | Out-Null }
    }

    It 'keeps a snapshot of a server that writes no checksum, and says it is unverified' {
        # rdbchecksum cannot change at run time: a server started without it.
        $bare = Wait-Task ([EcomDr.TestKit.Servers.RedisServer]::StartAsync($null, @('--rdbchecksum', 'no')))
        try {
            'SET only-key 1', 'RPUSH list a b c' | & redis-cli -p $bare.Port | Out-Null
            $unverified = Backup-RedisSnapshot 127.0.0.1 -Port $bare.Port -Config $Config -WarningVariable warnings
            "$($unverified.Status)" | Should -Be 'Complete'
            $unverified.Manifest.Source['checksum'].ToString() | Should -Be 'unverified'
            ($warnings -join "`n") | Should -Match 'carries no checksum'
        }
        finally { Wait-Task ($bare.DisposeAsync().AsTask()) }
    }

    It 'gives the RDB back byte for byte: redis-check-rdb accepts it and a redis-server loads every key' {
        $commands = foreach ($i in 1..40) { "SET rate:$i $i" }
        ('SELECT 2', $commands) | ForEach-Object { $_ } | & redis-cli -p $Port | Out-Null
        $backup = Backup-RedisSnapshot 127.0.0.1 -Port $Port -Credential (New-TestCredential 'snapshot' 'Redis!pw-1') -Config $Config
        $out = Join-Path $Root 'expanded'
        $backup | Expand-DrArtifact -Destination $out -Config $Config | Out-Null
        $file = Join-Path $out 'dump.rdb'
        (Get-FileHash $file -Algorithm SHA256).Hash | Should -Be $backup.Manifest.Artifacts[0].PlainSha256.ToUpperInvariant()
        $report = & redis-check-rdb $file
        $LASTEXITCODE | Should -Be 0
        ($report -join "`n") | Should -Match 'RDB looks OK'

        $loaded = Wait-Task ([EcomDr.TestKit.Servers.RedisServer]::StartAsync($file))
        try {
            (& redis-cli -p $loaded.Port DBSIZE) | Should -Be 355
            (& redis-cli -p $loaded.Port -n 2 DBSIZE) | Should -Be 40
            (& redis-cli -p $loaded.Port LLEN queue:emails) | Should -Be 2000
            (& redis-cli -p $loaded.Port XINFO GROUPS orders)[1] | Should -Be 'mailer'
        }
        finally { Wait-Task ($loaded.DisposeAsync().AsTask()) }
    }
}

Describe 'Forensics without the production Redis' {
    It 'Get-RedisSnapshotKey lists the stored snapshot key by key without any server: the keys the server had, with types, lengths and TTLs' {
        $backup = Backup-RedisSnapshot -Config $Config -WarningAction SilentlyContinue
        $keys = @($backup | Get-RedisSnapshotKey -Config $Config)
        $live = @(& redis-cli -p $Port --scan) + @(& redis-cli -p $Port -n 2 --scan)
        @($keys.KeyText | Sort-Object) | Should -Be @($live | Sort-Object)
        $queue = Get-RedisSnapshotKey -Config $Config -Pattern 'queue:*'
        ($queue.KeyText, $queue.Type, $queue.Length) | Should -Be @('queue:emails', 'list', 2000)
        (Get-RedisSnapshotKey -Config $Config -Type stream).Length | Should -Be 100
        @(Get-RedisSnapshotKey -Config $Config -Database 2).Count | Should -Be 40
        $session = Get-RedisSnapshotKey -Config $Config -Pattern 'session:7'
        $session.Ttl.TotalMinutes | Should -BeGreaterThan 50
        $session.Ttl.TotalMinutes | Should -BeLessOrEqual 60
    }

    It 'Restore-RedisSnapshot loads the chosen keys into an empty Redis, refuses one that holds keys, and -WhatIf loads nothing' {
        $target = Wait-Task ([EcomDr.TestKit.Servers.RedisServer]::StartAsync($null))
        try {
            Restore-RedisSnapshot -TargetServer 127.0.0.1 -TargetPort $target.Port -Pattern 'cart:*' -Config $Config -WhatIf 6>$null | Should -BeNullOrEmpty
            (& redis-cli -p $target.Port DBSIZE) | Should -Be 0
            $loaded = Restore-RedisSnapshot -TargetServer 127.0.0.1 -TargetPort $target.Port -Pattern 'cart:*' -Config $Config -Force
            $loaded.Restored | Should -Be 300
            (& redis-cli -p $target.Port GET cart:7) | Should -Be 'items=7;total=21'
            { Restore-RedisSnapshot -TargetServer 127.0.0.1 -TargetPort $target.Port -Config $Config -Force } |
                Should -Throw -ErrorId 'EcomDr.TargetNotEmpty,EcomDr.Commands.RestoreRedisSnapshotCommand'
            (& redis-cli -p $target.Port DBSIZE) | Should -Be 300
            $replaced = Restore-RedisSnapshot -TargetServer 127.0.0.1 -TargetPort $target.Port -Pattern 'queue:*', 'session:*' -Replace -Config $Config -Force
            $replaced.Restored | Should -Be 51
            (& redis-cli -p $target.Port LLEN queue:emails) | Should -Be 2000
            [int](& redis-cli -p $target.Port TTL session:3) | Should -BeGreaterThan 0
        }
        finally { Wait-Task ($target.DisposeAsync().AsTask()) }
    }
}
