# One error catalogue: every error an EcomDr cmdlet raises, whatever raised it underneath (the
# engine, the MySQL driver, the wire client, the runtime), carries an EcomDr.* FullyQualifiedErrorId
# and a category. Each exported cmdlet is driven into failures against a real MariaDB and a real
# repository: bad input, a missing backup, a refused privilege, a dead server.
BeforeDiscovery {
    # Each failure: the cmdlet, what is done wrong, and the error id expected when it is specific. The blocks run
    # later, in the tests, where the servers and the repository of BeforeAll exist.
    $Failures = @(
        @{ Cmdlet = 'Approve-DrRestorePlan'; What = 'a plan file that does not exist'; Id = 'EcomDr.PathNotFound'; Run = { Approve-DrRestorePlan (Join-Path $Root 'no-plan.json') -KeyFile (Join-Path $Root 'no.key') -Confirm:$false } }
        @{ Cmdlet = 'Backup-DrFile'; What = 'a path that does not exist'; Id = 'EcomDr.PathNotFound'; Run = { Backup-DrFile -Path (Join-Path $Root 'missing') -Kind docs -Config $Config } }
        @{ Cmdlet = 'Backup-DrFile'; What = 'a folder holding an .env file'; Id = 'EcomDr.SecretFound'; Run = {
                $folder = New-Item -ItemType Directory (Join-Path $Root 'with-env') -Force
                Set-Content (Join-Path $folder '.env') 'DB_PASSWORD=not-for-backups'
                Backup-DrFile -Path $folder -Kind infra -Config $Config
            } }
        @{ Cmdlet = 'Backup-RedisSnapshot'; What = 'an environment without a redis source'; Id = 'EcomDr.SourceNotConfigured'; Run = { Backup-RedisSnapshot -Config $Config } }
        @{ Cmdlet = 'Backup-VaultSecret'; What = 'an environment without a vault section'; Id = 'EcomDr.SourceNotConfigured'; Run = { Backup-VaultSecret -Config $Config } }
        @{ Cmdlet = 'Copy-DrBackup'; What = 'a store that is not configured'; Run = { Copy-DrBackup -Id $Full.Id -Destination offsite -Config $Config } }
        @{ Cmdlet = 'Expand-DrArtifact'; What = 'a backup that does not exist'; Id = 'EcomDr.BackupNotFound'; Run = { Expand-DrArtifact -Id '20200101T000000Z-000000' -Destination (Join-Path $Root 'x') -Config $Config } }
        @{ Cmdlet = 'Expand-DrBinlog'; What = 'a file that exists already'; Id = 'EcomDr.DestinationExists'; Run = {
                $into = Join-Path $Root 'binlogs'
                $first = @(Get-BinlogChain -Config $Config | Expand-DrBinlog $into -Config $Config)
                $first.Count | Should -BeGreaterThan 0
                Get-BinlogChain -Config $Config | Expand-DrBinlog $into -Config $Config
            } }
        @{ Cmdlet = 'Export-DrDrillReport'; What = 'a folder that is a file'; Run = {
                # A drill against a server that is not there is a failed report, not an error: that report is exported.
                $report = Start-DrDrill -Kind Pitr -TargetServer '127.0.0.1' -TargetPort $Dead.TargetPort -TargetCredential $Dead.TargetCredential -Config $Config -NoSave
                $report.Passed | Should -BeFalse
                $file = Join-Path $Root 'a-file'
                Set-Content $file 'x'
                $report | Export-DrDrillReport -Path (Join-Path $file 'report.md')
            } }
        @{ Cmdlet = 'Export-GrafanaConfig'; What = 'an environment without a grafana section'; Id = 'EcomDr.SourceNotConfigured'; Run = { Export-GrafanaConfig -Config $Config } }
        @{ Cmdlet = 'Find-BinlogEvent'; What = 'a configuration file that does not exist'; Id = 'EcomDr.ConfigNotFound'; Run = { Find-BinlogEvent -Config (Join-Path $Root 'nope.json') } }
        @{ Cmdlet = 'Get-BinlogChain'; What = 'an environment that does not exist'; Id = 'EcomDr.EnvironmentNotFound'; Run = { Get-BinlogChain -Config $Config -Environment staging } }
        @{ Cmdlet = 'Get-DrBackup'; What = 'a configuration file that does not exist'; Id = 'EcomDr.ConfigNotFound'; Run = { Get-DrBackup -Config (Join-Path $Root 'nope.json') } }
        @{ Cmdlet = 'Get-DrDrillReport'; What = 'a store that is not configured'; Run = { Get-DrDrillReport -Config $Config -Store offsite } }
        @{ Cmdlet = 'Get-DrFileSet'; What = 'a configuration file that does not exist'; Id = 'EcomDr.ConfigNotFound'; Run = { Get-DrFileSet -Config (Join-Path $Root 'nope.json') } }
        @{ Cmdlet = 'Get-DrInventory'; What = 'a store that is not configured'; Id = 'EcomDr.StoreNotConfigured'; Run = { Get-DrInventory -Config $Config -Store offsite } }
        @{ Cmdlet = 'Get-DrMetric'; What = 'a configuration file that does not exist'; Id = 'EcomDr.ConfigNotFound'; Run = { Get-DrMetric -Config (Join-Path $Root 'nope.json') } }
        @{ Cmdlet = 'Get-DrRpoStatus'; What = 'a server that is not there'; Run = { Get-DrRpoStatus -Config $Config -Server '127.0.0.1' -Port $Dead.TargetPort -Credential $Dead.TargetCredential -SslMode None } }
        @{ Cmdlet = 'Get-DrRtoEstimate'; What = 'a store where no drill measured restore rates'; Id = 'EcomDr.BackupNotFound'; Run = { Get-DrRtoEstimate -Config $Config } }
        @{ Cmdlet = 'Get-RedisSnapshotKey'; What = 'a backup that does not exist'; Id = 'EcomDr.BackupNotFound'; Run = { Get-RedisSnapshotKey -Id '20200101T000000Z-000000' -Config $Config } }
        @{ Cmdlet = 'Invoke-BinlogPurge'; What = 'a server that is not there'; Id = 'EcomDr.ConnectionFailed'; Run = { Invoke-BinlogPurge -Config $Config -Server '127.0.0.1' -Port $Dead.TargetPort -Credential $Dead.TargetCredential -SslMode None -Force } }
        @{ Cmdlet = 'Invoke-DrRetention'; What = 'a configuration file that does not exist'; Id = 'EcomDr.ConfigNotFound'; Run = { Invoke-DrRetention -Config (Join-Path $Root 'nope.json') -Force } }
        @{ Cmdlet = 'Invoke-MySqlFullBackup'; What = 'a wrong password'; Id = 'EcomDr.AuthenticationFailed'; Run = { Invoke-MySqlFullBackup -Config $Config -Server '127.0.0.1' -Port $Server.Port -Credential (New-TestCredential 'owner' 'wrong') -SslMode None } }
        @{ Cmdlet = 'Invoke-MySqlVolumeSnapshot'; What = 'an environment without a volumeSnapshot section'; Id = 'EcomDr.SourceNotConfigured'; Run = { Invoke-MySqlVolumeSnapshot -Config $Config } }
        @{ Cmdlet = 'New-DrKey'; What = 'a key that exists already'; Id = 'EcomDr.KeyExists'; Run = { New-DrKey -Config $Config } }
        @{ Cmdlet = 'Remove-DrBackup'; What = 'a backup that does not exist'; Id = 'EcomDr.BackupNotFound'; Run = { Remove-DrBackup -Id '20200101T000000Z-000000' -Config $Config -Force } }
        @{ Cmdlet = 'Restore-DrFile'; What = 'a backup that does not exist'; Id = 'EcomDr.BackupNotFound'; Run = { Restore-DrFile -Id '20200101T000000Z-000000' -Destination (Join-Path $Root 'restored-files') -Config $Config } }
        @{ Cmdlet = 'Restore-DrFile'; What = 'a set the configuration does not have'; Id = 'EcomDr.SourceNotConfigured'; Run = { Restore-DrFile -Set infra -Destination (Join-Path $Root 'restored-files') -Config $Config } }
        @{ Cmdlet = 'Restore-GrafanaConfig'; What = 'a token variable that is not set'; Id = 'EcomDr.SecretNotFound'; Run = { Restore-GrafanaConfig -Path $Root -GrafanaUrl 'http://127.0.0.1:1/' -TokenEnv ECOMDR_NO_SUCH_TOKEN -Config $Config } }
        @{ Cmdlet = 'Restore-MySqlDatabase'; What = 'a user without the privileges a restore needs'; Id = 'EcomDr.PermissionDenied'; Run = { Restore-MySqlDatabase -Id $Full.Id -Config $Config @Reader -TargetSchema shop_copy -Force } }
        @{ Cmdlet = 'Restore-MySqlDatabase'; What = 'a server that is not there'; Id = 'EcomDr.ConnectionFailed'; Run = { Restore-MySqlDatabase -Id $Full.Id -Config $Config @Dead -TargetSchema shop_copy -Force } }
        @{ Cmdlet = 'Restore-MySqlPitr'; What = 'a GTID that is not one'; Id = 'EcomDr.InvalidStopPoint'; Run = { Restore-MySqlPitr -StopBeforeGtid 'banana;DROP' -Config $Config -TargetSchema shop_pitr -Force } }
        @{ Cmdlet = 'Restore-MySqlPitr'; What = 'a position that is not one'; Id = 'EcomDr.InvalidStopPoint'; Run = { Restore-MySqlPitr -StopAtPosition 'nope' -Config $Config -TargetSchema shop_pitr -Force } }
        @{ Cmdlet = 'Restore-MySqlPitr'; What = 'a -SkipGtid that is not one'; Id = 'EcomDr.InvalidStopPoint'; Run = { Restore-MySqlPitr -ToLatest -SkipGtid 'x' -Config $Config -TargetSchema shop_pitr -Force } }
        @{ Cmdlet = 'Restore-MySqlPitr'; What = 'a user without the privileges replay needs'; Id = 'EcomDr.PermissionDenied'; Run = { Restore-MySqlPitr -ToLatest -Config $Config @Reader -TargetSchema shop_pitr -Force } }
        @{ Cmdlet = 'Restore-RedisSnapshot'; What = 'no redis backup in the store'; Id = 'EcomDr.BackupNotFound'; Run = { Restore-RedisSnapshot -TargetServer 127.0.0.1 -TargetPort 1 -Config $Config -Force } }
        @{ Cmdlet = 'Restore-VaultSecret'; What = 'a repository without a secrets backup'; Id = 'EcomDr.BackupNotFound'; Run = { Restore-VaultSecret -Config $Config -VaultAddress 'http://127.0.0.1:1/' -Force } }
        @{ Cmdlet = 'Send-Binlog'; What = 'a start position that is not one'; Id = 'EcomDr.InvalidArgument'; Run = { Send-Binlog -Config $Config -StartNewChain -From 'x' } }
        @{ Cmdlet = 'Set-DrBackupHold'; What = 'a backup that does not exist'; Id = 'EcomDr.BackupNotFound'; Run = { Set-DrBackupHold -Id '20200101T000000Z-000000' -Reason 'case 1' -Config $Config } }
        @{ Cmdlet = 'Start-DrDrill'; What = 'a total-disaster drill without an offsite store'; Run = { Start-DrDrill -Kind TotalDisaster -TargetServer '127.0.0.1' -TargetPort $Dead.TargetPort -TargetCredential $Dead.TargetCredential -Config $Config -NoSave } }
        @{ Cmdlet = 'Switch-MySqlSchema'; What = 'a schema that does not exist'; Id = 'EcomDr.SchemaNotFound'; Run = { Switch-MySqlSchema -From nothing_here -To shop -Config $Config -Force } }
        @{ Cmdlet = 'Sync-VaultSecret'; What = 'a repository without a secrets backup'; Id = 'EcomDr.BackupNotFound'; Run = { Sync-VaultSecret -Config $Config -Force } }
        @{ Cmdlet = 'Test-BackupIntegrity'; What = 'a backup that does not exist'; Id = 'EcomDr.BackupNotFound'; Run = { Test-BackupIntegrity -Id '20200101T000000Z-000000' -Config $Config } }
        @{ Cmdlet = 'Test-BinlogChain'; What = 'a configuration file that does not exist'; Id = 'EcomDr.ConfigNotFound'; Run = { Test-BinlogChain -Config (Join-Path $Root 'nope.json') } }
        @{ Cmdlet = 'Test-DrJobLog'; What = 'a configuration file that does not exist'; Id = 'EcomDr.ConfigNotFound'; Run = { Test-DrJobLog -Config (Join-Path $Root 'nope.json') } }
        @{ Cmdlet = 'Test-DrPrerequisite'; What = 'a wrong password'; Id = 'EcomDr.AuthenticationFailed'; Run = { Test-DrPrerequisite -Server '127.0.0.1' -Port $Server.Port -Credential (New-TestCredential 'owner' 'wrong') -SslMode None } }
        @{ Cmdlet = 'Test-MySqlRestore'; What = 'a schema that does not exist'; Run = { Test-MySqlRestore -Schema nothing_here -ReferenceSchema shop -Config $Config } }
        @{ Cmdlet = 'Update-DrKey'; What = 'a key file that does not exist'; Id = 'EcomDr.KeyNotFound'; Run = { Update-DrKey -Config $Config -KeyFile (Join-Path $Root 'absent.key') -NewVersion -Confirm:$false } }
    )
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestKit.ps1')
    Import-Module $env:ECOMDR_MODULE_MANIFEST -Force
    $script:Server = Wait-Task ([EcomDr.TestKit.Servers.MariaDbServer]::StartAsync())
    Wait-Task ($Server.ExecuteAsync("CREATE DATABASE shop; CREATE TABLE shop.t (id INT PRIMARY KEY); INSERT INTO shop.t VALUES (1), (2)", $null))
    Wait-Task ($Server.CreateUserAsync('owner', 'Ow-ner-1', [string[]]@('ALL PRIVILEGES ON *.*')))
    # Reads everything, may change nothing: what a restore with too few privileges meets.
    Wait-Task ($Server.CreateUserAsync('reader', 'Re-ader-1', [string[]]@('SELECT ON *.*')))
    $script:Root = Join-Path ([IO.Path]::GetTempPath()) "ecomdr-pester-errors-$([guid]::NewGuid().ToString('N'))"
    New-Item -ItemType Directory $Root | Out-Null
    $script:Config = Join-Path $Root 'ecomdr.json'
    @{
        schemaVersion = 1
        environments  = @{
            prod = @{
                mysql        = @{ server = '127.0.0.1'; port = $Server.Port; sslMode = 'None'; schemas = @('shop'); credential = @{ user = 'owner'; passwordEnv = 'ECOMDR_PESTER_ERRORS_PW' } }
                repositories = @{ primary = @{ type = 'filesystem'; path = 'repo' } }
                keys         = @(@{ type = 'localFile'; path = 'prod.key' })
            }
        }
    } | ConvertTo-Json -Depth 6 | Set-Content $Config
    $env:ECOMDR_PESTER_ERRORS_PW = 'Ow-ner-1'
    $null = New-DrKey -Config $Config
    $script:Full = Invoke-MySqlFullBackup -Config $Config
    $null = Send-Binlog -Config $Config -Rotate
    $script:Reader = @{ TargetServer = '127.0.0.1'; TargetPort = $Server.Port; TargetCredential = (New-TestCredential 'reader' 'Re-ader-1'); TargetSslMode = 'None' }
    $script:Dead = @{ TargetServer = '127.0.0.1'; TargetPort = [EcomDr.TestKit.Servers.ServerProcess]::FreePort(); TargetCredential = (New-TestCredential 'owner' 'Ow-ner-1'); TargetSslMode = 'None' }
}

