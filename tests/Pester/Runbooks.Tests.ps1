# The runbooks of module/Runbooks, run from the packaged module the way a scheduled task or cron job
# runs them (pwsh -NoProfile -NonInteractive -File, judged by the exit code), against real servers:
# each end to end, and -WhatIf changing nothing.
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestKit.ps1')
    Import-Module $env:ECOMDR_MODULE_MANIFEST -Force
    $script:Runbooks = Join-Path (Split-Path $env:ECOMDR_MODULE_MANIFEST) 'Runbooks'
    $script:Server = Wait-Task ([EcomDr.TestKit.Servers.MariaDbServer]::StartAsync())
    Wait-Task ([EcomDr.TestKit.Shop.ShopGenerator]::CreateAsync($Server.RootConnectionString, 'ecommerce', [EcomDr.TestKit.Shop.ShopSize]::new(200, 30, 1000), 13, 2))
    Wait-Task ($Server.CreateUserAsync('dba', 'Db@-pw-42', [string[]]@('ALL PRIVILEGES ON *.*')))
    $script:Root = Join-Path ([IO.Path]::GetTempPath()) "ecomdr-pester-runbooks-$([guid]::NewGuid().ToString('N'))"
    New-Item -ItemType Directory $Root | Out-Null
    $script:Config = Join-Path $Root 'ecomdr.json'
    @{
        schemaVersion = 1
        environments  = @{
            prod = @{
                mysql        = @{
                    server = '127.0.0.1'; port = $Server.Port; sslMode = 'None'; schemas = @('ecommerce'); credential = @{ user = 'dba'; passwordEnv = 'ECOMDR_RUNBOOK_PW' }
                    volumeSnapshot = @{ provider = 'directory'; directory = @{ path = 'volume-snapshots' } }
                }
                repositories = @{ primary = @{ type = 'filesystem'; path = 'primary' }; offsite = @{ type = 'filesystem'; path = 'offsite' } }
                files        = @{
                    infra      = @{ kind = 'infra'; paths = @('infra-src'); exclude = @('**/*.log'); stores = @('offsite') }
                    docs       = @{ kind = 'docs'; paths = @('shop-src/docs'); stores = @('offsite') }
                    migrations = @{ kind = 'migrations'; paths = @('shop-src/migrations') }
                }
                keys         = @(@{ type = 'localFile'; path = 'prod.key' })
                schedules    = @{ binlogShipIntervalMinutes = 5 }
                drill        = @{ pitrOffsetMinutes = 0; alembicHead = [EcomDr.TestKit.Shop.ShopSchema]::AlembicRevision }
                telemetry    = @{ textfile = 'textfile/ecomdr.prom' }
            }
        }
    } | ConvertTo-Json -Depth 6 | Set-Content $Config
    $env:ECOMDR_RUNBOOK_PW = 'Db@-pw-42'
    $null = New-DrKey -Config $Config

    # The runbook in a child pwsh, as a scheduled task runs it; its output and exit code.
    function Invoke-Runbook([string] $Name, [string[]] $Arguments) {
        $pwsh = [Environment]::ProcessPath
        # Under "dotnet pwsh" the process is dotnet: run pwsh.dll as an installed pwsh would.
        $prefix = @(if ([IO.Path]::GetFileNameWithoutExtension($pwsh) -eq 'dotnet') { Join-Path $PSHOME 'pwsh.dll' })
        $output = & $pwsh @prefix -NoProfile -NonInteractive -File (Join-Path $Runbooks $Name) @Arguments 2>&1 | ForEach-Object { "$_" }
        [pscustomobject]@{ ExitCode = $LASTEXITCODE; Output = ($output -join "`n") }
    }
    function Get-Count([string] $Kind, [string] $Store = 'primary') { @(Get-DrBackup $Kind -Config $Config -Store $Store).Count }
    function Get-Scalar([string] $Sql) { Wait-Task ($Server.ScalarAsync($Sql, $null)) }
}

AfterAll {
    Remove-Item env:ECOMDR_RUNBOOK_PW, env:ECOMDR_RUNBOOK_TARGET_PW -ErrorAction Ignore
    if ($Target) { Wait-Task ($Target.DisposeAsync().AsTask()) }
    if ($Server) { Wait-Task ($Server.DisposeAsync().AsTask()) }
    Remove-Item $Root -Recurse -Force -ErrorAction Ignore
}

