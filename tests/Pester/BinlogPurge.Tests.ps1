# Invoke-BinlogPurge against a real MariaDB with primary and offsite stores: a file shipped to one
# store only, a file inside the margin, and a file partly shipped are never purged, proven with
# SHOW BINARY LOGS before and after; files shipped whole to both stores go, and the chain still checks.
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestKit.ps1')
    Import-Module $env:ECOMDR_MODULE_MANIFEST -Force
    $script:Server = Wait-Task ([EcomDr.TestKit.Servers.MariaDbServer]::StartAsync())
    Wait-Task ([EcomDr.TestKit.Shop.ShopGenerator]::CreateAsync($Server.RootConnectionString, 'ecommerce', [EcomDr.TestKit.Shop.ShopSize]::new(100, 20, 300), 7, 2))
    Wait-Task ($Server.CreateUserAsync('purger', 'Pu!rge-42', [string[]]@('ALL PRIVILEGES ON *.*')))
    Wait-Task ($Server.CreateUserAsync('shipper', 'Sh!p-42', [string[]]@('SELECT, RELOAD, REPLICATION CLIENT, REPLICATION SLAVE ON *.*')))
    $script:Root = Join-Path ([IO.Path]::GetTempPath()) "ecomdr-pester-purge-$([guid]::NewGuid().ToString('N'))"
    New-Item -ItemType Directory $Root | Out-Null
    $env:ECOMDR_PESTER_PURGE_PW = 'Pu!rge-42'
    $script:Config = Join-Path $Root 'ecomdr.json'
    @{
        schemaVersion = 1
        environments  = @{
            prod = @{
                mysql        = @{ server = '127.0.0.1'; port = $Server.Port; sslMode = 'None'; credential = @{ user = 'purger'; passwordEnv = 'ECOMDR_PESTER_PURGE_PW' } }
                repositories = @{ primary = @{ type = 'filesystem'; path = 'primary' }; offsite = @{ type = 'filesystem'; path = 'offsite' } }
                keys         = @(@{ type = 'localFile'; path = 'prod.key' })
            }
        }
    } | ConvertTo-Json -Depth 6 | Set-Content $Config
    $null = New-DrKey -Config $Config

    # What the server itself says, through the stock client.
    function Get-ServerBinlogs {
        $lines = & mariadb '--protocol=tcp' '--host=127.0.0.1' "--port=$($Server.Port)" '--user=root' '--skip-column-names' '--batch' '--execute=SHOW BINARY LOGS'
        $LASTEXITCODE | Should -Be 0
        @($lines | ForEach-Object { $_.Split("`t")[0] })
    }
    function Write-Orders([int] $n) { Wait-Task ($Server.ExecuteAsync("INSERT INTO ecommerce.order_status_history (order_id, old_status, new_status, changed_at) SELECT id, status, status, NOW(6) FROM ecommerce.orders WHERE id <= $n", $null)) }
    function Invoke-Purge([hashtable] $Extra = @{}) { @(Invoke-BinlogPurge -Config $Config @Extra) }

    $null = Invoke-MySqlFullBackup -Config $Config
    # Three closed files with writes in each, and the file being written.
    # After a rotation MariaDB still needs the old file until the new one's BINLOG_CHECKPOINT: wait for that state.
    function Complete-Rotation { Wait-Task ($Server.ExecuteAsync('FLUSH BINARY LOGS', $null)); Wait-Task ($Server.WaitForQuietBinlogAsync()) }
    foreach ($i in 1..3) { Write-Orders (10 * $i); Complete-Rotation }
    Write-Orders 5
    $null = Send-Binlog -Config $Config
}

AfterAll {
    Remove-Item env:ECOMDR_PESTER_PURGE_PW -ErrorAction Ignore
    if ($Server) { Wait-Task ($Server.DisposeAsync().AsTask()) }
    Remove-Item $Root -Recurse -Force -ErrorAction Ignore
}

Describe 'Invoke-BinlogPurge' {
    It 'purges nothing while the files are shipped to the primary store only' {
        $before = Get-ServerBinlogs
        $before.Count | Should -BeGreaterOrEqual 4
        $plan = Invoke-Purge @{ MarginHours = 0; Force = $true }
        $plan.File | Should -Be $before
        $plan[0].Decision | Should -Be 'Keep'
        $plan[0].Reason | Should -Be 'not shipped to offsite'
        $plan[1].Reason | Should -Match '^after .*, which stays'
        $plan[-1].Reason | Should -Be 'the file the server is writing'
        Get-ServerBinlogs | Should -Be $before
    }

    It 'purges nothing inside the margin, and only reports under -WhatIf' {
        $null = Get-DrBackup -Config $Config | Copy-DrBackup -Config $Config -Destination offsite
        $before = Get-ServerBinlogs
        $inside = Invoke-Purge @{ MarginHours = 1000; Force = $true }
        $inside[0].Reason | Should -Match '^inside the 1000 h margin'
        Get-ServerBinlogs | Should -Be $before

        $whatIf = Invoke-Purge @{ MarginHours = 0; WhatIf = $true }
        @($whatIf | Where-Object Purge).File | Should -Be $before[0..($before.Count - 2)]
        Get-ServerBinlogs | Should -Be $before
    }

    It 'refuses a user without the purge privilege, then purges the files shipped whole to both stores, never a partly shipped one or the current one' {
        # The current file gets more writes and is closed, but its tail is not shipped.
        Write-Orders 7
        Complete-Rotation
        $before = Get-ServerBinlogs
        { Invoke-BinlogPurge -Config $Config -Server 127.0.0.1 -Port $Server.Port -Credential (New-TestCredential 'shipper' 'Sh!p-42') -SslMode None -MarginHours 0 -Force } |
            Should -Throw -ErrorId 'EcomDr.PermissionDenied,*'
        Get-ServerBinlogs | Should -Be $before

        $plan = @(Invoke-BinlogPurge -Config $Config -MarginHours 0 -Force -WarningVariable held)
        $held | Should -BeNullOrEmpty -Because 'the server had checkpointed past the purged files'
        $kept = $plan | Where-Object { -not $_.Purge } | Select-Object -First 1
        $kept.File | Should -Be $before[-2]
        $kept.Reason | Should -Match '^partly shipped to primary \([\d,]+ of [\d,]+ bytes\)$'
        Get-ServerBinlogs | Should -Be $before[-2..-1]
        # What was purged is all in the repository: the chain from the full backup still checks, in both stores.
        foreach ($store in 'primary', 'offsite') {
            $report = Test-BinlogChain -Config $Config -Store $store
            $report.Status | Should -Be 'Passed' -Because "$store`: $($report.Breaks -join '; ')"
        }
    }
}