AfterAll {
    Remove-Item env:ECOMDR_PESTER_ERRORS_PW -ErrorAction Ignore
    if ($Server) { Wait-Task ($Server.DisposeAsync().AsTask()) }
    Remove-Item $Root -Recurse -Force -ErrorAction Ignore
}

Describe 'Errors' {
    It 'drives every exported cmdlet into a failure' -ForEach @{ Failures = $Failures } {
        $covered = $Failures.Cmdlet | Sort-Object -Unique
        $exported = (Get-Command -Module EcomDr -CommandType Cmdlet).Name | Sort-Object
        $covered | Should -Be $exported
    }

    It 'gives every error an EcomDr.* id and a category: <Cmdlet> with <What>' -ForEach $Failures {
        $errors = @()
        try { & $Run -ErrorAction Stop *>$null } catch { $errors += $_ }
        $errors | Should -Not -BeNullOrEmpty -Because "$Cmdlet with $What must fail"
        foreach ($e in $errors) {
            $e.FullyQualifiedErrorId | Should -BeLike 'EcomDr.*,EcomDr.Commands.*'
            $e.CategoryInfo.Category | Should -Not -Be 'NotSpecified'
            if ($Id) { $e.FullyQualifiedErrorId | Should -BeLike "$Id,*" }
            $e.Exception.Message | Should -Not -Match 'Re-ader-1|Ow-ner-1'
        }
    }

    It 'leaves nothing behind after the refused restores' {
        $schemas = @(Wait-Task ([EcomDr.TestKit.Differential.SchemaState]::SchemasAsync($Server.RootConnectionString)))
        $schemas | Should -Not -Contain 'shop_copy'
        $schemas | Should -Not -Contain 'shop_pitr'
    }
}