Describe 'Scheduled runbooks' {
    It 'Invoke-DailyFullBackup -WhatIf backs up nothing' {
        $run = Invoke-Runbook 'Invoke-DailyFullBackup.ps1' @('-Config', $Config, '-WhatIf')
        $run.ExitCode | Should -Be 0 -Because $run.Output
        $run.Output | Should -Match 'What if: .*Step 2/4: full backup'
        Get-Count mysql-full | Should -Be 0
    }

    It 'Invoke-BinlogShipping ships the binlog and copies it offsite' {
        $run = Invoke-Runbook 'Invoke-BinlogShipping.ps1' @('-Config', $Config, '-CopyOffsite')
        $run.ExitCode | Should -Be 0 -Because $run.Output
        $run.Output | Should -Match 'Shipped \d+ segment\(s\), up to binlog\.\d+:\d+'
        Get-Count mysql-binlog | Should -BeGreaterThan 0
        Get-Count mysql-binlog offsite | Should -Be (Get-Count mysql-binlog)
    }

    It 'Invoke-DailyFullBackup checks, backs up, verifies and copies offsite' {
        $run = Invoke-Runbook 'Invoke-DailyFullBackup.ps1' @('-Config', $Config)
        $run.ExitCode | Should -Be 0 -Because $run.Output
        $run.Output | Should -Match 'Done: \S+ backed up, verified, copied to ''offsite'' and verified there'
        Get-Count mysql-full | Should -Be 1
        (Get-DrBackup mysql-full -Config $Config -Store offsite).Id | Should -Be (Get-DrBackup mysql-full -Config $Config).Id
        # Orders keep coming; the next shipping pass covers them.
        $workload = [EcomDr.TestKit.Shop.ShopWorkload]::Start($Server.RootConnectionString, 'ecommerce', 2, 100, 14)
        Start-Sleep -Milliseconds 1200
        Wait-Task ($workload.StopAsync())
        (Invoke-Runbook 'Invoke-BinlogShipping.ps1' @('-Config', $Config, '-CopyOffsite')).ExitCode | Should -Be 0
        $script:ShopAfterShipping = Wait-Task ([EcomDr.TestKit.Shop.ShopInspector]::ChecksumsAsync($Server.RootConnectionString, 'ecommerce'))
    }

    It 'Invoke-DailyRetention keeps what a fresh environment needs in both stores and purges no binlog inside the margin' {
        $before = @{ primary = @(Get-DrBackup -Config $Config).Count; offsite = @(Get-DrBackup -Config $Config -Store offsite).Count }
        $run = Invoke-Runbook 'Invoke-DailyRetention.ps1' @('-Config', $Config, '-PurgeServerBinlogs')
        $run.ExitCode | Should -Be 0 -Because $run.Output
        $run.Output | Should -Match "primary: $($before.primary) kept, 0 expired, 0 removed"
        $run.Output | Should -Match "offsite: $($before.offsite) kept, 0 expired, 0 removed"
        $run.Output | Should -Match 'Server binlogs: 0 of \d+ file\(s\) purgeable, purged'
        @(Get-DrBackup -Config $Config).Count | Should -Be $before.primary
        @(Get-DrBackup -Config $Config -Store offsite).Count | Should -Be $before.offsite
        # Each store's recoverable window, for the EcomDrRecoveryWindowShort alert.
        $metrics = Get-DrMetric -Config $Config -Job retention
        foreach ($store in 'primary', 'offsite') {
            $oldest = ($metrics | Where-Object { $_.Name -eq 'ecomdr_recovery_window_oldest_seconds' -and $_.Store -eq $store }).Value
            $newest = ($metrics | Where-Object { $_.Name -eq 'ecomdr_recovery_window_newest_seconds' -and $_.Store -eq $store }).Value
            $oldest | Should -Be (Get-DrBackup mysql-full -Config $Config -Store $store -Latest).Completed.ToUnixTimeSeconds()
            $newest | Should -BeGreaterOrEqual $oldest
            ($metrics | Where-Object { $_.Name -eq 'ecomdr_recovery_window_objective_seconds' -and $_.Store -eq $store }).Value | Should -Be (7 * 86400)
        }
    }

    It 'Invoke-WeeklyVolumeSnapshot takes the snapshot and records it in both stores; -WhatIf takes nothing' {
        $dry = Invoke-Runbook 'Invoke-WeeklyVolumeSnapshot.ps1' @('-Config', $Config, '-WhatIf')
        $dry.ExitCode | Should -Be 0 -Because $dry.Output
        $dry.Output | Should -Match 'No snapshot taken \(-WhatIf\)'
        Get-Count mysql-snapshot | Should -Be 0

        $run = Invoke-Runbook 'Invoke-WeeklyVolumeSnapshot.ps1' @('-Config', $Config)
        $run.ExitCode | Should -Be 0 -Because $run.Output
        $snapshot = Get-DrBackup mysql-snapshot -Config $Config -Latest
        $run.Output | Should -Match "Snapshot $($snapshot.Id) at binlog\.\d+:\d+ / 0-1-\d+: directory $($snapshot.Id), no offsite copy, commits blocked [\d.]+ s"
        $run.Output | Should -Match "Done: snapshot $($snapshot.Id) recorded in the primary store and in 'offsite'"
        (Get-DrBackup mysql-snapshot -Config $Config -Store offsite).Id | Should -Be $snapshot.Id
        Test-Path (Join-Path $Root "volume-snapshots/$($snapshot.Id)") | Should -BeTrue
        (Get-DrMetric -Config $Config -Job volume-snapshot | Where-Object Name -eq 'ecomdr_snapshot_freeze_seconds').Value | Should -BeGreaterThan 0
    }

    It 'Invoke-InfraBackup backs up the infra set, verifies it and copies it offsite; unchanged, it writes nothing; a secret fails it' {
        $nginx = New-Item -ItemType Directory (Join-Path $Root 'infra-src/nginx') -Force
        Set-Content (Join-Path $nginx 'nginx.conf') 'worker_processes auto;'
        Set-Content (Join-Path $nginx 'access.log') 'GET / 200'
        $run = Invoke-Runbook 'Invoke-InfraBackup.ps1' @('-Config', $Config)
        $run.ExitCode | Should -Be 0 -Because $run.Output
        $backup = Get-DrBackup infra -Config $Config -Latest
        $run.Output | Should -Match "infra: backup $($backup.Id), 1 file\(s\), verified"
        $run.Output | Should -Match "infra: copied to 'offsite' and verified there"
        (Get-DrBackup infra -Config $Config -Store offsite).Id | Should -Be $backup.Id

        $again = Invoke-Runbook 'Invoke-InfraBackup.ps1' @('-Config', $Config)
        $again.ExitCode | Should -Be 0 -Because $again.Output
        $again.Output | Should -Match "infra: Unchanged since infra backup $($backup.Id)"
        Get-Count infra | Should -Be 1
        # The set's schedule from the configuration (infra: weekly) goes with its metrics, for EcomDrFileBackupOverdue.
        Get-Content (Join-Path $Root 'textfile/ecomdr.prom') | Where-Object { $_ -like 'ecomdr_file_backup_interval_seconds{*kind="infra"*store="primary"}*' } | Should -Match ' 604800$'

        Set-Content (Join-Path $Root 'infra-src/.env') 'DB_PASSWORD=Sup3r-S3cret-Value'
        $refused = Invoke-Runbook 'Invoke-InfraBackup.ps1' @('-Config', $Config)
        $refused.ExitCode | Should -Not -Be 0
        $refused.Output | Should -Match 'infra-src/\.env: \.env file'
        $refused.Output | Should -Not -Match 'Sup3r-S3cret-Value'
        Remove-Item (Join-Path $Root 'infra-src/.env') -Force   # a dot file is hidden: -Force
        Get-Count infra | Should -Be 1
    }

    It 'Invoke-DocsBackup backs up the docs and migrations sets with their git labels; unchanged, it writes nothing' {
        $repo = Join-Path $Root 'shop-src'
        New-Item -ItemType Directory (Join-Path $repo 'docs/adr'), (Join-Path $repo 'migrations/versions') -Force | Out-Null
        Set-Content (Join-Path $repo 'docs/adr/0001-backups.md') '# ADR 1: backups and DR'
        Set-Content (Join-Path $repo 'migrations/versions/a1b2c3_orders.py') 'revision = "a1b2c3"'
        git -C $repo init -q -b main
        git -C $repo -c user.name=ci -c user.email=ci@example.invalid add -A
        git -C $repo -c user.name=ci -c user.email=ci@example.invalid commit -q -m 'docs and migrations'
        git -C $repo -c user.name=ci -c user.email=ci@example.invalid tag -a v1.4.0 -m 'release 1.4.0'
        $head = git -C $repo rev-parse HEAD
        # The CI's own revision variables would override what the work tree says: not for this run.
        $overrides = 'ECOMDR_GIT_COMMIT', 'GIT_COMMIT', 'GITHUB_SHA', 'BUILD_SOURCEVERSION', 'ECOMDR_GIT_TAG', 'GIT_TAG'
        $saved = @{}
        foreach ($name in $overrides) { $saved[$name] = [Environment]::GetEnvironmentVariable($name); [Environment]::SetEnvironmentVariable($name, $null) }
        try {
            $run = Invoke-Runbook 'Invoke-DocsBackup.ps1' @('-Config', $Config)
            $again = Invoke-Runbook 'Invoke-DocsBackup.ps1' @('-Config', $Config)
        }
        finally {
            foreach ($name in $overrides) { [Environment]::SetEnvironmentVariable($name, $saved[$name]) }
        }

        $run.ExitCode | Should -Be 0 -Because $run.Output
        $docs = Get-DrBackup docs -Config $Config -Latest
        $migrations = Get-DrBackup migrations -Config $Config -Latest
        $run.Output | Should -Match "docs: backup $($docs.Id), 1 file\(s\), verified"
        $run.Output | Should -Match "docs: copied to 'offsite' and verified there"
        $run.Output | Should -Match "migrations: backup $($migrations.Id), 1 file\(s\), verified"
        $run.Output | Should -Not -Match 'infra:' -Because 'the daily runbook runs the docs and migrations sets only'
        foreach ($backup in $docs, $migrations) {
            $backup.Manifest.Labels['gitCommit'] | Should -Be $head
            $backup.Manifest.Labels['gitTag'] | Should -Be 'v1.4.0'
            $backup.Manifest.Labels['gitBranch'] | Should -Be 'main'
            $backup.Manifest.Labels['gitDirty'] | Should -Be 'false'
        }
        Get-Content (Join-Path $Root 'textfile/ecomdr.prom') | Where-Object { $_ -like 'ecomdr_file_backup_interval_seconds{*kind="docs"*store="primary"}*' } | Should -Match ' 86400$'

        $again.ExitCode | Should -Be 0 -Because $again.Output
        $again.Output | Should -Match "docs: Unchanged since docs backup $($docs.Id)"
        $again.Output | Should -Match "migrations: Unchanged since migrations backup $($migrations.Id)"
        Get-Count docs | Should -Be 1
        Get-Count migrations | Should -Be 1
    }

    It 'Restore-InfraConfig restores the infra set, prints the redeploy with the versioned images, and loads Grafana' {
        Set-Content (Join-Path $Root 'infra-src/docker-compose.yml') "services:`n  api:`n    image: registry.example/shop-api:`${TAG:-1.42.0}`n  worker:`n    image: registry.example/shop-worker:1.42.0`n"
        $backedUp = Invoke-Runbook 'Invoke-InfraBackup.ps1' @('-Config', $Config)
        $backedUp.ExitCode | Should -Be 0 -Because $backedUp.Output
        $grafanas = @([EcomDr.TestKit.Servers.GrafanaStandIn]::Start(), [EcomDr.TestKit.Servers.GrafanaStandIn]::Start())
        try {
            $grafanas[0].AddDashboard([System.Text.Json.Nodes.JsonNode]::Parse('{"uid":"shop-overview","title":"Shop overview","panels":[{"id":1,"type":"stat"}]}').AsObject())
            $env:ECOMDR_RUNBOOK_GRAFANA_TOKEN = [EcomDr.TestKit.Servers.GrafanaStandIn]::Token
            $null = Export-GrafanaConfig $grafanas[0].Endpoint -TokenEnv ECOMDR_RUNBOOK_GRAFANA_TOKEN -Config $Config
            $into = Join-Path $Root 'restored-infra'
            $dry = Invoke-Runbook 'Restore-InfraConfig.ps1' @('-Config', $Config, '-Destination', $into, '-GrafanaUrl', $grafanas[1].Endpoint, '-TokenEnv', 'ECOMDR_RUNBOOK_GRAFANA_TOKEN', '-WhatIf')
            $dry.ExitCode | Should -Be 0 -Because $dry.Output
            Test-Path $into | Should -BeFalse
            $grafanas[1].Dashboard('shop-overview') | Should -BeNullOrEmpty

            $run = Invoke-Runbook 'Restore-InfraConfig.ps1' @('-Config', $Config, '-Destination', $into, '-GrafanaUrl', $grafanas[1].Endpoint, '-TokenEnv', 'ECOMDR_RUNBOOK_GRAFANA_TOKEN')
            $run.ExitCode | Should -Be 0 -Because $run.Output
            Get-Content (Join-Path $into 'infra-src/nginx/nginx.conf') | Should -Be 'worker_processes auto;'
            $run.Output | Should -Match 'docker-compose\.yml: registry\.example/shop-api:\$\{TAG:-1\.42\.0\}, registry\.example/shop-worker:1\.42\.0'
            $run.Output | Should -Match "docker compose -f 'docker-compose.yml' up -d --no-build"
            $run.Output | Should -Match 'Dashboard Created: 1'
            "$($grafanas[1].Dashboard('shop-overview')['title'])" | Should -Be 'Shop overview'
        }
        finally {
            Remove-Item env:ECOMDR_RUNBOOK_GRAFANA_TOKEN -ErrorAction Ignore
            foreach ($g in $grafanas) { $null = $g.DisposeAsync().AsTask().GetAwaiter().GetResult() }
        }
    }

    It 'a failing step fails the runbook with a non-zero exit code' {
        $run = Invoke-Runbook 'Invoke-DailyFullBackup.ps1' @('-Config', (Join-Path $Root 'missing.json'))
        $run.ExitCode | Should -Not -Be 0
        $run.Output | Should -Match 'missing\.json'
    }
}

