# Invoke-MySqlVolumeSnapshot and Restore-MySqlPitr -FromSnapshot as an admin runs them, against a real
# MariaDB with the directory provider: a snapshot taken while the shop takes orders, the binlog shipped,
# the snapshot copied out, a server started on the copy and replayed to the newest shipped transaction.
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestKit.ps1')
    Import-Module $env:ECOMDR_MODULE_MANIFEST -Force
    $script:Server = Wait-Task ([EcomDr.TestKit.Servers.MariaDbServer]::StartAsync())
    Wait-Task ([EcomDr.TestKit.Shop.ShopGenerator]::CreateAsync($Server.RootConnectionString, 'ecommerce', [EcomDr.TestKit.Shop.ShopSize]::new(200, 30, 1200), 11, 2))
    Wait-Task ($Server.CreateUserAsync('snap', 'Sn!ap-123', [string[]]@('ALL PRIVILEGES ON *.*')))
    $script:Root = Join-Path ([IO.Path]::GetTempPath()) "ecomdr-pester-volsnap-$([guid]::NewGuid().ToString('N'))"
    New-Item -ItemType Directory $Root | Out-Null
    $script:Config = Join-Path $Root 'ecomdr.json'
    @{
        schemaVersion = 1
        environments  = @{
            prod = @{
                mysql        = @{
                    server = '127.0.0.1'; port = $Server.Port; sslMode = 'None'; schemas = @('ecommerce'); credential = @{ user = 'snap'; passwordEnv = 'ECOMDR_PESTER_SNAP_PW' }
                    volumeSnapshot = @{ provider = 'directory'; maxFreezeSeconds = 60; directory = @{ path = 'snapshots'; offsitePath = 'offsite' } }
                }
                repositories = @{ primary = @{ type = 'filesystem'; path = 'repo' } }
                keys         = @(@{ type = 'localFile'; path = 'prod.key' })
            }
        }
    } | ConvertTo-Json -Depth 6 | Set-Content $Config
    $env:ECOMDR_PESTER_SNAP_PW = 'Sn!ap-123'
    $null = New-DrKey -Config $Config
    # Every table's row count and checksum, as one comparable string.
    function Get-ShopDigest($On) { (Wait-Task ([EcomDr.TestKit.Shop.ShopInspector]::ChecksumsAsync($On.RootConnectionString, 'ecommerce'))).GetEnumerator().ForEach({ "$($_.Key)=$($_.Value)" }) -join ';' }

    $workload = [EcomDr.TestKit.Shop.ShopWorkload]::Start($Server.RootConnectionString, 'ecommerce', 2, 100, 5)
    try {
        $script:Snapshot = Invoke-MySqlVolumeSnapshot -Config $Config
        while ($workload.OrdersPlaced -lt 60) { Start-Sleep -Milliseconds 20 }
    }
    finally {
        Wait-Task ($workload.StopAsync())
    }
    $script:Final = [pscustomobject]@{
        Gtid      = [string](Wait-Task ($Server.ScalarAsync('SELECT @@gtid_binlog_pos', $null)))
        Checksums = Get-ShopDigest $Server
    }
    $null = Send-Binlog -Config $Config -Rotate
}

AfterAll {
    Remove-Item env:ECOMDR_PESTER_SNAP_PW -ErrorAction Ignore
    if ($Restored) { Wait-Task ($Restored.DisposeAsync().AsTask()) }
    if ($Server) { Wait-Task ($Server.DisposeAsync().AsTask()) }
    Remove-Item $Root -Recurse -Force -ErrorAction Ignore
}

Describe 'Invoke-MySqlVolumeSnapshot' {
    It 'writes a complete mysql-snapshot backup with its coordinates and the provider''s record' {
        $Final.Checksums | Should -Match "(^|;)orders=\d+:"
        $Snapshot.Kind | Should -Be 'mysql-snapshot'
        "$($Snapshot.Status)" | Should -Be 'Complete'
        $Snapshot.Coordinates | Should -Match '^binlog\.\d+:\d+ / 0-1-\d+$'
        @(Get-DrBackup mysql-snapshot -Config $Config).Id | Should -Be $Snapshot.Id
        Test-Path (Join-Path $Root "snapshots/$($Snapshot.Id)/ibdata1") | Should -BeTrue
        Test-Path (Join-Path $Root "offsite/$($Snapshot.Id)/ibdata1") | Should -BeTrue
    }

    It 'takes nothing under -WhatIf' {
        Invoke-MySqlVolumeSnapshot -Config $Config -WhatIf 6>$null
        @(Get-DrBackup mysql-snapshot -Config $Config).Count | Should -Be 1
        @(Get-ChildItem (Join-Path $Root 'snapshots')).Count | Should -Be 1
    }
}