Describe 'Test-DrPrerequisite -Role Restore' {
    It 'fails a user that cannot restore, naming the GRANT that fixes each missing privilege, and passes one that can' {
        $reader = Test-DrPrerequisite -Server '127.0.0.1' -Port $Server.Port -Credential $Reader.TargetCredential -SslMode None -Role Restore -Schema shop_restore
        $failed = @($reader | Where-Object Status -eq 'Fail')
        $failed.Check | Should -Contain 'Privilege.Restore.Create'
        $failed.Check | Should -Contain 'Privilege.Restore.Insert'
        $failed.Check | Should -Contain 'Privilege.Restore.Records'
        $failed.Check | Should -Contain 'Privilege.Replay'
        $failed.Check | Should -Not -Contain 'Privilege.Restore.Select'
        ($failed | Where-Object Check -eq 'Privilege.Replay').Remediation | Should -Match '^GRANT BINLOG REPLAY ON \*\.\* TO reader@'
        ($failed | Where-Object Check -eq 'Privilege.Restore.Create').Remediation | Should -Match 'GRANT CREATE ON `shop_restore`\.\*'
        @($reader.Check) | Should -Not -Contain 'BinlogFormat' # a source's checks are not a restore target's

        $owner = Test-DrPrerequisite -Server '127.0.0.1' -Port $Server.Port -Credential (New-TestCredential 'owner' 'Ow-ner-1') -SslMode None -Role Restore
        @($owner | Where-Object Status -eq 'Fail') | Should -BeNullOrEmpty
    }
}