Describe 'Drill runbooks' {
    It 'Invoke-MonthlyPitrDrill passes into a sandbox and writes its report' {
        $reports = Join-Path $Root 'reports'
        $run = Invoke-Runbook 'Invoke-MonthlyPitrDrill.ps1' @('-Config', $Config, '-ReportFolder', $reports)
        $run.ExitCode | Should -Be 0 -Because $run.Output
        $run.Output | Should -Match 'PITR drill PASSED: RTO [\d.]+ s \(objective 3600 s\), RPO [\d.]+ s \(objective 900 s\)'
        @(Get-ChildItem $reports -Filter *.md).Count | Should -Be 1
        @(Get-ChildItem $reports -Filter *.html).Count | Should -Be 1
        (Get-DrDrillReport Pitr -Config $Config).Verdict | Should -Be 'PASSED'
    }

    It 'Invoke-QuarterlyDisasterDrill passes from the offsite store; -WhatIf runs no drill' {
        $run = Invoke-Runbook 'Invoke-QuarterlyDisasterDrill.ps1' @('-Config', $Config, '-ReportFolder', (Join-Path $Root 'reports-q'), '-WhatIf')
        $run.ExitCode | Should -Be 0 -Because $run.Output
        $run.Output | Should -Match 'What if: .*TotalDisaster drill'
        @(Get-DrDrillReport TotalDisaster -Config $Config -Store offsite).Count | Should -Be 0
        $run = Invoke-Runbook 'Invoke-QuarterlyDisasterDrill.ps1' @('-Config', $Config, '-ReportFolder', (Join-Path $Root 'reports-q'))
        $run.ExitCode | Should -Be 0 -Because $run.Output
        (Get-DrDrillReport TotalDisaster -Config $Config -Store offsite).Store | Should -Be 'offsite'
    }
}

