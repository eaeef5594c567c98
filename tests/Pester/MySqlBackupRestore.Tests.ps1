# Invoke-MySqlFullBackup and Restore-MySqlDatabase against a real MariaDB holding the sample shop.
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestKit.ps1')
    Import-Module $env:ECOMDR_MODULE_MANIFEST -Force
    $script:Server = Wait-Task ([EcomDr.TestKit.Servers.MariaDbServer]::StartAsync())
    Wait-Task ([EcomDr.TestKit.Shop.ShopGenerator]::CreateAsync($Server.RootConnectionString, 'ecommerce', [EcomDr.TestKit.Shop.ShopSize]::new(300, 40, 2500), 5, 2))
    Wait-Task ($Server.CreateUserAsync('ecomdr', 'Bk!pw-123', [string[]]@('SELECT, RELOAD, LOCK TABLES, REPLICATION CLIENT, REPLICATION SLAVE, SHOW VIEW, EVENT, TRIGGER ON *.*')))
    Wait-Task ($Server.CreateUserAsync('norel', 'Bk!pw-123', [string[]]@('SELECT, LOCK TABLES, REPLICATION CLIENT, SHOW VIEW, EVENT, TRIGGER ON *.*')))
    Wait-Task ($Server.CreateUserAsync('restorer', 'Rs!pw-456', [string[]]@('ALL PRIVILEGES ON *.*')))
    $script:Root = Join-Path ([IO.Path]::GetTempPath()) "ecomdr-pester-mysql-$([guid]::NewGuid().ToString('N'))"
    New-Item -ItemType Directory $Root | Out-Null
    $env:ECOMDR_PESTER_MYSQL_PW = 'Bk!pw-123'
    $script:Config = Join-Path $Root 'ecomdr.json'
    @{
        schemaVersion = 1
        environments  = @{
            prod = @{
                mysql        = @{ server = '127.0.0.1'; port = $Server.Port; sslMode = 'None'; schemas = @('ecommerce'); credential = @{ user = 'ecomdr'; passwordEnv = 'ECOMDR_PESTER_MYSQL_PW' } }
                repositories = @{ primary = @{ type = 'filesystem'; path = 'repo' } }
                keys         = @(@{ type = 'localFile'; path = 'prod.key' })
            }
        }
    } | ConvertTo-Json -Depth 6 | Set-Content $Config
    $null = New-DrKey -Config $Config
    $script:Restorer = New-TestCredential 'restorer' 'Rs!pw-456'
    $script:Target = @{ TargetServer = '127.0.0.1'; TargetPort = $Server.Port; TargetCredential = $Restorer; TargetSslMode = 'None' }
    function Get-ShopDigest([string] $Schema) { Wait-Task ([EcomDr.TestKit.Shop.ShopInspector]::ChecksumsAsync($Server.RootConnectionString, $Schema)) }
    $script:Backup = Invoke-MySqlFullBackup -Config $Config -ChunkRows 1000 -ThreadCount 2
}

AfterAll {
    Remove-Item env:ECOMDR_PESTER_MYSQL_PW -ErrorAction Ignore
    if ($Server) { Wait-Task ($Server.DisposeAsync().AsTask()) }
    Remove-Item $Root -Recurse -Force -ErrorAction Ignore
}

Describe 'Invoke-MySqlFullBackup' {
    It 'records the exact GTID position and per-table row counts, and verifies deeply' {
        $Backup.Status | Should -Be 'Complete'
        $Backup.Kind | Should -Be 'mysql-full'
        $Backup.Coordinates | Should -Match '^binlog\.\d{6}:\d+ / 0-1-\d+$'
        $Backup.Coordinates.Split(' / ')[1] | Should -Be ([string](Wait-Task ($Server.ScalarAsync('SELECT @@gtid_binlog_pos', $null))))
        $Backup.Manifest.Stats['tables']['ecommerce.orders']['rows'].GetValue[long]() | Should -Be 2500
        (Test-BackupIntegrity $Backup.Id -Config $Config -Deep).Status | Should -Be 'Passed'
    }

    It 'falls back with a warning when the user lacks RELOAD' {
        $cred = New-TestCredential 'norel' 'Bk!pw-123'
        $b = Invoke-MySqlFullBackup ecommerce -Config $Config -Server 127.0.0.1 -Port $Server.Port -Credential $cred -SslMode None -WarningVariable w -WarningAction SilentlyContinue
        $b.Status | Should -Be 'Complete'
        $w[0].Message | Should -Match 'lacks RELOAD'
        $b.Manifest.Stats['consistency'].GetValue[string]() | Should -Match 'binlog_snapshot'
        $b | Remove-DrBackup -Config $Config -Force
    }

    It 'shows whoever reads the repository no schema, table, server or host name, and no row count' {
        $folder = Join-Path $Root "repo/prod/mysql-full/$($Backup.Id)"
        $names = @(Get-ChildItem $folder -Recurse -File | ForEach-Object { [IO.Path]::GetRelativePath($folder, $_.FullName) })
        $names | Should -Contain 'manifest.json'
        $names | Where-Object { $_ -ne 'manifest.json' } | ForEach-Object { $_ | Should -Match '^\d{6}\.edr$' }
        # Random-looking values (ciphertext, wrapped keys, hashes, signature) are blanked: they may hold any short text by chance.
        $manifest = (Get-Content (Join-Path $folder 'manifest.json') -Raw) -replace '"(ciphertext|wrapped|nonce|storedSha256|value)": ?"[^"]*"', '"$1": ""'
        foreach ($hidden in @('ecommerce', 'customers', 'order_items', '127.0.0.1', '"host"', '"rows"', 'mariadb', 'plainSha256')) {
            $manifest | Should -Not -Match ([regex]::Escape($hidden)) -Because "'$hidden' describes the shop"
        }
        $manifest | Should -Match ([regex]::Escape('"binlogPosition": ' + $Backup.Coordinates.Split(' / ')[0].Split(':')[1]))
        # With the key, everything is there.
        $Backup.Manifest.Artifacts.Name | Should -Contain 'schema/ecommerce.tables.sql'
    }

    It 'refuses an explicit server without -Credential' {
        { Invoke-MySqlFullBackup -Config $Config -Server 127.0.0.1 } | Should -Throw -ErrorId 'EcomDr.InvalidArgument,*'
    }
}

