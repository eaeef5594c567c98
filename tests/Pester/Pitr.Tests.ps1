# Restore-MySqlPitr against a real MariaDB: the logical-deletion story (a mistaken DELETE undone
# beside the live schema while it keeps taking writes) and bad input refused before any change.
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestKit.ps1')
    Import-Module $env:ECOMDR_MODULE_MANIFEST -Force
    $script:Server = Wait-Task ([EcomDr.TestKit.Servers.MariaDbServer]::StartAsync())
    Wait-Task ([EcomDr.TestKit.Shop.ShopGenerator]::CreateAsync($Server.RootConnectionString, 'ecommerce', [EcomDr.TestKit.Shop.ShopSize]::new(200, 30, 1200), 9, 2))
    Wait-Task ($Server.CreateUserAsync('pitr', 'Pi!tr-123', [string[]]@('ALL PRIVILEGES ON *.*')))
    $script:Root = Join-Path ([IO.Path]::GetTempPath()) "ecomdr-pester-pitr-$([guid]::NewGuid().ToString('N'))"
    New-Item -ItemType Directory $Root | Out-Null
    $script:Config = Join-Path $Root 'ecomdr.json'
    @{
        schemaVersion = 1
        environments  = @{
            prod = @{
                mysql        = @{ server = '127.0.0.1'; port = $Server.Port; sslMode = 'None'; schemas = @('ecommerce'); credential = @{ user = 'pitr'; passwordEnv = 'ECOMDR_PESTER_PITR_PW' } }
                repositories = @{ primary = @{ type = 'filesystem'; path = 'repo' } }
                keys         = @(@{ type = 'localFile'; path = 'prod.key' })
            }
        }
    } | ConvertTo-Json -Depth 6 | Set-Content $Config
    $env:ECOMDR_PESTER_PITR_PW = 'Pi!tr-123'
    $null = New-DrKey -Config $Config
    $script:Target = @{ TargetServer = '127.0.0.1'; TargetPort = $Server.Port; TargetCredential = (New-TestCredential 'pitr' 'Pi!tr-123'); TargetSslMode = 'None' }
    function Get-ShopDigest([string] $Schema) { Wait-Task ([EcomDr.TestKit.Shop.ShopInspector]::ChecksumsAsync($Server.RootConnectionString, $Schema)) }

    $script:Full = Invoke-MySqlFullBackup -Config $Config
    # The shop takes orders; someone deletes order history by mistake; the shop goes on taking orders.
    $workload = [EcomDr.TestKit.Shop.ShopWorkload]::Start($Server.RootConnectionString, 'ecommerce', 2, 100, 3)
    Start-Sleep -Milliseconds 800
    Wait-Task ($workload.StopAsync())
    $script:BeforeMistake = [pscustomobject]@{
        Gtid      = [string](Wait-Task ($Server.ScalarAsync('SELECT @@gtid_binlog_pos', $null)))
        Checksums = Get-ShopDigest 'ecommerce'
    }
    Wait-Task ($Server.ExecuteAsync("DELETE FROM ecommerce.order_status_history WHERE order_id <= 300", $null))
    $script:MistakeGtid = [string](Wait-Task ($Server.ScalarAsync('SELECT @@gtid_binlog_pos', $null)))
    $workload = [EcomDr.TestKit.Shop.ShopWorkload]::Start($Server.RootConnectionString, 'ecommerce', 2, 100, 4)
    Start-Sleep -Milliseconds 800
    Wait-Task ($workload.StopAsync())
    $null = Send-Binlog -Config $Config -Rotate
}

AfterAll {
    Remove-Item env:ECOMDR_PESTER_PITR_PW -ErrorAction Ignore
    if ($Server) { Wait-Task ($Server.DisposeAsync().AsTask()) }
    Remove-Item $Root -Recurse -Force -ErrorAction Ignore
}

Describe 'Restore-MySqlPitr' {
    It 'shows the plan under -WhatIf and changes nothing' {
        Restore-MySqlPitr -Config $Config -StopBeforeGtid $MistakeGtid -TargetSchema ecommerce_whatif @Target -WhatIf
        Wait-Task ($Server.ScalarAsync("SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = 'ecommerce_whatif'", $null)) | Should -Be 0
    }

    It 'restores beside the live schema right before the mistaken DELETE, the live schema untouched' {
        $live = Get-ShopDigest 'ecommerce'
        $result = Restore-MySqlPitr -Config $Config -StopBeforeGtid $MistakeGtid -TargetSchema ecommerce_restore @Target -Force
        $result.GetType().FullName | Should -Be 'EcomDr.Engine.MySql.Pitr.PitrResult'
        $result.StoppedBecause | Should -Be "before GTID $MistakeGtid"
        $result.LastGtid | Should -Be $BeforeMistake.Gtid
        $result.BackupId | Should -Be $Full.Id
        $digest = Get-ShopDigest 'ecommerce_restore'
        foreach ($table in $BeforeMistake.Checksums.Keys) {
            $digest[$table] | Should -Be $BeforeMistake.Checksums[$table] -Because "$table is as it was right before the DELETE"
        }
        (Get-ShopDigest 'ecommerce')['order_status_history'] | Should -Be $live['order_status_history'] -Because 'the live schema is not touched'
    }

    It 'refuses, before any change, a target after the newest shipped event, a target before the oldest backup and an existing target schema' {
        $err = $null
        try { Restore-MySqlPitr ([DateTimeOffset]::UtcNow.AddHours(1)) -Config $Config -TargetSchema ecommerce_future @Target -Force } catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -BeLike 'EcomDr.TargetNotReachable,*'
        $err.Exception.Message | Should -Match 'best reachable point is binlog\.\d+:\d+ \(0-1-\d+\)'

        { Restore-MySqlPitr ([DateTimeOffset]::UtcNow.AddDays(-1)) -Config $Config -TargetSchema ecommerce_past @Target -Force } | Should -Throw -ErrorId 'EcomDr.BackupNotFound,*'
        { Restore-MySqlPitr -Config $Config -StopBeforeGtid $MistakeGtid -TargetSchema ecommerce_restore @Target -Confirm:$false } | Should -Throw -ErrorId 'EcomDr.TargetNotEmpty,*'
        foreach ($schema in 'ecommerce_future', 'ecommerce_past') {
            Wait-Task ($Server.ScalarAsync("SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = '$schema'", $null)) | Should -Be 0
        }
    }
}