Describe 'Restore runbooks' {
    It 'Restore-TotalDisaster rebuilds the shop on a new node from the offsite store; -WhatIf leaves it empty' {
        $script:Target = Wait-Task ([EcomDr.TestKit.Servers.MariaDbServer]::StartAsync([EcomDr.TestKit.Servers.MariaDbOptions]@{ ServerId = 21; GtidDomainId = 21 }))
        Wait-Task ($Target.CreateUserAsync('dba', 'Tg@-pw-7', [string[]]@('ALL PRIVILEGES ON *.*')))
        $env:ECOMDR_RUNBOOK_TARGET_PW = 'Tg@-pw-7'
        $arguments = @('-Config', $Config, '-TargetServer', '127.0.0.1', '-TargetPort', $Target.Port, '-TargetSslMode', 'None', '-TargetUser', 'dba', '-TargetPasswordEnv', 'ECOMDR_RUNBOOK_TARGET_PW', '-AlembicHead', [EcomDr.TestKit.Shop.ShopSchema]::AlembicRevision)
        $run = Invoke-Runbook 'Restore-TotalDisaster.ps1' ($arguments + '-WhatIf')
        $run.ExitCode | Should -Be 0 -Because $run.Output
        Wait-Task ($Target.ScalarAsync("SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = 'ecommerce'", $null)) | Should -Be 0
        $run = Invoke-Runbook 'Restore-TotalDisaster.ps1' $arguments
        $run.ExitCode | Should -Be 0 -Because $run.Output
        $run.Output | Should -Match 'PASS ecommerce Alembic revision'
        $run.Output | Should -Match "database host 127\.0\.0\.1:$($Target.Port), schema\(s\) ecommerce"
        $restored = Wait-Task ([EcomDr.TestKit.Shop.ShopInspector]::ChecksumsAsync($Target.RootConnectionString, 'ecommerce'))
        foreach ($table in $ShopAfterShipping.Keys) { $restored[$table] | Should -Be $ShopAfterShipping[$table] -Because "$table is as shipped" }
    }

    It 'Restore-LogicalDeletion -WhatIf prints every step and changes nothing' {
        $script:Before = Wait-Task ([EcomDr.TestKit.Shop.ShopInspector]::ChecksumsAsync($Server.RootConnectionString, 'ecommerce'))
        Wait-Task ([EcomDr.TestKit.Shop.ShopMistakes]::PurgeOrdersAsync($Server.RootConnectionString, 'ecommerce', 30))
        (Invoke-Runbook 'Invoke-BinlogShipping.ps1' @('-Config', $Config)).ExitCode | Should -Be 0
        $script:Maintenance = Join-Path $Root 'maintenance.log'
        $script:Hooks = @('-MaintenanceOn', "Add-Content '$Maintenance' on", '-MaintenanceOff', "Add-Content '$Maintenance' off")
        $run = Invoke-Runbook 'Restore-LogicalDeletion.ps1' (@('-Config', $Config, '-FindTable', 'orders', '-AlembicHead', [EcomDr.TestKit.Shop.ShopSchema]::AlembicRevision, '-WhatIf') + $Hooks)
        $run.ExitCode | Should -Be 0 -Because $run.Output
        foreach ($step in 1..5) { $run.Output | Should -Match "Step $step/5" }
        $run.Output | Should -Match 'The mistake: Delete of 30 row\(s\) in ecommerce\.orders'
        $run.Output | Should -Match 'What if: .*maintenance mode on'
        $run.Output | Should -Match 'What if: .*Point-in-time recovery'
        $run.Output | Should -Match 'What if: Test-MySqlRestore ecommerce_restore -AlembicHead'
        $run.Output | Should -Match 'What if: Switch-MySqlSchema -From ecommerce_restore -To ecommerce'
        Test-Path $Maintenance | Should -BeFalse
        Get-Scalar "SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = 'ecommerce_restore'" | Should -Be 0
        Get-Scalar 'SELECT COUNT(*) FROM ecommerce.orders WHERE id <= 30' | Should -Be 0
    }

    It 'Restore-LogicalDeletion stops before the swap on a failed validation, maintenance left on' {
        $run = Invoke-Runbook 'Restore-LogicalDeletion.ps1' (@('-Config', $Config, '-FindTable', 'orders', '-RestoreSchema', 'ecommerce_badcheck', '-AlembicHead', 'not-the-head', '-Confirm:$false') + $Hooks)
        $run.ExitCode | Should -Not -Be 0
        $run.Output | Should -Match 'FAIL Alembic revision'
        $run.Output | Should -Match 'nothing was swapped'
        Get-Content $Maintenance | Should -Be @('on')
        Get-Scalar 'SELECT COUNT(*) FROM ecommerce.orders WHERE id <= 30' | Should -Be 0 -Because 'the live schema is untouched'
        Remove-Item $Maintenance
    }

    It 'Restore-LogicalDeletion finds the purge, restores before it, validates, swaps, and ends maintenance' {
        $run = Invoke-Runbook 'Restore-LogicalDeletion.ps1' (@('-Config', $Config, '-FindTable', 'orders', '-AlembicHead', [EcomDr.TestKit.Shop.ShopSchema]::AlembicRevision, '-Confirm:$false') + $Hooks)
        $run.ExitCode | Should -Be 0 -Because $run.Output
        $run.Output | Should -Match 'PASS Restore finished'
        $run.Output | Should -Match 'To swap back: Switch-MySqlSchema -From ecommerce_pre_restore_\d+ -To ecommerce'
        $run.Output | Should -Match 'Next: take a full backup now'
        Get-Content $Maintenance | Should -Be @('on', 'off')
        $now = Wait-Task ([EcomDr.TestKit.Shop.ShopInspector]::ChecksumsAsync($Server.RootConnectionString, 'ecommerce'))
        foreach ($table in $Before.Keys) { $now[$table] | Should -Be $Before[$table] -Because "$table is back as before the purge" }
    }
}