Describe 'Restore-MySqlDatabase' {
    It 'changes nothing under -WhatIf' {
        $Backup | Restore-MySqlDatabase -Config $Config @Target -TargetSchema ecommerce_restore -WhatIf
        Wait-Task ($Server.ScalarAsync("SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = 'ecommerce_restore'", $null)) | Should -Be 0
    }

    It 'restores beside the live schema with identical table contents' {
        $result = $Backup | Restore-MySqlDatabase -Config $Config @Target -TargetSchema ecommerce_restore -Confirm:$false
        $result.Rows | Should -Be ($Backup.Manifest.Stats['rows'].GetValue[long]())
        $result.Schemas['ecommerce'] | Should -Be 'ecommerce_restore'
        $result.Coordinates | Should -Be $Backup.Coordinates.Replace(' / ', ' / ')
        $live = Get-ShopDigest 'ecommerce'
        $restored = Get-ShopDigest 'ecommerce_restore'
        foreach ($table in $live.Keys) { $restored[$table] | Should -Be $live[$table] -Because $table }
        ($result | Out-String -Width 200) | Should -Match 'ecommerce->ecommerce_restore'
    }

    It 'refuses a non-empty target before changing anything, and replaces it with -Force' {
        $err = $null
        try { Restore-MySqlDatabase $Backup.Id -Config $Config @Target -TargetSchema ecommerce_restore -Confirm:$false } catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -BeLike 'EcomDr.TargetNotEmpty,*'
        $err.CategoryInfo.Category | Should -Be 'ResourceExists'
        Wait-Task ($Server.ExecuteAsync('DELETE FROM ecommerce_restore.refunds', $null))
        $result = Restore-MySqlDatabase $Backup.Id -Config $Config @Target -TargetSchema ecommerce_restore -Table refunds -Force
        $result.Tables | Should -Be 1
        (Get-ShopDigest 'ecommerce_restore')['refunds'] | Should -Be (Get-ShopDigest 'ecommerce')['refunds']
    }

    It 'reports <Case> as <ErrorId> before writing anything' -ForEach @(
        @{ Case = 'an unknown backup id'; ErrorId = 'EcomDr.BackupNotFound'; Arguments = @{ Id = '20000101T000000Z-000000' } }
        @{ Case = 'wrong target credentials'; ErrorId = 'EcomDr.AuthenticationFailed'; Arguments = @{ WrongPassword = 'wrong-Pw-9' } }
        @{ Case = 'an unknown table'; ErrorId = 'EcomDr.TableNotFound'; Arguments = @{ Table = 'no_such_table' } }
    ) {
        $splat = @{ Id = $Backup.Id; Config = $Config; TargetSchema = 'never_created' } + $Target
        foreach ($key in $Arguments.Keys) { $splat[$key] = $Arguments[$key] }
        if ($splat.ContainsKey('WrongPassword')) { $splat.TargetCredential = New-TestCredential 'restorer' $splat.WrongPassword; $splat.Remove('WrongPassword') }
        $err = $null
        try { Restore-MySqlDatabase @splat -Confirm:$false } catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -BeLike "$ErrorId,*"
        ($err | Out-String) | Should -Not -Match 'Rs!pw-456'
        Wait-Task ($Server.ScalarAsync("SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = 'never_created'", $null)) | Should -Be 0
    }

    It 'refuses a backup whose manifest was tampered with' {
        $copy = Invoke-MySqlFullBackup -Config $Config
        $manifest = Join-Path $Root "repo/prod/mysql-full/$($copy.Id)/manifest.json"
        (Get-Content $manifest -Raw) -replace '"binlogPosition": (\d+)', '"binlogPosition": 4' | Set-Content $manifest -NoNewline
        $err = $null
        try { Restore-MySqlDatabase $copy.Id -Config $Config @Target -TargetSchema tampered -Confirm:$false -WarningAction SilentlyContinue } catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -BeLike 'EcomDr.ManifestInvalid,*'
        Wait-Task ($Server.ScalarAsync("SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = 'tampered'", $null)) | Should -Be 0
    }
}