Describe 'Restore-MySqlPitr -FromSnapshot' {
    It 'copies the snapshot out; a server started on it is recognized and replayed to the newest shipped transaction' {
        $into = Join-Path $Root 'restored-data'
        $info = Restore-MySqlPitr -FromSnapshot $Snapshot -RestoreDirectory $into -ToLatest -Config $Config -Force 6>&1
        "$info" | Should -BeLike "*Start a server on it*"
        Test-Path (Join-Path $into 'ibdata1') | Should -BeTrue
        $script:Restored = Wait-Task ([EcomDr.TestKit.Servers.MariaDbServer]::StartOnDataDirectoryAsync($into, [EcomDr.TestKit.Servers.MariaDbOptions]::new()))
        $target = @{ TargetServer = '127.0.0.1'; TargetPort = $Restored.Port; TargetCredential = (New-TestCredential 'snap' 'Sn!ap-123'); TargetSslMode = 'None' }

        # Not asked for: the target holds the snapshot's GTID state, so the recovery starts from it.
        $result = Restore-MySqlPitr -ToLatest -Config $Config @target -Force -Verbose 4>(Join-Path $Root 'verbose.txt')
        Get-Content (Join-Path $Root 'verbose.txt') -Raw | Should -BeLike "*holds volume snapshot $($Snapshot.Id)'s GTID state*"
        $result.BackupId | Should -Be $Snapshot.Id
        $result.LastGtid | Should -Be $Final.Gtid
        $result.Transactions | Should -BeGreaterThan 0
        Get-ShopDigest $Restored | Should -Be $Final.Checksums
        [string](Wait-Task ($Restored.ScalarAsync('SELECT @@gtid_binlog_pos', $null))) | Should -Be $Final.Gtid

        # Run again: the server no longer holds the snapshot's state, and nothing is replayed.
        { Restore-MySqlPitr -FromSnapshot $Snapshot.Id -ToLatest -Config $Config @target -Force } | Should -Throw -ErrorId 'EcomDr.SnapshotStateMismatch,EcomDr.Commands.RestoreMySqlPitrCommand'
        Get-ShopDigest $Restored | Should -Be $Final.Checksums
    }

    It 'refuses a schema mapping, which does not apply to a whole server' {
        { Restore-MySqlPitr -FromSnapshot $Snapshot.Id -ToLatest -TargetSchema ecommerce_copy -Config $Config -Force } | Should -Throw -ErrorId 'EcomDr.InvalidArgument,EcomDr.Commands.RestoreMySqlPitrCommand'
    }
}

Describe 'Start-DrDrill -FromSnapshot' {
    It 'drills a total disaster from the snapshot: a sandbox started on a copy, replayed to the newest shipped transaction, validated' {
        $report = Start-DrDrill TotalDisaster -FromSnapshot $Snapshot -Sandbox -Store primary -Config $Config -NoSave
        $report.Passed | Should -BeTrue -Because (($report.Failures | ForEach-Object ToString) -join '; ')
        $report.BackupId | Should -Be $Snapshot.Id
        $report.RestoredTo | Should -BeLike "* $($Final.Gtid)"
        ($report.Checks | Where-Object Name -eq 'GTID state of the snapshot').Passed | Should -BeTrue
        ($report.Checks | Where-Object Name -eq 'Server on the snapshot').Evidence | Should -BeLike '*crash recovery ran*'
        $report.Phases.Name | Should -Contain 'snapshot + server start'
        $report.FullRestoreBytes | Should -BeNullOrEmpty
    }

    It 'fails the drill, with the reason, on a server that was not started from the snapshot' {
        $live = @{ TargetServer = '127.0.0.1'; TargetPort = $Server.Port; TargetCredential = (New-TestCredential 'snap' 'Sn!ap-123'); TargetSslMode = 'None' }
        $report = Start-DrDrill Pitr -FromSnapshot $Snapshot.Id @live -ReferencePoint ([DateTimeOffset]::UtcNow) -Config $Config -NoSave
        $report.Passed | Should -BeFalse
        ($report.Failures | Where-Object Name -eq 'GTID state of the snapshot').Evidence | Should -BeLike "*holds GTID state '$($Final.Gtid)'*"
        Get-ShopDigest $Server | Should -Be $Final.Checksums
    }
}

