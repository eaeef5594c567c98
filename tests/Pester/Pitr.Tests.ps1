# Restore-MySqlPitr, Find-BinlogEvent, Test-MySqlRestore and Switch-MySqlSchema against a real
# MariaDB: the logical-deletion story (a mistaken purge of orders found in the shipped binlog, undone
# beside the live schema while it keeps taking writes, validated, swapped in and back), the review
# script, and bad input refused before any change.
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
    $script:Live = @{ Server = '127.0.0.1'; Port = $Server.Port; Credential = (New-TestCredential 'pitr' 'Pi!tr-123'); SslMode = 'None' }
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
    # The reference for Test-MySqlRestore: a copy of the shop at this point, kept out of the binlog.
    Wait-Task ([EcomDr.TestKit.Shop.ShopMistakes]::CopyOutsideBinlogAsync($Server.RootConnectionString, 'ecommerce', 'ecommerce_checkpoint'))

    # The mistake: a purge of old orders, run against production by accident, in one transaction.
    $script:PurgedOrders = [long](Wait-Task ($Server.ScalarAsync('SELECT COUNT(*) FROM ecommerce.orders WHERE id <= 40', $null)))
    $script:PurgedItems = [long](Wait-Task ($Server.ScalarAsync('SELECT COUNT(*) FROM ecommerce.order_items WHERE order_id <= 40', $null)))
    # The tables the purge deletes rows from: those holding rows of the first 40 orders (the workload decides which).
    $script:PurgedTables = @(
        'orders'
        foreach ($child in 'order_items', 'order_status_history', 'payments') {
            if ([long](Wait-Task ($Server.ScalarAsync("SELECT COUNT(*) FROM ecommerce.$child WHERE order_id <= 40", $null))) -gt 0) { $child }
        }
        if ([long](Wait-Task ($Server.ScalarAsync('SELECT COUNT(*) FROM ecommerce.refunds r JOIN ecommerce.payments p ON p.id = r.payment_id WHERE p.order_id <= 40', $null))) -gt 0) { 'refunds' }
    ) | Sort-Object
    Wait-Task ([EcomDr.TestKit.Shop.ShopMistakes]::PurgeOrdersAsync($Server.RootConnectionString, 'ecommerce', 40))
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
        $said = Restore-MySqlPitr -ToLatest -Config $Config -TargetSchema ecommerce_whatif @Target -WhatIf -Verbose 4>&1 |
            Where-Object { $_ -is [System.Management.Automation.VerboseRecord] } | ForEach-Object Message
        ($said -join "`n") | Should -Match 'Plan: .* up to the newest shipped transaction'
        Wait-Task ($Server.ScalarAsync("SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = 'ecommerce_whatif'", $null)) | Should -Be 0
    }

    It 'restores beside the live schema right before the mistaken DELETE, the live schema untouched' {
        $live = Get-ShopDigest 'ecommerce'
        $result = Restore-MySqlPitr -Config $Config -StopBeforeGtid $MistakeGtid -TargetSchema ecommerce_restore @Target -Force
        $result.GetType().FullName | Should -Be 'EcomDr.Engine.Sources.MySql.Pitr.PitrResult'
        $result.StoppedBecause | Should -Be "before GTID $MistakeGtid"
        $result.LastGtid | Should -Be $BeforeMistake.Gtid
        $result.BackupId | Should -Be $Full.Id
        $digest = Get-ShopDigest 'ecommerce_restore'
        foreach ($table in $BeforeMistake.Checksums.Keys) {
            $digest[$table] | Should -Be $BeforeMistake.Checksums[$table] -Because "$table is as it was right before the DELETE"
        }
        (Get-ShopDigest 'ecommerce')['order_status_history'] | Should -Be $live['order_status_history'] -Because 'the live schema is not touched'
        Wait-Task ($Server.ScalarAsync("SELECT state FROM ecomdr.restore_state WHERE schema_name = 'ecommerce_restore'", $null)) | Should -Be 'complete'
    }

    It 'writes the plan and the replay SQL for review with -OutputScriptOnly, runs nothing, and the script runs through the stock client to the same state' {
        $script = Join-Path $Root 'pitr-review.sql'
        $result = Restore-MySqlPitr -Config $Config -StopBeforeGtid $MistakeGtid -TargetSchema ecommerce_script @Target -OutputScriptOnly $script -Confirm:$false
        $result.StoppedBecause | Should -Be "before GTID $MistakeGtid"
        Test-Path "$script.partial" | Should -BeFalse
        $text = Get-Content $script -Raw
        $text | Should -Match "-- Plan: restore full backup $($Full.Id) \(.+\) into ecommerce -> ecommerce_script"
        $text | Should -Match "(?m)^DELIMITER /\*!\*/;$"
        $text | Should -Match "(?m)^BINLOG '"
        $text | Should -Match "-- Replay stops before GTID $([regex]::Escape($MistakeGtid))"
        Wait-Task ($Server.ScalarAsync("SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = 'ecommerce_script'", $null)) | Should -Be 0 -Because 'nothing is run'

        # The reviewed script is what would run: the full restore, then the script through mariadb, gives the same shop.
        $null = Restore-MySqlDatabase $Full.Id -Config $Config -TargetSchema ecommerce_script @Target -Force
        Get-Content $script -Raw | mariadb --host=127.0.0.1 --port=$($Server.Port) --user=root --protocol=TCP
        $LASTEXITCODE | Should -Be 0
        $digest = Get-ShopDigest 'ecommerce_script'
        foreach ($table in $BeforeMistake.Checksums.Keys) {
            $digest[$table] | Should -Be $BeforeMistake.Checksums[$table] -Because "$table through the script is as it was right before the purge"
        }
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

Describe 'Two-person approval of a restore into a protected target' {
    BeforeAll {
        # The same environment, with the server protected: bob may approve; the current user writes plans.
        $script:Keys = Join-Path $Root 'approvers'
        $script:Bob = New-DrKey -Approver -Name bob -Path (Join-Path $Keys 'bob.key')
        $script:Self = New-DrKey -Approver -Path (Join-Path $Keys 'self.key')   # named after this user, who writes the plans
        $json = Get-Content $Config -Raw | ConvertFrom-Json -AsHashtable
        $json.environments.prod.restore = @{
            requiredApprovals = 1; approvalHours = 24; protectedTargets = @("127.0.0.1:$($Server.Port)")
            approvers = @(@{ name = 'bob'; publicKey = $Bob.PublicKeyPath }, @{ name = [Environment]::UserName; publicKey = $Self.PublicKeyPath })
        }
        $script:Protected = Join-Path $Root 'protected.json'
        $json | ConvertTo-Json -Depth 8 | Set-Content $Protected
        $script:PlanFile = Join-Path $Root 'restore-plan.json'
        function Test-Schema([string] $Name) { [long](Wait-Task ($Server.ScalarAsync("SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = '$Name'", $null))) -gt 0 }
    }

    It 'refuses a restore without an approved plan, -Force or not, and changes nothing' {
        { Restore-MySqlPitr -Config $Protected -StopBeforeGtid $MistakeGtid -TargetSchema ecommerce_approved @Target -Force } |
            Should -Throw -ErrorId 'EcomDr.RestoreApprovalRequired,EcomDr.Commands.RestoreMySqlPitrCommand'
        Test-Schema 'ecommerce_approved' | Should -BeFalse
    }

    It 'writes the plan, which its author cannot approve and which does not run unapproved' {
        $file = Restore-MySqlPitr -Config $Protected -StopBeforeGtid $MistakeGtid -TargetSchema ecommerce_approved @Target -PlanOnly -Path $PlanFile
        $file.FullName | Should -Be $PlanFile
        $plan = Get-Content $PlanFile -Raw | ConvertFrom-Json
        $plan.plan.stop.stopBeforeGtid | Should -Be $MistakeGtid
        $plan.plan.schemaMap.ecommerce | Should -Be 'ecommerce_approved'
        $plan.plan.target | Should -Be "127.0.0.1:$($Server.Port)"
        $plan.plan.backup | Should -Be $Full.Id
        @($plan.plan.chain).Count | Should -BeGreaterThan 0
        $plan.digest | Should -Match '^[0-9a-f]{64}$'
        Test-Schema 'ecommerce_approved' | Should -BeFalse

        { Approve-DrRestorePlan $PlanFile -KeyFile $Self.Path -Confirm:$false } | Should -Throw -ErrorId 'EcomDr.RestorePlanSelfApproved,EcomDr.Commands.ApproveDrRestorePlanCommand'
        { Restore-MySqlPitr -Config $Protected -Plan $PlanFile @Target -Force } | Should -Throw -ErrorId 'EcomDr.RestoreApprovalRequired,EcomDr.Commands.RestoreMySqlPitrCommand'
        Test-Schema 'ecommerce_approved' | Should -BeFalse
    }

    It 'refuses a tampered plan and one that no longer matches what would run' {
        $approval = Approve-DrRestorePlan $PlanFile -KeyFile $Bob.Path -Confirm:$false
        $approval.Approver | Should -Be 'bob'
        $tampered = Join-Path $Root 'tampered-plan.json'
        (Get-Content $PlanFile -Raw) -replace 'ecommerce_approved', 'ecommerce_elsewhere' | Set-Content $tampered
        { Restore-MySqlPitr -Config $Protected -Plan $tampered @Target -Force } | Should -Throw -ErrorId 'EcomDr.RestorePlanTampered,EcomDr.Commands.RestoreMySqlPitrCommand'
        $elsewhere = $Target.Clone()
        $elsewhere.TargetServer = 'localhost'   # the same server by another name: not what was approved
        { Restore-MySqlPitr -Config $Protected -Plan $PlanFile @elsewhere -Force } | Should -Throw -ErrorId 'EcomDr.RestorePlanChanged,EcomDr.Commands.RestoreMySqlPitrCommand'
        { Restore-MySqlDatabase -Config $Protected -Plan $PlanFile @Target -Force } | Should -Throw -ErrorId 'EcomDr.RestorePlanChanged,EcomDr.Commands.RestoreMySqlDatabaseCommand'
        Test-Schema 'ecommerce_approved' | Should -BeFalse
    }

    It 'runs the approved plan: the restore it describes, exactly' {
        $result = Restore-MySqlPitr -Config $Protected -Plan $PlanFile @Target -Force
        $result.StoppedBecause | Should -Be "before GTID $MistakeGtid"
        $digest = Get-ShopDigest 'ecommerce_approved'
        foreach ($table in $BeforeMistake.Checksums.Keys) { $digest[$table] | Should -Be $BeforeMistake.Checksums[$table] }
    }

    It 'guards Restore-MySqlDatabase the same way' {
        { Restore-MySqlDatabase $Full.Id -Config $Protected -TargetSchema ecommerce_full @Target -Force } | Should -Throw -ErrorId 'EcomDr.RestoreApprovalRequired,EcomDr.Commands.RestoreMySqlDatabaseCommand'
        $databasePlan = Join-Path $Root 'database-plan.json'
        $null = Restore-MySqlDatabase $Full.Id -Config $Protected -TargetSchema ecommerce_full @Target -PlanOnly -Path $databasePlan
        $null = Approve-DrRestorePlan $databasePlan -KeyFile $Bob.Path -Confirm:$false
        $restored = Restore-MySqlDatabase -Config $Protected -Plan $databasePlan @Target -Force
        $restored.BackupId | Should -Be $Full.Id
        Test-Schema 'ecommerce_full' | Should -BeTrue
    }
}

Describe 'The logical-deletion story: find, restore beside, validate, swap' {
    BeforeAll {
        $script:Migrations = Join-Path $Root 'migrations'
        New-Item -ItemType Directory (Join-Path $Migrations 'versions') | Out-Null
        Set-Content (Join-Path $Migrations 'versions/1a_base.py') "revision = '1a0000000000'`ndown_revision = None`n"
        Set-Content (Join-Path $Migrations 'versions/2b_orders.py') "revision: str = '$([EcomDr.TestKit.Shop.ShopSchema]::AlembicRevision)'`ndown_revision: Union[str, None] = '1a0000000000'`n"
    }

    It 'Find-BinlogEvent finds the purge of orders with its GTID and row count, and each table it touched' {
        $found = @(Find-BinlogEvent orders -Config $Config -Schema ecommerce -Operation Delete)
        $found.Count | Should -Be 1
        $found[0].GetType().FullName | Should -Be 'EcomDr.Engine.Sources.MySql.Pitr.FoundBinlogEvent'
        $found[0].Gtid | Should -Be $MistakeGtid
        $found[0].Rows | Should -Be $PurgedOrders
        $found[0].Statement | Should -Match 'DELETE FROM ecommerce\.orders WHERE id <= 40'
        $items = @(Find-BinlogEvent -Config $Config -Table order_i* -Operation Delete -MinRows $PurgedItems)
        $items.Table | Should -Be 'order_items'
        $items[0].Rows | Should -Be $PurgedItems
        $PurgedTables.Count | Should -BeGreaterThan 2
        @(Find-BinlogEvent -Config $Config -Operation Delete | Where-Object Gtid -eq $MistakeGtid).Table | Sort-Object | Should -Be $PurgedTables
        @(Find-BinlogEvent orders -Config $Config -Operation Delete -Before $found[0].Time.AddSeconds(-1)).Count | Should -Be 0
        (Find-BinlogEvent -Config $Config -Operation Insert -Table orders | Measure-Object -Property Rows -Sum).Sum | Should -BeGreaterThan 0
    }

    It 'restores right before the purge while the shop keeps taking orders, validates against the reference, swaps in and back' {
        $liveBefore = Get-ShopDigest 'ecommerce'
        $workload = [EcomDr.TestKit.Shop.ShopWorkload]::Start($Server.RootConnectionString, 'ecommerce', 2, 50, 5)
        try {
            $result = Find-BinlogEvent orders -Config $Config -Operation Delete | Restore-MySqlPitr -Config $Config -TargetSchema ecommerce_story @Target -Force
        }
        finally { Wait-Task ($workload.StopAsync()) }
        $result.StoppedBecause | Should -Be "before GTID $MistakeGtid"
        (Wait-Task ($Server.ScalarAsync('SELECT COUNT(*) FROM ecommerce.orders', $null))) | Should -BeGreaterThan $liveBefore['orders'].Split(':')[0] -Because 'the live shop took orders meanwhile'

        $report = Test-MySqlRestore ecommerce_story @Live -Config $Config -ReferenceSchema ecommerce_checkpoint -MigrationsPath $Migrations
        $report.GetType().FullName | Should -Be 'EcomDr.Engine.Sources.MySql.Validation.ValidationReport'
        $report.Checks | ForEach-Object { $_.Passed | Should -BeTrue -Because "$($_.Name): $($_.Evidence)" }
        $report.Checks.Name | Should -Be @('Restore finished', 'Table set', 'Row counts', 'Checksums', 'Alembic revision')
        $report.Passed | Should -BeTrue
        $report.Tables.Count | Should -Be ([EcomDr.TestKit.Shop.ShopSchema]::Tables.Count)

        # The live schema, purged, fails the same comparison table by table.
        $purged = Test-MySqlRestore ecommerce @Live -Config $Config -ReferenceSchema ecommerce_checkpoint -AlembicHead 'not-the-head'
        $purged.Passed | Should -BeFalse
        ($purged.Mismatches | Where-Object Table -eq 'orders').Status | Should -Be 'RowCount'
        ($purged.Checks | Where-Object Name -eq 'Alembic revision').Passed | Should -BeFalse

        # Maintenance mode: the shop is stopped; the swap itself is one RENAME TABLE.
        $liveAtSwap = Get-ShopDigest 'ecommerce'
        $swap = Switch-MySqlSchema ecommerce_story ecommerce @Live -Config $Config -Force -InformationVariable said
        $swap.PreviousSchema | Should -Match '^ecommerce_pre_restore_\d{14}(_\d+)?$'
        $swap.SwapBack | Should -Be "Switch-MySqlSchema -From $($swap.PreviousSchema) -To ecommerce"
        "$said" | Should -Match ([regex]::Escape($swap.SwapBack))
        $swapped = Get-ShopDigest 'ecommerce'
        foreach ($table in $BeforeMistake.Checksums.Keys) { $swapped[$table] | Should -Be $BeforeMistake.Checksums[$table] -Because "$table is live again as before the purge" }
        $aside = Get-ShopDigest $swap.PreviousSchema
        foreach ($table in $liveAtSwap.Keys) { $aside[$table] | Should -Be $liveAtSwap[$table] -Because "the replaced $table is kept aside unchanged" }
        Wait-Task ($Server.ScalarAsync("SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = 'ecommerce_story'", $null)) | Should -Be 0
        foreach ($schema in 'ecommerce', $swap.PreviousSchema) {
            Wait-Task ($Server.ScalarAsync("SELECT COUNT(*) FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = '$schema' AND EVENT_OBJECT_TABLE = 'orders'", $null)) | Should -Be 1
            Wait-Task ($Server.ScalarAsync("SELECT COUNT(*) FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = '$schema'", $null)) | Should -Be 1
            Wait-Task ($Server.ScalarAsync("SELECT COUNT(*) FROM information_schema.EVENTS WHERE EVENT_SCHEMA = '$schema'", $null)) | Should -Be 1
            Wait-Task ($Server.ScalarAsync("SELECT COUNT(*) FROM ``$schema``.v_order_totals", $null)) | Should -Be (Wait-Task ($Server.ScalarAsync("SELECT COUNT(*) FROM ``$schema``.orders", $null)))
        }
        # The swapped-in trigger writes into the swapped-in history, not the one kept aside.
        $order = Wait-Task ($Server.ScalarAsync("SELECT MIN(id) FROM ecommerce.orders WHERE status <> 'cancelled'", $null))
        $history = Wait-Task ($Server.ScalarAsync("SELECT COUNT(*) FROM ``$($swap.PreviousSchema)``.order_status_history", $null))
        Wait-Task ($Server.ExecuteAsync("UPDATE ecommerce.orders SET status = 'cancelled', updated_at = NOW(6) WHERE id = $order", $null))
        Wait-Task ($Server.ScalarAsync("SELECT COUNT(*) FROM ecommerce.order_status_history WHERE order_id = $order AND new_status = 'cancelled'", $null)) | Should -Be 1
        Wait-Task ($Server.ScalarAsync("SELECT COUNT(*) FROM ``$($swap.PreviousSchema)``.order_status_history", $null)) | Should -Be $history
        Wait-Task ($Server.ScalarAsync("SELECT state FROM ecomdr.restore_state WHERE schema_name = 'ecommerce'", $null)) | Should -Be 'complete'

        # The printed command swaps back.
        $afterSwap = Get-ShopDigest 'ecommerce'
        $back = Switch-MySqlSchema -From $swap.PreviousSchema -To ecommerce @Live -Config $Config -Confirm:$false
        $restoredBack = Get-ShopDigest 'ecommerce'
        foreach ($table in $liveAtSwap.Keys) { $restoredBack[$table] | Should -Be $liveAtSwap[$table] -Because "$table is back as it was before the swap" }
        $back.PreviousSchema | Should -Not -Be $swap.PreviousSchema
        $againAside = Get-ShopDigest $back.PreviousSchema
        foreach ($table in $afterSwap.Keys) { $againAside[$table] | Should -Be $afterSwap[$table] }
    }

    It 'refuses to swap under -WhatIf, a missing schema, an unfinished restore, and a failed validation is reported, not thrown' {
        Switch-MySqlSchema ecommerce_checkpoint ecommerce @Live -Config $Config -WhatIf
        Wait-Task ($Server.ScalarAsync("SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = 'ecommerce_checkpoint'", $null)) | Should -Be 1
        { Switch-MySqlSchema no_such_schema ecommerce @Live -Config $Config -Force } | Should -Throw -ErrorId 'EcomDr.SchemaNotFound,*'
        { Switch-MySqlSchema ecommerce_checkpoint mysql @Live -Config $Config -Force } | Should -Throw -ErrorId 'EcomDr.InvalidArgument,*'
        { Test-MySqlRestore no_such_schema @Live -Config $Config } | Should -Throw -ErrorId 'EcomDr.SchemaNotFound,*'
        { Test-MySqlRestore ecommerce @Live -Config $Config -MigrationsPath (Join-Path $Root 'nothing-here') } | Should -Throw -ErrorId 'EcomDr.MigrationsInvalid,*'

        # A restore that never finished (its job was killed): marked running, never swapped in.
        Wait-Task ($Server.ExecuteAsync("REPLACE INTO ecomdr.restore_state (schema_name, state, backup_id, operation, started_at) VALUES ('ecommerce_checkpoint', 'running', 'b-killed', 'point-in-time recovery', UTC_TIMESTAMP(6))", $null))
        $err = $null
        try { Switch-MySqlSchema ecommerce_checkpoint ecommerce @Live -Config $Config -Confirm:$false } catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -BeLike 'EcomDr.RestoreIncomplete,*'
        $err.Exception.Message | Should -Match 'b-killed.*running'
        $check = Test-MySqlRestore ecommerce_checkpoint @Live -Config $Config
        $check.Passed | Should -BeFalse
        ($check.Checks | Where-Object Name -eq 'Restore finished').Evidence | Should -Match 'running'
        Wait-Task ($Server.ScalarAsync("SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'ecommerce_checkpoint'", $null)) | Should -Be ([EcomDr.TestKit.Shop.ShopSchema]::Tables.Count)
    }
}
